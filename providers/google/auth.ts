import { google } from 'googleapis';
import type { ProviderCall } from '../call';
import { ensureOk } from '../errors';

type OAuth2Client = InstanceType<typeof google.auth.OAuth2>;

/** Per-call auth for a user's own resources (captions, uploads, Drive): their current access token. */
export function googleUserAuth(accessToken: string): OAuth2Client {
  const client = new google.auth.OAuth2();
  client.setCredentials({ access_token: accessToken });
  return client;
}

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const GOOGLE_REVOKE_URL = 'https://oauth2.googleapis.com/revoke';

export interface RefreshedGoogleToken {
  accessToken: string;
  expiresAt: Date;
  /** Google rarely rotates refresh tokens; when it does, the caller must store the new one. */
  refreshToken: string | null;
  scope: string | null;
}

export interface GoogleAuthAdapter {
  /**
   * Exchanges a refresh token for a new access token. The caller encrypts and persists the
   * result; `invalid_grant` (revoked or expired consent) fails as non-retryable ProviderAuth.
   */
  refreshGoogleToken(refreshToken: string): Promise<RefreshedGoogleToken>;
  /** Withdraws the consent behind a token (access or refresh): every token of that grant stops working. */
  revokeGoogleToken(token: string): Promise<void>;
}

export interface GoogleAuthOptions {
  clientId: string;
  clientSecret: string;
  tokenUrl?: string;
  revokeUrl?: string;
  timeoutMs?: number;
  call: ProviderCall;
  now?: () => number;
}

/**
 * Token refresh over plain fetch: google-auth-library retries token POSTs itself (3 times),
 * which would hide 429s and invalid_grant from our classification and Temporal's retry policy.
 */
export function createGoogleAuthAdapter(options: GoogleAuthOptions): GoogleAuthAdapter {
  const now = options.now ?? Date.now;
  return {
    async refreshGoogleToken(refreshToken) {
      const data = await options.call(async () => {
        const res = await fetch(options.tokenUrl ?? GOOGLE_TOKEN_URL, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: refreshToken,
            client_id: options.clientId,
            client_secret: options.clientSecret,
          }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
        await ensureOk(res, 'Google token endpoint');
        return (await res.json()) as { access_token?: string; expires_in?: number; refresh_token?: string; scope?: string };
      });
      if (!data.access_token) throw new Error('Google token endpoint returned no access_token');
      return {
        accessToken: data.access_token,
        expiresAt: new Date(now() + (data.expires_in ?? 3600) * 1000),
        refreshToken: data.refresh_token ?? null,
        scope: data.scope ?? null,
      };
    },

    async revokeGoogleToken(token) {
      await options.call(async () => {
        const res = await fetch(options.revokeUrl ?? GOOGLE_REVOKE_URL, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
        await ensureOk(res, 'Google revoke endpoint');
      });
    },
  };
}
