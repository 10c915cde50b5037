import type { Db } from '../db/database';
import type { Logger } from '../lib/logger';

/** What activity factories receive from the composition root (worker) or from tests. */
export interface ActivityDeps {
  db: Db;
  logger: Logger;
}
