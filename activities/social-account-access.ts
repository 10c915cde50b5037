import { ApplicationFailure } from '@temporalio/common';
import {
  findSocialAccount,
  fromStoredPlatform,
  lockSocialAccount,
  markSocialAccount,
  storeRefreshedTokens,
  type SocialAccount,
} from '../db/repositories/posts';
import { secretAad, type SecretBox } from '../lib/secrets';
import { isAuthFailure } from '../providers/errors';
import type { SocialAccountAuth, SocialPublisher } from '../providers/social';
import { YoutubePublisher } from '../providers/youtube/publisher';
import { FailureType } from '../schemas/failures';
import type { PostPlatform } from '../schemas/posts';
import type { ActivityDeps } from './deps';

/** What social_accounts.encrypted_tokens holds (sealed). */
export interface StoredTokens {
  access_token: string;
  refresh_token: string | null;
}

/** A token this close to its expiry is refreshed before use rather than after a 401. */
/** What a post target names: the network it goes to. */
type Target = { platform: SocialAccount['platform'] };

export const TOKEN_REFRESH_MARGIN_MS = 60_000;

const tokensAad = (accountId: string) => secretAad('social_accounts', 'encrypted_tokens', accountId);
export const accountName = (account: Pick<SocialAccount, 'platform' | 'username' | 'platform_user_id'>) =>
  `${fromStoredPlatform(account.platform) ?? account.platform} account ${account.username ? `@${account.username}` : (account.platform_user_id ?? '')}`.trim();

/**
 * Acting as a connected social account (posts, analytics, comments): its sealed tokens opened,
 * refreshed ahead of expiry or once after a refusal (under a row lock), the adapter of its
 * platform, and the account marked when the platform refuses it for good.
 */
export function createSocialAccountAccess(deps: ActivityDeps) {
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

  return { openTokens, publisherFor, usableAccount, refreshTokens, targetPublisher, asAccount, withAccountToken };
}

export type SocialAccountAccess = ReturnType<typeof createSocialAccountAccess>;
