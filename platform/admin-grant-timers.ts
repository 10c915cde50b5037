import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { DbOrTx } from '../db/database';
import type { AdminSubscriptionGrantsTable } from '../db/types';
import type { Logger } from '../lib/logger';
import { DomainIdAttr, JobTypeAttr, UserIdAttr } from '../lib/search-attributes';
import type { PlanSlug } from '../schemas/billing';
import { ADMIN_GRANT_JOB_TYPE, ADMIN_GRANT_WORKFLOW_TYPE, adminGrantWorkflowId, type AdminGrantWorkflowInput } from '../workflows/admin-grant/contract';
import type { Selectable } from 'kysely';

type Grant = Pick<Selectable<AdminSubscriptionGrantsTable>, 'id' | 'user_id'>;

export const adminGrantSearchAttributes = (grant: Grant) =>
  new TypedSearchAttributes([
    { key: JobTypeAttr, value: ADMIN_GRANT_JOB_TYPE },
    { key: DomainIdAttr, value: grant.id },
    { key: UserIdAttr, value: grant.user_id },
  ]);

/** Starts the grant's expiry timer workflow, or joins the one already running. */
export async function startAdminGrantTimer(client: Client, taskQueue: string, grant: Grant, fallbackTier: PlanSlug): Promise<void> {
  const input: AdminGrantWorkflowInput = { grantId: grant.id, fallbackTier };
  await client.workflow.start(ADMIN_GRANT_WORKFLOW_TYPE, {
    workflowId: adminGrantWorkflowId(grant.id),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    typedSearchAttributes: adminGrantSearchAttributes(grant),
  });
}

/**
 * Gives every active grant its timer at worker start: grants written by SQL, seeds or an older
 * release have none, and would otherwise never expire. Running timers are joined, not restarted.
 */
export async function ensureAdminGrantTimers(db: DbOrTx, client: Client, taskQueue: string, logger: Logger): Promise<number> {
  const grants = await db
    .selectFrom('admin_subscription_grants as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .select(['g.id', 'g.user_id', 'u.subscription_tier'])
    .where('g.is_active', '=', true)
    .execute();
  for (const grant of grants) await startAdminGrantTimer(client, taskQueue, grant, grant.subscription_tier as PlanSlug);
  if (grants.length > 0) logger.info({ grants: grants.length }, 'admin grant timers ensured');
  return grants.length;
}
