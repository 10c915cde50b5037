import { proxyActivities } from '@temporalio/workflow';
import type { SocialEngagementActivities } from '../../activities/social-engagement';
import { FailureType } from '../../schemas/failures';
import { databaseWrites } from './activity-options';
import { describeFailure } from './failures';

const { handleAccountAccessLost } = proxyActivities<SocialEngagementActivities>(databaseWrites());

/** Whether a failure is the platform refusing the account (ProviderAuth). */
export const isAccessLost = (err: unknown): boolean => describeFailure(err).type === FailureType.ProviderAuth;

/**
 * Runs a step that acts as a social account. When the platform lost the account's authorization
 * (ProviderAuth: refresh refused, token refused), the account is revoked — marked, its Schedules
 * paused, its owner emailed once — before the failure goes on.
 */
export async function asSocialAccount<T>(socialAccountId: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (isAccessLost(err)) await handleAccountAccessLost({ socialAccountId });
    throw err;
  }
}
