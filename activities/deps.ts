import type { Db } from '../db/database';
import type { Logger } from '../lib/logger';
import type { Providers } from './providers';

/** What activity factories receive from the composition root (worker) or from tests. */
export interface ActivityDeps {
  db: Db;
  logger: Logger;
  providers: Providers;
}
