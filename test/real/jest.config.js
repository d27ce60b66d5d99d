// `npm run test:real`: the story, key rotation and the Vault contract suite against a real SPIRE and a
// real OpenBao from the tools cache (scripts/install-tools). A missing tool fails the run in global setup.
const path = require('node:path');
const base = require('../../jest.config.js');
const common = base.projects[0];

module.exports = {
  rootDir: path.resolve(__dirname, '../..'),
  displayName: 'real',
  transform: common.transform,
  transformIgnorePatterns: common.transformIgnorePatterns,
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/helpers/v8-flags.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: common.moduleNameMapper,
  testMatch: ['<rootDir>/test/real/**/*.test.ts', '<rootDir>/test/contract/**/*.test.ts'],
  globalSetup: '<rootDir>/test/real/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/real/support/global-teardown.ts',
  testTimeout: 180000,
};
