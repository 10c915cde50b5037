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
import { secretAad, type SecretBox } from '../lib/secrets';
import { composeCaption, PostUpdateFailure, type PostPlatform } from '../schemas/posts';
import type { ActivityDeps } from './deps';
import { FailureType } from '../schemas/failures';
import { isAuthFailure } from '../providers/errors';
import { heartbeating } from './common';
import { publishOnce, type PostMetrics, type SocialAccountAuth, type SocialPublisher } from '../providers/social';
import { YoutubePublisher } from '../providers/youtube/publisher';

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
      const account = await usableAccount(post.social_account_id);
      const { publisher } = publisherFor(account);
      return heartbeating(async () => {
        const published = await withAccountToken(account, (auth) =>
          publishOnce(publisher, {
            postId,
            account: auth,
            caption: composeCaption({ caption: post.caption ?? '', hashtags: post.hashtags, mentions: post.mentions }),
            hashtags: post.hashtags,
            mediaType: post.media_type,
            mediaUrls: post.media_urls,
            platformOptions: post.platform_options,
            since,
          }),
        );
        const publishedAt = await recordPublished(db, postId, published);
        logger.info(
          { postId, platform: publisher.platform, platformPostId: published.platformPostId, alreadyPublished: published.alreadyPublished },
          'post published',
        );
        return {
          platformPostId: published.platformPostId,
          platformUrl: published.platformUrl,
          publishedAt: publishedAt.toISOString(),
          alreadyPublished: published.alreadyPublished,
        };
      });
    },

    /** One metrics snapshot per checkpoint (post_metrics natural key). */
    async syncPostMetrics({ postId, checkpoint }: { postId: string; checkpoint: string }): Promise<PostMetrics | null> {
      const post = await findPost(db, postId);
      if (!post?.platform_post_id) return null;
      const account = await usableAccount(post.social_account_id);
      const { publisher } = publisherFor(account);
      const metrics = await withAccountToken(account, (auth) => publisher.fetchMetrics(auth, post.platform_post_id!));
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
      await setPostStatus(db, postId, status, { error, rejectionReason });
    },
  };
}

export type PostActivities = ReturnType<typeof createPostActivities>;
