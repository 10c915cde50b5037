import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import type { Db } from '../../db/database';
import { secretAad, type SecretBox } from '../../lib/secrets';
import { FailureType } from '../errors';
import type { Providers } from '..';

/** A token this close to expiry is refreshed before use. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;

interface GoogleTokens {
  access_token: string;
  refresh_token?: string | null;
}

export interface SealedTokenRow {
  id: string;
  encrypted_tokens: string;
  token_expires_at: Date | null;
}

export type GoogleCredentialTable = 'youtube_oauth_tokens' | 'cloud_storage_credentials';

/** "The user's authorization is gone" (not "try again later"). */
export const isAuthFailure = (err: unknown): boolean => err instanceof ApplicationFailure && err.type === FailureType.ProviderAuth;

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
      const update = { encrypted_tokens: sealed, token_expires_at: refreshed.expiresAt, last_refreshed_at: new Date() };
      if (table === 'youtube_oauth_tokens') await db.updateTable('youtube_oauth_tokens').set(update).where('id', '=', row.id).execute();
      else await db.updateTable('cloud_storage_credentials').set(update).where('id', '=', row.id).execute();
      return refreshed.accessToken;
    } catch (err) {
      if (isAuthFailure(err)) {
        if (table === 'youtube_oauth_tokens') await db.updateTable('youtube_oauth_tokens').set({ status: 'revoked' }).where('id', '=', row.id).execute();
        else
          await db
            .updateTable('cloud_storage_credentials')
            .set({ status: 'revoked', last_error: (err as Error).message, error_count: sql`error_count + 1` })
            .where('id', '=', row.id)
            .execute();
      }
      throw err;
    }
  };
}
