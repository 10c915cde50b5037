import { defineSignal } from '@temporalio/workflow';
import type { PlanSlug } from '../../schemas/billing';

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
