import { ApplicationFailure } from '@temporalio/common';
import {
  approvePostRow,
  countPublishAttempt,
  findPost,
  insertPostMetrics,
  recordPublished,
  reschedulePostRow,
  setPostStatus,
  SlotTakenError,
  type SocialAccount,
} from '../db/repositories/posts';
import {
  findPostTarget,
  finishOpenTargets,
  listPostTargets,
  recordTargetPublished,
  settlePublishedTargets,
  startTargetAttempt,
  type PublishSummary,
  type TargetFailure,
} from '../db/repositories/post-targets';
import { composeCaption, PostUpdateFailure } from '../schemas/posts';
import type { ActivityDeps } from './deps';
import { FailureType } from '../schemas/failures';
import { heartbeating } from './common';
import { createSocialAccountAccess } from './social-account-access';
import { publishOnce, type PostMetrics, type PublishedPost } from '../providers/social';
import { inTransactionWithEvents, isoOrNull } from './webhook-events';

export interface PublishPostInput {
  postId: string;
  /** When the workflow first tried to publish: an earlier post of ours cannot predate it. */
  since: string;
}

export interface PublishPostResult {
  platformPostId: string;
  platformUrl: string;
  publishedAt: string;
  /** The platform already had it (an earlier attempt was accepted but not recorded). */
  alreadyPublished: boolean;
}

export interface PublishTargetInput {
  postId: string;
  /** post_targets.id */
  targetId: string;
  since: string;
}

export interface PublishTargetResult {
  targetId: string;
  platformPostId: string;
  platformUrl: string;
  publishedAt: string;
  alreadyPublished: boolean;
}

type Post = NonNullable<Awaited<ReturnType<typeof findPost>>>;
type Target = { id: string; social_account_id: string; platform: SocialAccount['platform'] };

export function createPostActivities(deps: ActivityDeps) {
  const { db, logger } = deps;

  const { usableAccount, targetPublisher, asAccount } = createSocialAccountAccess(deps);

  /** Publishes the post to one target at most once (publishOnce) and records the platform's post on the target. */
  async function publishToTarget(
    post: Post,
    target: Target,
    since: string,
  ): Promise<PublishedPost & { alreadyPublished: boolean; publishedAt: Date }> {
    const account = await usableAccount(target.social_account_id);
    const publisher = targetPublisher(account, target);
    await startTargetAttempt(db, target.id);
    return heartbeating(async () => {
      const published = await asAccount(account, (auth) =>
        publishOnce(publisher, {
          postId: post.id,
          account: auth,
          caption: composeCaption({ caption: post.caption ?? '', hashtags: post.hashtags, mentions: post.mentions }),
          hashtags: post.hashtags,
          mediaType: post.media_type,
          mediaUrls: post.media_urls,
          platformOptions: post.platform_options,
          since,
        }),
      );
      const publishedAt = await recordTargetPublished(db, target.id, published);
      logger.info(
        {
          postId: post.id,
          targetId: target.id,
          platform: publisher.platform,
          via: account.platform === 'ayrshare' ? 'ayrshare' : 'direct',
          platformPostId: published.platformPostId,
          alreadyPublished: published.alreadyPublished,
        },
        'post target published',
      );
      return { ...published, publishedAt };
    });
  }

  return {
    /**
     * Publishes the post exactly once: an already recorded post is returned as is; otherwise the
     * platform is asked for our earlier post (found by the marker in its caption) before posting,
     * and the platform's id is recorded in the same activity.
     */
    async publishPost({ postId, since }: PublishPostInput): Promise<PublishPostResult> {
      const post = await findPost(db, postId);
      if (!post) throw ApplicationFailure.nonRetryable(`post ${postId} not found`, FailureType.NotFound);
      if (post.status === 'published' && post.platform_post_id && post.published_at) {
        return {
          platformPostId: post.platform_post_id,
          platformUrl: post.platform_url ?? '',
          publishedAt: post.published_at.toISOString(),
          alreadyPublished: true,
        };
      }
      if (post.status === 'canceled' || post.status === 'failed')
        throw ApplicationFailure.nonRetryable(`post ${postId} is ${post.status}`, PostUpdateFailure.InvalidState);
      await setPostStatus(db, postId, 'publishing');
      await countPublishAttempt(db, postId);
      // A post to one account has one target (posts made before targets existed got theirs in migration 0017).
      const [target] = await listPostTargets(db, postId);
      if (!target) throw ApplicationFailure.nonRetryable(`post ${postId} has no target`, FailureType.NotFound);
      const published = await publishToTarget(post, target, since);
      // A post is published once: its id is the fact key, so a retry re-finds the same event.
      const publishedAt = await inTransactionWithEvents(deps, async (tx, emit) => {
        const publishedAt = await recordPublished(tx, postId, published);
        await emit({
          type: 'post.published',
          userId: post.user_id,
          factKey: postId,
          data: {
            postId,
            status: 'published',
            platformPostId: published.platformPostId,
            platformUrl: published.platformUrl,
            publishedAt: publishedAt.toISOString(),
          },
        });
        return publishedAt;
      });
      return {
        platformPostId: published.platformPostId,
        platformUrl: published.platformUrl,
        publishedAt: publishedAt.toISOString(),
        alreadyPublished: published.alreadyPublished,
      };
    },

    /**
     * Publishes a post to several platforms: one call per target, each idempotent (publishOnce looks
     * for our earlier post first) and retried on its own; a published target returns its record.
     */
    async publishPostTarget({ postId, targetId, since }: PublishTargetInput): Promise<PublishTargetResult> {
      const post = await findPost(db, postId);
      const target = post && (await findPostTarget(db, postId, targetId));
      if (!post || !target) throw ApplicationFailure.nonRetryable(`target ${targetId} of post ${postId} not found`, FailureType.NotFound);
      if (target.status === 'published' && target.platform_post_id && target.published_at)
        return {
          targetId,
          platformPostId: target.platform_post_id,
          platformUrl: target.platform_url ?? '',
          publishedAt: target.published_at.toISOString(),
          alreadyPublished: true,
        };
      if (post.status === 'canceled' || target.status === 'canceled' || target.status === 'failed')
        throw ApplicationFailure.nonRetryable(
          `the ${target.platform} target of post ${postId} is ${target.status}`,
          PostUpdateFailure.InvalidState,
        );
      await setPostStatus(db, postId, 'publishing');
      const published = await publishToTarget(post, target, since);
      return {
        targetId,
        platformPostId: published.platformPostId,
        platformUrl: published.platformUrl,
        publishedAt: published.publishedAt.toISOString(),
        alreadyPublished: published.alreadyPublished,
      };
    },

    /** After every target settled: the failed ones get their error and the post's status summarises them. */
    async finishPublishing({ postId, failures }: { postId: string; failures: TargetFailure[] }): Promise<PublishSummary> {
      return inTransactionWithEvents(deps, async (tx, emit) => {
        const summary = await settlePublishedTargets(tx, postId, failures);
        const post = await findPost(tx, postId);
        // None published: finishPost records the post.failed fact.
        if (!post || summary.status === 'failed') return summary;
        await emit({
          type: 'post.published',
          userId: post.user_id,
          factKey: postId,
          data: {
            postId,
            status: summary.status,
            platformPostId: summary.platformPostId,
            platformUrl: post.platform_url,
            publishedAt: isoOrNull(post.published_at),
            targetsPublished: summary.published,
            targetsFailed: summary.failed,
          },
        });
        return summary;
      });
    },

    /** One metrics snapshot per checkpoint (post_metrics natural key). */
    async syncPostMetrics({ postId, checkpoint }: { postId: string; checkpoint: string }): Promise<PostMetrics | null> {
      const post = await findPost(db, postId);
      if (!post?.platform_post_id) return null;
      // posts.platform_post_id is the first target's post.
      const [target] = await listPostTargets(db, postId);
      if (!target) return null;
      const account = await usableAccount(target.social_account_id);
      const publisher = targetPublisher(account, target);
      const metrics = await asAccount(account, (auth) => publisher.fetchMetrics(auth, post.platform_post_id!));
      await insertPostMetrics(db, postId, checkpoint, metrics);
      return metrics;
    },

    /** Persists a new due time; another live post of the account at that instant fails it with SlotTaken. */
    async reschedulePost({ postId, scheduledAt }: { postId: string; scheduledAt: string }): Promise<void> {
      try {
        await reschedulePostRow(db, postId, new Date(scheduledAt));
      } catch (err) {
        if (err instanceof SlotTakenError) throw ApplicationFailure.nonRetryable(err.message, PostUpdateFailure.SlotTaken);
        throw err;
      }
    },

    async approvePost({ postId, approvedBy }: { postId: string; approvedBy: string }): Promise<void> {
      await approvePostRow(db, postId, approvedBy);
    },

    /** Final state of a post that will not be published (failed, canceled or rejected). */
    async finishPost({
      postId,
      status,
      error,
      rejectionReason,
    }: {
      postId: string;
      status: 'failed' | 'canceled';
      error?: string;
      rejectionReason?: string;
    }): Promise<void> {
      await inTransactionWithEvents(deps, async (tx, emit) => {
        await setPostStatus(tx, postId, status, { error, rejectionReason });
        await finishOpenTargets(tx, postId, status, error);
        const post = await findPost(tx, postId);
        // Only a post that ends failed (not one already published or canceled) is a post.failed fact.
        if (post?.status !== 'failed') return;
        await emit({
          type: 'post.failed',
          userId: post.user_id,
          factKey: postId,
          data: { postId, error: post.publish_error },
        });
      });
    },
  };
}

export type PostActivities = ReturnType<typeof createPostActivities>;
