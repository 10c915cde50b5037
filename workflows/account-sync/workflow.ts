import { proxyActivities } from '@temporalio/workflow';
import type { SocialEngagementActivities } from '../../activities/social-engagement';
import type { AccountSyncInput, AccountSyncResult } from '../../schemas/social-insights';
import { trackRun } from '../common/run-tracking';
import { asSocialAccount } from '../common/social-access';
import { ACCOUNT_SYNC_JOB_TYPE } from './contract';

// Rate limits and outages are retried with backoff (or the platform's Retry-After); auth and
// unsupported platforms fail at once.
const { syncAccountAnalytics } = proxyActivities<SocialEngagementActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 8 },
});

/**
 * One account's daily analytics: the day's figures from the platform's insights API, upserted as
 * the account's row of that day, with its follower count and last sync. Started by the account's
 * daily Schedule (the previous UTC day) or by `POST /v1/social-accounts/:id/sync`.
 */
export async function accountSyncWorkflow(input: AccountSyncInput): Promise<AccountSyncResult> {
  return trackRun({ type: ACCOUNT_SYNC_JOB_TYPE, userId: input.userId, domainId: input.socialAccountId }, async (run) => {
    await run.stage('syncing', 20);
    return asSocialAccount(input.socialAccountId, () =>
      syncAccountAnalytics({ socialAccountId: input.socialAccountId, ...(input.date ? { date: input.date } : {}) }),
    );
  });
}
