import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What ties a log line to a request and a run: set per API request (requestId) and per activity
 * execution (workflowId, runId, activityType, and the requestId/userId the run was started with).
 * Every pino logger of createLogger() adds the current one to each line, so one grep of a
 * requestId or workflowId follows a run from the API through its workflow and activities.
 */
export interface LogContext {
  requestId?: string;
  userId?: string;
  workflowId?: string;
  runId?: string;
  workflowType?: string;
  activityType?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `context` added to every log line written inside it (including across awaits). */
export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, fn);
}

/** The context of the code running now; empty outside a request or an activity. */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}
