import type { Client } from '@temporalio/client';
import type { Db } from '../db/database';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { TaskQueues } from '../lib/task-queues';

/** Everything the API needs; the composition root builds real ones, tests may swap pieces. */
export interface ApiDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  config: Config;
  taskQueues: TaskQueues;
  /** Provider name → URL of its running sandbox (npm start); else SANDBOX_URLS from the config. */
  sandboxUrls?: Record<string, string>;
  /** Reachability probes for /readyz. */
  ready?: () => Promise<void>;
}
