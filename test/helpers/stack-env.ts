/** Environment variables through which global setup hands the shared test stack to test files. */
export const STACK_ENV = {
  pgServerUrl: 'TEST_PG_SERVER_URL',
  temporalAddress: 'TEST_TEMPORAL_ADDRESS',
  templateDb: 'TEST_TEMPLATE_DB',
  workflowBundlePath: 'TEST_WORKFLOW_BUNDLE_PATH',
} as const;

/** Where a test's PostgreSQL server (with a migrated template database) and Temporal server live. */
export interface TestStack {
  pgServerUrl: string;
  templateDb: string;
  temporalAddress: string;
}

/** The stack global setup started for the whole run. */
export function sharedStack(): TestStack {
  return { pgServerUrl: stackValue('pgServerUrl'), templateDb: stackValue('templateDb'), temporalAddress: stackValue('temporalAddress') };
}

export function stackValue(name: keyof typeof STACK_ENV): string {
  const value = process.env[STACK_ENV[name]];
  if (!value) throw new Error(`${STACK_ENV[name]} is not set: run tests through jest (global setup starts PostgreSQL and Temporal)`);
  return value;
}
