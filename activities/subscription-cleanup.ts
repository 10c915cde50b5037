import { ApplicationFailure } from '@temporalio/common';
import { insertCancellationLog, type CancellationLogWrite } from '../db/repositories/cancellation-logs';
import { listUpcomingPosts } from '../db/repositories/post-targets';
import type { CanceledPostsReport } from '../schemas/subscription-cleanup';
import { heartbeating } from './common';
import type { ActivityDeps } from './deps';

export function createSubscriptionCleanupActivities(deps: ActivityDeps) {
  const { db, logger } = deps;
  return {
    /**
     * Cancels every post of the user still waiting to publish after `after`, through its run's
     * cancel update (the run persists `canceled` and ends). A retry lists only what is still
     * waiting, so nothing is canceled twice.
     */
    async cancelUpcomingPosts({ userId, after }: { userId: string; after: string }): Promise<CanceledPostsReport> {
      const postRuns = deps.postRuns;
      if (!postRuns) throw ApplicationFailure.nonRetryable('the worker has no Temporal client to cancel post runs with', 'Configuration');
      const upcoming = await listUpcomingPosts(db, userId, new Date(after));
      const report: CanceledPostsReport = { canceled: [], skipped: [] };
      await heartbeating(async (progress) => {
        for (const post of upcoming) {
          const outcome = await postRuns.cancel(post.id);
          if (outcome === 'canceled') report.canceled.push(post.id);
          else report.skipped.push({ postId: post.id, outcome });
          progress(report.canceled.length + report.skipped.length);
        }
      });
      logger.info({ userId, canceled: report.canceled.length, skipped: report.skipped.length }, 'upcoming posts canceled');
      return report;
    },

    async recordCancellationLog(log: CancellationLogWrite): Promise<void> {
      await insertCancellationLog(db, log);
    },
  };
}

export type SubscriptionCleanupActivities = ReturnType<typeof createSubscriptionCleanupActivities>;
