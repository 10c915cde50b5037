import { defineRun, USER_JOB } from '../common/run-definition';
import type { accountSyncWorkflow } from './workflow';

/** Daily analytics of a social account (ClipFlow): names shared by the worker, the API, the schedules and tests. */
export const ACCOUNT_SYNC_WORKFLOW_TYPE = 'accountSyncWorkflow';
export const ACCOUNT_SYNC_JOB_TYPE = 'account-sync';

/** One sync of an account at a time: `POST /v1/social-accounts/:id/sync` during a sync joins it. */
export const accountSyncWorkflowId = (socialAccountId: string): string => `account-sync:${socialAccountId}`;
/** The account's daily Schedule (per task-queue prefix, so parallel stacks never share one). */
export const accountSyncScheduleId = (socialAccountId: string, prefix = ''): string => `${prefix}account-sync:${socialAccountId}`;

/** Stored platforms whose adapters read daily account insights. */
export const INSIGHTS_PLATFORMS: readonly string[] = ['instagram', 'facebook', 'twitter'];

/**
 * The user's own sync (or the daily schedule's): kept in job_runs so it is listed with the
 * user's runs; a finished sync may run again (the day's row is upserted).
 */
export const accountSyncRun = defineRun<typeof accountSyncWorkflow>({
  workflowType: ACCOUNT_SYNC_WORKFLOW_TYPE,
  jobType: ACCOUNT_SYNC_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.socialAccountId }),
  ...USER_JOB,
  idReusePolicy: 'ALLOW_DUPLICATE',
  planPriority: false,
});
