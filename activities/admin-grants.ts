import { ApplicationFailure } from '@temporalio/common';
import { deactivateAdminGrant, findAdminGrant } from '../db/repositories/admin-grants';
import { latestUserSubscription, setUserTier } from '../db/repositories/billing';
import { findUser } from '../db/repositories/users';
import { FailureType } from '../schemas/failures';
import type { PlanSlug, SubscriptionStatus } from '../schemas/billing';
import type { ActivityDeps } from './deps';

/** Subscriptions whose workflow has finished: they give no tier any more. */
const ENDED_STATUSES = new Set(['canceled', 'incomplete_expired']);

export interface AdminGrantState {
  userId: string;
  /** Active, not revoked and not past expires_at. */
  active: boolean;
  expiresAt: string | null;
}

export function createAdminGrantActivities(deps: ActivityDeps) {
  const { db, logger } = deps;
  return {
    async loadAdminGrant(input: { grantId: string }): Promise<AdminGrantState | null> {
      const grant = await findAdminGrant(db, input.grantId);
      if (!grant) return null;
      const unexpired = grant.expires_at === null || grant.expires_at.getTime() > Date.now();
      return {
        userId: grant.user_id,
        active: grant.is_active && grant.revoked_at === null && unexpired,
        expiresAt: grant.expires_at?.toISOString() ?? null,
      };
    },

    async deactivateAdminGrant(input: { grantId: string; revoked: boolean }): Promise<{ changed: boolean }> {
      const changed = await deactivateAdminGrant(db, input.grantId, input.revoked);
      if (changed) logger.info({ grantId: input.grantId, revoked: input.revoked }, 'admin grant ended');
      return { changed };
    },

    /**
     * Brings the user's tier in line with their active grants. A live Stripe subscription owns
     * the tier: its id is returned so the workflow asks the subscription workflow to re-apply
     * it (grants included). Without one, the tier is the fallback (free once a subscription
     * ended) raised by the active grants.
     */
    async applyAdminGrantAccess(input: {
      userId: string;
      fallbackTier: PlanSlug;
      ignoreSubscription?: boolean;
    }): Promise<{ stripeSubscriptionId: string | null; tier: PlanSlug | null }> {
      const subscription = await latestUserSubscription(db, input.userId);
      const live = subscription?.stripe_subscription_id && !ENDED_STATUSES.has(subscription.status);
      if (live && !input.ignoreSubscription) return { stripeSubscriptionId: subscription.stripe_subscription_id, tier: null };
      // Reached with a live subscription only when its workflow could not be asked: its plan then.
      const base: PlanSlug = !subscription ? input.fallbackTier : live ? subscription.plan_slug : 'free';
      const user = await findUser(db, input.userId);
      if (!user) throw ApplicationFailure.nonRetryable(`user ${input.userId} not found`, FailureType.NotFound);
      const tier = await setUserTier(db, input.userId, base, {
        status: user.subscription_status as SubscriptionStatus | null,
        periodEnd: user.subscription_period_end?.toISOString() ?? null,
        trialEnd: user.trial_end?.toISOString() ?? null,
      });
      logger.info({ userId: input.userId, tier }, 'tier applied after an admin grant change');
      return { stripeSubscriptionId: null, tier };
    },
  };
}

export type AdminGrantActivities = ReturnType<typeof createAdminGrantActivities>;
