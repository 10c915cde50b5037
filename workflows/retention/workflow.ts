import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { RetentionActivities } from '../../activities/retention';
import { RETENTION_TABLES, type RetentionResult } from '../../schemas/operations';
import { databaseWrites } from '../common/activity-options';
import { RETENTION_BATCHES_PER_CALL, RETENTION_CALLS_PER_RUN, type RetentionInput } from './contract';

const retention = proxyActivities<RetentionActivities>({
  ...databaseWrites(),
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
});

/**
 * Deletes the rows older than the policy's age table by table, in batches; a long backlog
 * continues as new (a table pruned before finds nothing left quickly). Returns rows deleted per table.
 */
export async function retentionWorkflow(input: RetentionInput): Promise<RetentionResult> {
  const totals = Object.fromEntries(RETENTION_TABLES.map((t) => [t, input.carried?.[t] ?? 0])) as RetentionResult;
  let calls = 0;
  for (const table of RETENTION_TABLES) {
    for (let more = true; more;) {
      if (calls++ >= RETENTION_CALLS_PER_RUN) return continueAsNew<typeof retentionWorkflow>({ policy: input.policy, carried: totals });
      const result = await retention.pruneExpiredRows({
        table,
        maxAgeSeconds: input.policy.maxAgeSeconds[table],
        batchSize: input.policy.batchSize,
        maxBatches: RETENTION_BATCHES_PER_CALL,
      });
      totals[table] += result.deleted;
      more = result.more;
    }
  }
  return totals;
}
