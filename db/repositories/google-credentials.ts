import { sql, type Selectable } from 'kysely';
import type { DbOrTx } from '../database';
import type { CloudStorageCredentialsTable } from '../types';

/** The tables holding sealed Google OAuth tokens: YouTube channels and Drive connections. */
export type GoogleCredentialTable = 'youtube_oauth_tokens' | 'cloud_storage_credentials';

export interface SealedTokenRow {
  id: string;
  encrypted_tokens: string;
  token_expires_at: Date | null;
}

export type DriveCredential = Selectable<CloudStorageCredentialsTable>;

/** The user's active YouTube connection, the given channel's first (captions and thumbnails need the owner), else the newest. */
export async function findYoutubeToken(db: DbOrTx, userId: string, preferredChannelId: string | null): Promise<SealedTokenRow | undefined> {
  return db
    .selectFrom('youtube_oauth_tokens')
    .select(['id', 'encrypted_tokens', 'token_expires_at'])
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .orderBy(sql`case when channel_id = ${preferredChannelId ?? ''} then 0 else 1 end`)
    .orderBy('updated_at', 'desc')
    .executeTakeFirst();
}

/** The user's active token of this very channel: YouTube serves caption files to the channel's owner only. */
export async function findChannelYoutubeToken(db: DbOrTx, userId: string, channelId: string): Promise<SealedTokenRow | undefined> {
  return db
    .selectFrom('youtube_oauth_tokens')
    .select(['id', 'encrypted_tokens', 'token_expires_at'])
    .where('user_id', '=', userId)
    .where('channel_id', '=', channelId)
    .where('status', '=', 'active')
    .executeTakeFirst();
}

/** Whether the user has any active YouTube channel connection. */
export async function hasActiveYoutubeToken(db: DbOrTx, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('youtube_oauth_tokens')
    .select('id')
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return row !== undefined;
}

/** The user's Google Drive connection, whatever its status. */
export async function findDriveCredential(db: DbOrTx, userId: string): Promise<DriveCredential | undefined> {
  return db
    .selectFrom('cloud_storage_credentials')
    .selectAll()
    .where('user_id', '=', userId)
    .where('provider', '=', 'google_drive')
    .executeTakeFirst();
}

/** Re-sealed tokens after a refresh. */
export async function storeRefreshedGoogleTokens(
  db: DbOrTx,
  table: GoogleCredentialTable,
  id: string,
  refreshed: { encryptedTokens: string; expiresAt: Date | null },
): Promise<void> {
  const update = { encrypted_tokens: refreshed.encryptedTokens, token_expires_at: refreshed.expiresAt, last_refreshed_at: new Date() };
  if (table === 'youtube_oauth_tokens') await db.updateTable('youtube_oauth_tokens').set(update).where('id', '=', id).execute();
  else await db.updateTable('cloud_storage_credentials').set(update).where('id', '=', id).execute();
}

/** The user withdrew consent: the connection stops being used until they reconnect (Drive keeps the reason). */
export async function markGoogleCredentialRevoked(db: DbOrTx, table: GoogleCredentialTable, id: string, reason: string): Promise<void> {
  if (table === 'youtube_oauth_tokens')
    await db.updateTable('youtube_oauth_tokens').set({ status: 'revoked' }).where('id', '=', id).execute();
  else
    await db
      .updateTable('cloud_storage_credentials')
      .set({ status: 'revoked', last_error: reason, error_count: sql`error_count + 1` })
      .where('id', '=', id)
      .execute();
}

export async function markDriveCredentialUsed(db: DbOrTx, id: string): Promise<void> {
  await db.updateTable('cloud_storage_credentials').set({ last_used_at: new Date() }).where('id', '=', id).execute();
}
