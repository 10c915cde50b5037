/** @type {import('jest').Config} */
const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: true } },
];
const project = { testEnvironment: 'node', transform: { '^.+\\.ts$': swc }, moduleFileExtensions: ['ts', 'js', 'json'] };
/** Tests that need neither PostgreSQL nor Temporal: pure logic and the ffmpeg toolkit. */
const UNIT_DIRS = ['<rootDir>/test/unit/', '<rootDir>/test/media/'];

module.exports = {
  // Jest runs a project's global setup only when one of its tests runs: `npm run test:unit`
  // (`--selectProjects unit`) starts nothing; plain `jest` starts one stack for the whole run.
  projects: [
    { ...project, displayName: 'unit', testMatch: UNIT_DIRS.map((dir) => `${dir}**/*.test.ts`) },
    {
      ...project,
      displayName: 'stack',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // test/cluster is its own tier (jest.cluster.config.js: the Go-built server, not the dev server).
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/', ...UNIT_DIRS],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
  ],
  testTimeout: 120000,
  maxWorkers: 2,
  // Temporal workers and pools close asynchronously; a file that leaks a handle must still end.
  forceExit: true,
  verbose: false,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};
