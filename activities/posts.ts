import { ApplicationFailure } from '@temporalio/common';
import {
  approvePostRow,
  countPublishAttempt,
  findPost,
  findSocialAccount,
  fromStoredPlatform,
  insertPostMetrics,
  lockSocialAccount,
  markSocialAccount,
  recordPublished,
  reschedulePostRow,
  setPostStatus,
  SlotTakenError,
  storeRefreshedTokens,
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
import { secretAad, type SecretBox } from '../lib/secrets';
import { composeCaption, PostUpdateFailure, type PostPlatform } from '../schemas/posts';
import type { ActivityDeps } from './deps';
import { FailureType } from '../schemas/failures';
import { isAuthFailure } from '../providers/errors';
import { heartbeating } from './common';
import { publishOnce, type PostMetrics, type PublishedPost, type SocialAccountAuth, type SocialPublisher } from '../providers/social';
import { YoutubePublisher } from '../providers/youtube/publisher';
import { dispatchWebhooks, emitWebhookEvent } from './webhook-events';

/** What social_accounts.encrypted_tokens holds (sealed). */
interface StoredTokens {
  access_token: string;
  refresh_token: string | null;
}

/** A token this close to its expiry is refreshed before use rather than after a 401. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;

const tokensAad = (accountId: string) => secretAad('social_accounts', 'encrypted_tokens', accountId);
const accountName = (account: Pick<SocialAccount, 'platform' | 'username' | 'platform_user_id'>) =>
  `${fromStoredPlatform(account.platform) ?? account.platform} account ${account.username ? `@${account.username}` : (account.platform_user_id ?? '')}`.trim();

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

  function secretBox(): SecretBox {
    if (!deps.secrets)
      throw ApplicationFailure.nonRetryable('the worker has no encryption key to open social account tokens', 'Configuration');
    return deps.secrets;
  }

  function openTokens(account: SocialAccount): StoredTokens {
    return JSON.parse(secretBox().decrypt(account.encrypted_tokens, tokensAad(account.id))) as StoredTokens;
  }

  let youtube: YoutubePublisher | undefined;
  function publisherFor(account: SocialAccount): { platform: PostPlatform; publisher: SocialPublisher } {
    const platform = fromStoredPlatform(account.platform);
    if (!platform) throw ApplicationFailure.nonRetryable(`posting to ${account.platform} is not supported`, FailureType.InvalidInput);
    if (platform === 'youtube')
      return {
        platform,
        publisher: (youtube ??= new YoutubePublisher({ youtube: deps.providers.youtube, googleAuth: deps.providers.googleAuth })),
      };
    return { platform, publisher: deps.providers.social[platform] };
  }

  /** The account if it can post; a disconnected or expired one fails the post with the reason. */
  async function usableAccount(accountId: string): Promise<SocialAccount> {
    const account = await findSocialAccount(db, accountId);
    if (!account) throw ApplicationFailure.nonRetryable(`social account ${accountId} no longer exists`, FailureType.NotFound);
    if (account.status !== 'active') {
      const why =
        account.status === 'disconnected'
          ? 'was disconnected'
          : `is ${account.status}${account.last_error ? ` (${account.last_error})` : ''}`;
      throw ApplicationFailure.nonRetryable(`the ${accountName(account)} ${why}; reconnect it to post`, FailureType.ProviderAuth);
    }
    return account;
  }

  /**
   * New tokens for the account, under a row lock: a second worker that finds the token already
   * replaced uses the new one instead of spending a (rotating) refresh token again. A refused
   * refresh marks the account expired and fails with ProviderAuth.
   */
  async function refreshTokens(accountId: string, staleAccessToken: string): Promise<StoredTokens> {
    let account: SocialAccount | undefined;
    try {
      return await db.transaction().execute(async (tx) => {
        account = await lockSocialAccount(tx, accountId);
        if (!account || account.status !== 'active')
          throw ApplicationFailure.nonRetryable(`social account ${accountId} is not active`, FailureType.ProviderAuth);
        const current = openTokens(account);
        if (current.access_token !== staleAccessToken) return current;
        const { platform, publisher } = publisherFor(account);
        // Instagram and Facebook long-lived tokens are refreshed with themselves.
        const refreshWith = current.refresh_token ?? (platform === 'instagram' || platform === 'facebook' ? current.access_token : null);
        if (!refreshWith)
          throw ApplicationFailure.nonRetryable('the access token expired and no refresh token is stored', FailureType.ProviderAuth);
        const grant = await publisher.refreshToken(refreshWith);
        const fresh: StoredTokens = { access_token: grant.accessToken, refresh_token: grant.refreshToken ?? current.refresh_token };
        await storeRefreshedTokens(
          tx,
          account.id,
          secretBox().encrypt(JSON.stringify(fresh), tokensAad(account.id)),
          grant.expiresAt ? new Date(grant.expiresAt) : null,
        );
        logger.info({ socialAccountId: account.id, platform }, 'social account token refreshed');
        return fresh;
      });
    } catch (err) {
      if (!isAuthFailure(err) || !account) throw err;
      const reason = `authorization expired or revoked and could not be refreshed (${(err as Error).message})`;
      await markSocialAccount(db, account.id, 'expired', reason);
      throw ApplicationFailure.nonRetryable(`the ${accountName(account)}: ${reason}; reconnect it to post`, FailureType.ProviderAuth);
    }
  }

  /** Where a target is published: the account's own API, or for an Ayrshare account Ayrshare's API for the target's network. */
  function targetPublisher(account: SocialAccount, target: Target): SocialPublisher {
    const platform = fromStoredPlatform(target.platform);
    if (!platform) throw ApplicationFailure.nonRetryable(`posting to ${target.platform} is not supported`, FailureType.InvalidInput);
    return account.platform === 'ayrshare' ? deps.providers.ayrshare.publisherFor(platform) : publisherFor(account).publisher;
  }

  /**
   * Runs a call as the account: an Ayrshare profile key is used as is (it does not expire; a refused
   * one marks the account expired), OAuth tokens through withAccountToken.
   */
  async function asAccount<T>(account: SocialAccount, call: (auth: SocialAccountAuth) => Promise<T>): Promise<T> {
    if (account.platform !== 'ayrshare') return withAccountToken(account, call);
    try {
      return await call({ accessToken: openTokens(account).access_token, platformUserId: '' });
    } catch (err) {
      if (isAuthFailure(err))
        await markSocialAccount(db, account.id, 'expired', `Ayrshare refused the profile key: ${(err as Error).message}`);
      throw err;
    }
  }

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

  /** Runs a platform call with a valid token: refreshed ahead of expiry, or once after the platform refuses it. */
  async function withAccountToken<T>(account: SocialAccount, call: (auth: SocialAccountAuth) => Promise<T>): Promise<T> {
    const auth = (tokens: StoredTokens): SocialAccountAuth => ({
      accessToken: tokens.access_token,
      platformUserId: account.platform_user_id ?? '',
      ...(account.username ? { username: account.username } : {}),
    });
    let tokens = openTokens(account);
    if (account.token_expires_at && account.token_expires_at.getTime() - Date.now() < TOKEN_REFRESH_MARGIN_MS)
      tokens = await refreshTokens(account.id, tokens.access_token);
    try {
      return await call(auth(tokens));
    } catch (err) {
      if (!isAuthFailure(err)) throw err;
      tokens = await refreshTokens(account.id, tokens.access_token);
    }
    try {
      return await call(auth(tokens));
    } catch (err) {
      if (!isAuthFailure(err)) throw err;
      const reason = `the platform refused a freshly refreshed token: ${(err as Error).message}`;
      await markSocialAccount(db, account.id, 'expired', reason);
      throw ApplicationFailure.nonRetryable(`the ${accountName(account)}: ${reason}; reconnect it to post`, FailureType.ProviderAuth);
    }
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
      const { publishedAt, deliveries } = await db.transaction().execute(async (tx) => {
        const publishedAt = await recordPublished(tx, postId, published);
        const deliveries = await emitWebhookEvent(tx, {
          type: 'post.published',
          userId: post.user_id,
          factKey: postId,
          data: { postId, status: 'published', platformPostId: published.platformPostId, platformUrl: published.platformUrl, publishedAt },
        });
        return { publishedAt, deliveries };
      });
      await dispatchWebhooks(deps, deliveries);
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
      const { summary, deliveries } = await db.transaction().execute(async (tx) => {
        const summary = await settlePublishedTargets(tx, postId, failures);
        const post = await findPost(tx, postId);
        // None published: finishPost records the post.failed fact.
        if (!post || summary.status === 'failed') return { summary, deliveries: [] };
        const deliveries = await emitWebhookEvent(tx, {
          type: 'post.published',
          userId: post.user_id,
          factKey: postId,
          data: {
            postId,
            status: summary.status,
            platformPostId: summary.platformPostId,
            platformUrl: post.platform_url,
            publishedAt: post.published_at,
            targetsPublished: summary.published,
            targetsFailed: summary.failed,
          },
        });
        return { summary, deliveries };
      });
      await dispatchWebhooks(deps, deliveries);
      return summary;
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
      const deliveries = await db.transaction().execute(async (tx) => {
        await setPostStatus(tx, postId, status, { error, rejectionReason });
        await finishOpenTargets(tx, postId, status, error);
        const post = await findPost(tx, postId);
        // Only a post that ends failed (not one already published or canceled) is a post.failed fact.
        if (post?.status !== 'failed') return [];
        return emitWebhookEvent(tx, {
          type: 'post.failed',
          userId: post.user_id,
          factKey: postId,
          data: { postId, error: post.publish_error },
        });
      });
      await dispatchWebhooks(deps, deliveries);
    },
  };
}

export type PostActivities = ReturnType<typeof createPostActivities>;
