/** @type {import('jest').Config} */
// The cluster tier (`npm run test:cluster`, after the main run in `npm test`): the production
// topology — the Go-built Temporal server on PostgreSQL and worker processes — started once by
// its own global setup, so the main suite keeps its dev-server stack.
const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: true } },
];

module.exports = {
  displayName: 'cluster',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  testTimeout: 180000,
  maxWorkers: 1,
  forceExit: true,
  // Default reporter only: the main run's summary line stays the one closing `jest:` line.
  reporters: ['default'],
};
