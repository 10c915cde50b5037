/**
 * The clean-up run when a subscription ends (Glow Social's cancellation flow): the user's upcoming
 * posts are canceled through each post run's own `cancelPost` update, the content-plan Schedule is
 * removed, and cancellation_logs keeps what was done.
 */

/** Cancels a post through its run (the `cancelPost` update), as DELETE /v1/posts/:id does. */
export interface PostRunControl {
  /** `canceled`, or why not: the run refused (published meanwhile, being changed) or has ended. */
  cancel(postId: string): Promise<'canceled' | 'refused' | 'not_running'>;
}

export interface SubscriptionCleanupInput {
  userId: string;
  stripeSubscriptionId: string;
  /** Why access ended: the subscription's status (canceled, incomplete_expired, paused, or active past a cancel at period end). */
  reason: string;
  /** ISO instant access ended: posts due after it are canceled. */
  endedAt: string;
}

export interface CanceledPostsReport {
  canceled: string[];
  /** Posts whose run refused the cancel (publishing already) or had ended. */
  skipped: Array<{ postId: string; outcome: 'refused' | 'not_running' }>;
}

export interface SubscriptionCleanupResult extends CanceledPostsReport {
  contentPlanSchedule: string;
}
