import { defineSignal } from '@temporalio/workflow';
import type { PlanSlug } from '../../schemas/billing';
import { defineRun } from '../common/run-definition';
import type { adminGrantWorkflow } from './workflow';

/** One workflow per admin grant: applies it, sleeps until it expires (or is revoked), then ends it. */
export const ADMIN_GRANT_WORKFLOW_TYPE = 'adminGrantWorkflow';
export const ADMIN_GRANT_JOB_TYPE = 'admin-grant';
export const adminGrantWorkflowId = (grantId: string): string => `admin-grant:${grantId}`;

/** Ends the grant now instead of at expires_at (sent with signalWithStart, so it also works after the run closed). */
export const revokeAdminGrantSignal = defineSignal('revokeAdminGrant');

export interface AdminGrantWorkflowInput {
  grantId: string;
  /** The tier a user without a live Stripe subscription returns to (their tier before the grant). */
  fallbackTier: PlanSlug;
}

export interface AdminGrantWorkflowResult {
  grantId: string;
  /** not_found: no such grant; inactive: it had already ended when the run started. */
  outcome: 'expired' | 'revoked' | 'inactive' | 'not_found';
}

/**
 * Started by the grant route and the worker-start sweep (joining a running timer), and by a
 * revoke with signalWithStart (a grant whose run has closed gets a short new one). The grantee
 * is passed by the starter; grants are not the user's jobs, so no job_runs row.
 */
export const adminGrantRun = defineRun<typeof adminGrantWorkflow>({
  workflowType: ADMIN_GRANT_WORKFLOW_TYPE,
  jobType: ADMIN_GRANT_JOB_TYPE,
  taskQueue: 'main',
  keysOf: (input) => ({ domainId: input.grantId }),
  idConflictPolicy: 'USE_EXISTING',
  idReusePolicy: 'ALLOW_DUPLICATE',
  registersJobRun: false,
  longLived: true,
  planPriority: false,
});
