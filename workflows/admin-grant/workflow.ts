import { getExternalWorkflowHandle, log, proxyActivities, setHandler, condition } from '@temporalio/workflow';
import type { AdminGrantActivities } from '../../activities/admin-grants';
import { refreshAccessSignal, subscriptionWorkflowId } from '../subscription/contract';
import { revokeAdminGrantSignal, type AdminGrantWorkflowInput, type AdminGrantWorkflowResult } from './contract';

const grants = proxyActivities<AdminGrantActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '30 seconds' },
});

/**
 * The life of one admin grant (`admin-grant:<grantId>`): while it is active it raises the
 * user's tier; a durable timer ends it at expires_at (a revoke signal ends it sooner), and the
 * user's tier then falls back to what their Stripe subscription gives (the subscription
 * workflow re-applies its own rules) or, without one, to the tier they had before.
 */
export async function adminGrantWorkflow(input: AdminGrantWorkflowInput): Promise<AdminGrantWorkflowResult> {
  let revoked = false;
  setHandler(revokeAdminGrantSignal, () => {
    revoked = true;
  });

  /** The tier follows the grants still active: through the subscription workflow when there is one. */
  async function refreshAccess(userId: string): Promise<void> {
    const access = await grants.applyAdminGrantAccess({ userId, fallbackTier: input.fallbackTier });
    if (!access.stripeSubscriptionId) return;
    try {
      await getExternalWorkflowHandle(subscriptionWorkflowId(access.stripeSubscriptionId)).signal(refreshAccessSignal);
    } catch (err) {
      // Its run has ended (the subscription is over): nothing there still raises or keeps the tier.
      log.warn('subscription workflow not reachable for an access refresh', {
        stripeSubscriptionId: access.stripeSubscriptionId,
        error: String(err),
      });
      await grants.applyAdminGrantAccess({ userId, fallbackTier: input.fallbackTier, ignoreSubscription: true });
    }
  }

  const grant = await grants.loadAdminGrant({ grantId: input.grantId });
  if (!grant) return { grantId: input.grantId, outcome: 'not_found' };
  if (!grant.active) return { grantId: input.grantId, outcome: 'inactive' };

  if (!revoked) {
    await refreshAccess(grant.userId);
    if (grant.expiresAt === null) await condition(() => revoked);
    else {
      const remaining = Date.parse(grant.expiresAt) - Date.now();
      if (remaining > 0) await condition(() => revoked, remaining);
    }
  }
  await grants.deactivateAdminGrant({ grantId: input.grantId, revoked });
  await refreshAccess(grant.userId);
  return { grantId: input.grantId, outcome: revoked ? 'revoked' : 'expired' };
}
