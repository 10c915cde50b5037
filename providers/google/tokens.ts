import type { Db } from '../../db/database';
import { expireGoogleConnection } from '../../db/repositories/google-connections';
import {
  markGoogleCredentialRevoked,
  storeRefreshedGoogleTokens,
  type GoogleCredentialTable,
  type SealedTokenRow,
} from '../../db/repositories/google-credentials';
import type { Logger } from '../../lib/logger';
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
 * row, refreshed and re-sealed when about to expire; revoked consent marks the row and its Google
 * connection expired (the user gets one email about it) and fails as ProviderAuth.
 */
export function createGoogleTokens(deps: {
  db: Db;
  providers: Pick<Providers, 'googleAuth' | 'mailer'>;
  secrets: SecretBox;
  logger?: Logger;
}) {
  const { db, providers, secrets, logger } = deps;

  async function expire(table: GoogleCredentialTable, rowId: string, reason: string): Promise<void> {
    await markGoogleCredentialRevoked(db, table, rowId, reason);
    const expired = await expireGoogleConnection(db, table, rowId, reason);
    if (!expired) return;
    // A courtesy: the auth failure stands whether or not the mail goes out (or a mailer is configured).
    try {
      await providers.mailer.send({
        to: expired.email,
        subject: 'Reconnect your Google account',
        text: 'Google no longer accepts our access to your YouTube channel or Google Drive, so captions, channel imports and Drive exports are paused. Connect Google again to resume them.',
        idempotencyKey: `google-connection-expired:${expired.connectionId}`,
        tags: { kind: 'google_connection_expired' },
      });
    } catch (err) {
      logger?.warn({ err, connectionId: expired.connectionId }, 'could not email the expired Google connection');
    }
  }

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
      if (isAuthFailure(err)) await expire(table, row.id, (err as Error).message);
      throw err;
    }
  };
}
