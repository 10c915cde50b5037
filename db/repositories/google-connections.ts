import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, DbOrTx, Tx } from '../database';
import type { GoogleService } from '../types';
import type { GoogleCredentialTable } from './google-credentials';

/** The sealed token set of one row: the row id is part of the AAD, so sealing waits for the id. */
type Seal = (rowId: string) => string;

export interface NewGoogleConnection {
  userId: string;
  services: GoogleService[];
  accountEmail: string | null;
  expiresAt: Date | null;
  scopes: string[];
  youtube?: {
    channelId: string;
    title: string;
    handle: string | null;
    description: string;
    thumbnailUrl: string | null;
    subscriberCount: number;
    videoCount: number;
    uploadsPlaylistId: string;
    sealYoutube: Seal;
  };
  drive?: { accountName: string | null; folderNamingPattern: string; sealDrive: Seal };
}

/** The id of the user's row in `table` for this key, locked, or a new id when there is none. */
async function rowIdFor(tx: Tx, table: GoogleCredentialTable, userId: string, key: string): Promise<{ id: string; exists: boolean }> {
  const existing =
    table === 'youtube_oauth_tokens'
      ? await tx
          .selectFrom('youtube_oauth_tokens')
          .select('id')
          .where('user_id', '=', userId)
          .where('channel_id', '=', key)
          .forUpdate()
          .executeTakeFirst()
      : await tx
          .selectFrom('cloud_storage_credentials')
          .select('id')
          .where('user_id', '=', userId)
          .where('provider', '=', 'google_drive')
          .forUpdate()
          .executeTakeFirst();
  return existing ? { id: existing.id, exists: true } : { id: randomUUID(), exists: false };
}

/**
 * Stores a Google consent: the connection, the channel's token row and channel row, the Drive
 * credential. Connecting the same channel or Drive again moves those rows to the new connection
 * (same ids: uploads and imports keep pointing at them); a connection left without rows goes.
 */
export async function saveGoogleConnection(db: Db, connection: NewGoogleConnection): Promise<string> {
  return db.transaction().execute(async (tx) => {
    const { id: connectionId } = await tx
      .insertInto('google_connections')
      .values({ user_id: connection.userId, services: connection.services, account_email: connection.accountEmail })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { youtube, drive } = connection;
    if (youtube) {
      const row = await rowIdFor(tx, 'youtube_oauth_tokens', connection.userId, youtube.channelId);
      const tokens = {
        encrypted_tokens: youtube.sealYoutube(row.id),
        token_expires_at: connection.expiresAt,
        scope: connection.scopes.join(' '),
        token_type: 'Bearer',
        channel_name: youtube.title,
        channel_thumbnail: youtube.thumbnailUrl,
        status: 'active' as const,
        google_connection_id: connectionId,
      };
      if (row.exists) await tx.updateTable('youtube_oauth_tokens').set(tokens).where('id', '=', row.id).execute();
      else
        await tx
          .insertInto('youtube_oauth_tokens')
          .values({ id: row.id, user_id: connection.userId, channel_id: youtube.channelId, ...tokens })
          .execute();
      const channel = {
        youtube_oauth_token_id: row.id,
        channel_name: youtube.title,
        channel_handle: youtube.handle,
        channel_description: youtube.description,
        channel_thumbnail: youtube.thumbnailUrl,
        subscriber_count: youtube.subscriberCount,
        video_count: youtube.videoCount,
        is_active: true,
        channel_data: JSON.stringify({ uploadsPlaylistId: youtube.uploadsPlaylistId }),
      };
      await tx
        .insertInto('user_youtube_channels')
        .values({ user_id: connection.userId, channel_id: youtube.channelId, ...channel })
        .onConflict((oc) => oc.columns(['user_id', 'channel_id']).doUpdateSet(channel))
        .execute();
    }
    if (drive) {
      const row = await rowIdFor(tx, 'cloud_storage_credentials', connection.userId, 'google_drive');
      const credential = {
        encrypted_tokens: drive.sealDrive(row.id),
        token_expires_at: connection.expiresAt,
        scopes: connection.scopes,
        account_email: connection.accountEmail,
        account_name: drive.accountName,
        status: 'active' as const,
        last_error: null,
        google_connection_id: connectionId,
      };
      if (row.exists) await tx.updateTable('cloud_storage_credentials').set(credential).where('id', '=', row.id).execute();
      else
        await tx
          .insertInto('cloud_storage_credentials')
          .values({
            id: row.id,
            user_id: connection.userId,
            provider: 'google_drive',
            folder_naming_pattern: drive.folderNamingPattern,
            ...credential,
          })
          .execute();
    }
    await tx
      .deleteFrom('google_connections as c')
      .where('c.user_id', '=', connection.userId)
      .where('c.id', '<>', connectionId)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('youtube_oauth_tokens as t')
              .select('t.id')
              .whereRef('t.google_connection_id', '=', 'c.id')
              .union(eb.selectFrom('cloud_storage_credentials as d').select('d.id').whereRef('d.google_connection_id', '=', 'c.id')),
          ),
        ),
      )
      .execute();
    return connectionId;
  });
}

function connectionDetails(db: DbOrTx) {
  return db
    .selectFrom('google_connections as c')
    .leftJoin('youtube_oauth_tokens as t', 't.google_connection_id', 'c.id')
    .leftJoin('user_youtube_channels as ch', (join) => join.onRef('ch.youtube_oauth_token_id', '=', 't.id'))
    .leftJoin('cloud_storage_credentials as d', 'd.google_connection_id', 'c.id')
    .select([
      'c.id',
      'c.user_id',
      'c.services',
      'c.account_email',
      'c.status',
      'c.status_reason',
      'c.created_at',
      't.id as youtube_token_id',
      't.encrypted_tokens as youtube_encrypted_tokens',
      't.token_expires_at as youtube_token_expires_at',
      't.channel_id',
      't.channel_name',
      'ch.channel_data',
      'ch.id as youtube_channel_row_id',
      'ch.auto_import',
      'ch.last_synced_at',
      'd.id as drive_credential_id',
      'd.encrypted_tokens as drive_encrypted_tokens',
      'd.token_expires_at as drive_token_expires_at',
    ]);
}

export type GoogleConnectionDetails = Awaited<ReturnType<ReturnType<typeof connectionDetails>['executeTakeFirstOrThrow']>>;

export async function listGoogleConnections(db: DbOrTx, userId: string): Promise<GoogleConnectionDetails[]> {
  return connectionDetails(db).where('c.user_id', '=', userId).orderBy('c.created_at', 'desc').execute();
}

export async function findGoogleConnection(db: DbOrTx, userId: string, id: string): Promise<GoogleConnectionDetails | undefined> {
  return connectionDetails(db).where('c.user_id', '=', userId).where('c.id', '=', id).executeTakeFirst();
}

/** The user's channels with active tokens (the plan's youtube_channel_limit counts these). */
export async function countActiveChannels(db: DbOrTx, userId: string, exceptChannelId?: string): Promise<number> {
  const row = await db
    .selectFrom('youtube_oauth_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .$if(exceptChannelId !== undefined, (qb) => qb.where('channel_id', '<>', exceptChannelId ?? ''))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Disconnect: the channel stops being active and auto-imported; the connection and its token rows go (uploads and imports stay). */
export async function deleteGoogleConnection(db: Db, connection: Pick<GoogleConnectionDetails, 'id' | 'youtube_token_id'>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    if (connection.youtube_token_id)
      await tx
        .updateTable('user_youtube_channels')
        .set({ is_active: false, auto_import: false })
        .where('youtube_oauth_token_id', '=', connection.youtube_token_id)
        .execute();
    await tx.deleteFrom('google_connections').where('id', '=', connection.id).execute();
  });
}

/**
 * Google refused a credential row's refresh token (invalid_grant): its connection becomes expired.
 * Returns the owner's address the first time only, so the user is told once per connection.
 */
export async function expireGoogleConnection(
  db: Db,
  table: GoogleCredentialTable,
  credentialId: string,
  reason: string,
): Promise<{ connectionId: string; email: string } | undefined> {
  const owner =
    table === 'youtube_oauth_tokens'
      ? await db.selectFrom('youtube_oauth_tokens').select('google_connection_id').where('id', '=', credentialId).executeTakeFirst()
      : await db.selectFrom('cloud_storage_credentials').select('google_connection_id').where('id', '=', credentialId).executeTakeFirst();
  const connectionId = owner?.google_connection_id;
  if (!connectionId) return undefined;
  const expired = await db
    .updateTable('google_connections')
    .set({ status: 'expired', status_reason: reason, expiry_notified_at: sql`coalesce(expiry_notified_at, now())` })
    .where('id', '=', connectionId)
    .where('expiry_notified_at', 'is', null)
    .returning('user_id')
    .executeTakeFirst();
  if (!expired) return undefined;
  const user = await db.selectFrom('users').select('email').where('id', '=', expired.user_id).executeTakeFirstOrThrow();
  return { connectionId, email: user.email };
}

/** The user's other channels importing their uploads automatically (the plan's youtube_channel_limit caps these too). */
export async function countAutoImportChannels(db: DbOrTx, userId: string, exceptRowId: string): Promise<number> {
  const row = await db
    .selectFrom('user_youtube_channels')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('auto_import', '=', true)
    .where('id', '<>', exceptRowId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Turning auto-import on starts from now: uploads published before it are the user's to import by hand. */
export async function setChannelAutoImport(db: DbOrTx, channelRowId: string, autoImport: boolean): Promise<void> {
  await db
    .updateTable('user_youtube_channels')
    .set(
      autoImport
        ? { auto_import: true, last_synced_at: sql<Date>`case when auto_import then last_synced_at else now() end` }
        : { auto_import: false },
    )
    .where('id', '=', channelRowId)
    .execute();
}

/** Channels the auto-import sweep visits, by row id after `afterId`: auto_import on, connected, connection not expired. */
export async function listChannelsDueForSync(db: DbOrTx, afterId: string | null, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('user_youtube_channels as ch')
    .innerJoin('youtube_oauth_tokens as t', 't.id', 'ch.youtube_oauth_token_id')
    .innerJoin('google_connections as c', 'c.id', 't.google_connection_id')
    .select('ch.id')
    .where('ch.auto_import', '=', true)
    .where('ch.is_active', '=', true)
    .where('t.status', '=', 'active')
    .where('c.status', '=', 'active')
    .$if(afterId !== null, (qb) => qb.where('ch.id', '>', afterId ?? ''))
    .orderBy('ch.id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** One auto-import channel with its sealed tokens, or undefined once it is off, disconnected or expired. */
export async function findChannelForSync(db: DbOrTx, channelRowId: string) {
  return db
    .selectFrom('user_youtube_channels as ch')
    .innerJoin('youtube_oauth_tokens as t', 't.id', 'ch.youtube_oauth_token_id')
    .innerJoin('google_connections as c', 'c.id', 't.google_connection_id')
    .select([
      'ch.id',
      'ch.user_id',
      'ch.channel_id',
      'ch.channel_data',
      'ch.last_synced_at',
      't.id as token_id',
      't.encrypted_tokens',
      't.token_expires_at',
    ])
    .where('ch.id', '=', channelRowId)
    .where('ch.auto_import', '=', true)
    .where('ch.is_active', '=', true)
    .where('t.status', '=', 'active')
    .where('c.status', '=', 'active')
    .executeTakeFirst();
}

/** After a sync: uploads published up to `syncedThrough` are handled; the channel's counters as YouTube reports them. */
export async function recordChannelSync(
  db: DbOrTx,
  channelRowId: string,
  sync: { syncedThrough: Date; subscriberCount: number; videoCount: number },
): Promise<void> {
  await db
    .updateTable('user_youtube_channels')
    .set({ last_synced_at: sync.syncedThrough, subscriber_count: sync.subscriberCount, video_count: sync.videoCount })
    .where('id', '=', channelRowId)
    .execute();
}
