import type { Db } from '../../db/database';
import { markGoogleCredentialRevoked, storeRefreshedGoogleTokens, type GoogleCredentialTable, type SealedTokenRow } from '../../db/repositories/google-credentials';
import { secretAad, type SecretBox } from '../../lib/secrets';
import { isAuthFailure } from '../errors';
import type { Providers } from '..';

/** A token this close to expiry is refreshed before use. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;

interface GoogleTokens {
  access_token: string;
  refresh_token?: string | null;
}

/**
 * Access tokens of stored Google credentials (YouTube channels, Drive): opened from their sealed
 * row, refreshed and re-sealed when about to expire; revoked consent marks the row and fails as
 * ProviderAuth.
 */
export function createGoogleTokens(deps: { db: Db; providers: Pick<Providers, 'googleAuth'>; secrets: SecretBox }) {
  const { db, providers, secrets } = deps;
  return async function accessToken(table: GoogleCredentialTable, row: SealedTokenRow): Promise<string> {
    const aad = secretAad(table, 'encrypted_tokens', row.id);
    const tokens = JSON.parse(secrets.decrypt(row.encrypted_tokens, aad)) as GoogleTokens;
    const fresh = !row.token_expires_at || row.token_expires_at.getTime() > Date.now() + TOKEN_REFRESH_MARGIN_MS;
    if (fresh || !tokens.refresh_token) return tokens.access_token;
    try {
      const refreshed = await providers.googleAuth.refreshGoogleToken(tokens.refresh_token);
      const sealed = secrets.encrypt(
        JSON.stringify({ ...tokens, access_token: refreshed.accessToken, refresh_token: refreshed.refreshToken ?? tokens.refresh_token }),
        aad,
      );
      await storeRefreshedGoogleTokens(db, table, row.id, { encryptedTokens: sealed, expiresAt: refreshed.expiresAt });
      return refreshed.accessToken;
    } catch (err) {
      if (isAuthFailure(err)) await markGoogleCredentialRevoked(db, table, row.id, (err as Error).message);
      throw err;
    }
  };
}
