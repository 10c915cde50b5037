import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const GOOGLE_SERVICES = ['youtube', 'drive'] as const;

/**
 * One Google consent (POST /v1/connections/google) and the services it was granted for. Its tokens
 * live where the token sources read them: youtube_oauth_tokens (per channel) and
 * cloud_storage_credentials (Drive), each pointing back at the connection, so disconnecting drops both.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('google_connections')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('services', sql`text[]`, (c) =>
      c.notNull().check(sql`cardinality(services) > 0 and services <@ array[${sql.join(GOOGLE_SERVICES.map((s) => sql.lit(s)))}]::text[]`),
    )
    .addColumn('account_email', 'varchar(255)')
    // expired: Google answered invalid_grant (consent withdrawn or lapsed); the user must connect again.
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(checkIn('status', ['active', 'expired'])),
    )
    .addColumn('status_reason', 'text')
    // Set when the user was told their connection expired: once per expiry.
    .addColumn('expiry_notified_at', 'timestamptz')
    .execute();
  await addTimestamps(db, 'google_connections');
  await db.schema.createIndex('google_connections_user_idx').on('google_connections').column('user_id').execute();

  for (const table of ['youtube_oauth_tokens', 'cloud_storage_credentials']) {
    await db.schema
      .alterTable(table)
      .addColumn('google_connection_id', 'uuid', (c) => c.references('google_connections.id').onDelete('cascade'))
      .execute();
    await db.schema.createIndex(`${table}_google_connection_idx`).on(table).column('google_connection_id').execute();
  }

  // The social-account connect flow and the Google connection flow share one state table, never each other's states.
  await db.schema
    .alterTable('social_oauth_states')
    .addColumn('purpose', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('social_account')
        .check(checkIn('purpose', ['social_account', 'google_connection'])),
    )
    .addColumn('services', sql`text[]`)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
