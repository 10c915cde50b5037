import { createHash, randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { DbOrTx } from '../db/database';
import { consumeOAuthState, findOAuthState, insertOAuthState } from '../db/repositories/social-oauth';
import type { GoogleService, OAuthStatePurpose, SocialPlatform } from '../db/types';
import { ConfigError } from '../lib/config';
import { providerCall } from '../providers/call';
import { ProviderLimiter, systemClock } from '../providers/rate-limit';
import { createSocialOAuth, socialOAuthApps, type SocialOAuth } from '../providers/social/oauth';
import { FailureType } from '../schemas/failures';
import { providersOf, sandboxUrlsOf, type ApiDeps } from './deps';
import { HttpProblem } from './problem';

/**
 * The `state` of every OAuth connect flow (social accounts, Google connections): random, stored
 * only as its SHA-256, bound to the caller and the flow, usable once, for 10 minutes.
 */
const OAUTH_STATE_TTL_MS = 10 * 60_000;

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

export const badField = (field: string, message: string) =>
  new HttpProblem(400, 'validation', 'Validation failed', `${field}: ${message}`, { errors: [{ field, message }] });

/**
 * Starts a connect flow: a new state, the consent screen URL built with it (a config error thrown
 * there stores nothing), then the state row. Answers the body both connect routes return.
 */
export async function startOAuthFlow(
  db: DbOrTx,
  flow: { userId: string; platform: SocialPlatform; purpose: OAuthStatePurpose; redirectUri: string; services?: GoogleService[] },
  authorizationUrlFor: (state: string) => string,
): Promise<{ authorizationUrl: string; state: string; expiresAt: string }> {
  const state = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + OAUTH_STATE_TTL_MS);
  const authorizationUrl = authorizationUrlFor(state);
  await insertOAuthState(db, { ...flow, stateHash: hashState(state), expiresAt });
  return { authorizationUrl, state, expiresAt: expiresAt.toISOString() };
}

/** Spends the caller's state of this flow, or answers 400 naming `state` with the reason. */
export async function spendOAuthState(db: DbOrTx, userId: string, state: string, purpose: OAuthStatePurpose) {
  const stateHash = hashState(state);
  const flow = await consumeOAuthState(db, userId, stateHash, purpose);
  if (flow) return flow;
  const known = await findOAuthState(db, userId, stateHash, purpose);
  throw badField(
    'state',
    !known
      ? 'unknown state: start the connection again'
      : known.used_at
        ? 'this state was already used'
        : 'this state expired: start the connection again',
  );
}

/**
 * The platforms' OAuth apps (Google, TikTok), built on first use. In sandbox mode the API finds the
 * sandboxes through SANDBOX_URLS; a platform that is neither configured nor sandboxed answers 503.
 */
export function lazySocialOAuth(deps: ApiDeps): () => SocialOAuth {
  let oauth: SocialOAuth | undefined;
  return () => {
    if (oauth) return oauth;
    const providers = providersOf(deps);
    return (oauth = createSocialOAuth({
      apps: socialOAuthApps(deps.config, sandboxUrlsOf(deps)),
      youtube: () => providers.youtube,
      call: providerCall(new ProviderLimiter('social-oauth', { maxConcurrent: 8, clock: systemClock })),
    }));
  };
}

/** Config gaps → 503; a refused code → 400 naming `code`; any other provider failure → 502. */
export function oauthProblem(err: unknown, platform: string): HttpProblem | undefined {
  if (err instanceof ConfigError)
    return new HttpProblem(503, 'not-configured', 'Not Configured', `connecting ${platform} accounts is not configured: ${err.message}`);
  if (!(err instanceof ApplicationFailure)) return undefined;
  if (err.type === FailureType.ProviderAuth || err.type === FailureType.InvalidInput)
    return badField('code', `${platform} refused the authorization code (${err.message})`);
  return new HttpProblem(
    502,
    'provider-unavailable',
    'Provider Unavailable',
    `${platform} could not be reached to finish the connection: ${err.message}`,
  );
}
