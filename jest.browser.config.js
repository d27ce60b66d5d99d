// The browser suite (`npm run test:browser`): the console in Debian's Chromium driven by playwright-core,
// against a real broker, PostgreSQL, the dev Vault and a real OpenID provider. It needs the built console
// (the script builds it first) and /usr/bin/chromium; `npm test` does not run it.
const base = require('./jest.config.js');
const common = { ...base.projects[1] };
delete common.testMatch;

module.exports = {
  projects: [{ ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.test.ts'] }],
  testTimeout: 120000,
};
