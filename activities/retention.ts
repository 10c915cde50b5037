import { heartbeat } from '@temporalio/activity';
import { pruneExpiredBatch } from '../db/repositories/retention';
import type { RetentionTable } from '../schemas/operations';
import type { ActivityDeps } from './deps';

export interface PruneRequest {
  table: RetentionTable;
  maxAgeSeconds: number;
  batchSize: number;
  /** DELETE statements per call: each its own short transaction, so no long lock is held. */
  maxBatches: number;
}

/** Retention: old rows deleted in batches (LIMIT n per statement), so a big backlog never locks a table for long. */
export function createRetentionActivities({ db, logger }: Pick<ActivityDeps, 'db' | 'logger'>) {
  return {
    /** Deletes up to maxBatches × batchSize expired rows of one table; `more` says a full batch was the last one. Deleting twice is harmless. */
    async pruneExpiredRows(req: PruneRequest): Promise<{ deleted: number; batches: number; more: boolean }> {
      let deleted = 0;
      let batches = 0;
      while (batches < req.maxBatches) {
        const n = await pruneExpiredBatch(db, req.table, req.maxAgeSeconds, req.batchSize);
        if (n > 0) batches += 1;
        deleted += n;
        heartbeat({ deleted });
        if (n < req.batchSize) {
          if (deleted > 0) logger.info({ table: req.table, deleted, batches }, 'retention pruned');
          return { deleted, batches, more: false };
        }
      }
      logger.info({ table: req.table, deleted, batches }, 'retention pruned (more due)');
      return { deleted, batches, more: true };
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
