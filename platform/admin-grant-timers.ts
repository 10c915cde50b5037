import type { Client } from '@temporalio/client';
import type { DbOrTx } from '../db/database';
import type { Logger } from '../lib/logger';
import type { TaskQueues } from '../lib/task-queues';
import { startDefinedWorkflow } from '../api/workflow-starts';
import type { PlanSlug } from '../schemas/billing';
import { adminGrantRun, adminGrantWorkflowId } from '../workflows/admin-grant/contract';

/**
 * Gives every active grant its timer at worker start: grants written by SQL, seeds or an older
 * release have none, and would otherwise never expire. Running timers are joined, not restarted.
 */
export async function ensureAdminGrantTimers(db: DbOrTx, client: Client, queues: TaskQueues, logger: Logger): Promise<number> {
  const grants = await db
    .selectFrom('admin_subscription_grants as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .select(['g.id', 'g.user_id', 'u.subscription_tier'])
    .where('g.is_active', '=', true)
    .execute();
  for (const grant of grants) {
    const fallbackTier = grant.subscription_tier as PlanSlug;
    await startDefinedWorkflow(client, queues, adminGrantRun, {
      workflowId: adminGrantWorkflowId(grant.id),
      args: [{ grantId: grant.id, fallbackTier }],
      userId: grant.user_id,
    });
  }
  if (grants.length > 0) logger.info({ grants: grants.length }, 'admin grant timers ensured');
  return grants.length;
}
