import { sql, type Kysely } from 'kysely';
import { checkIn } from './helpers';

const PLATFORMS = ['youtube', 'instagram', 'tiktok', 'facebook', 'linkedin', 'twitter', 'pinterest', 'threads'] as const;

/** One-time `state` values of OAuth connect flows (POST /v1/social-accounts with a redirectUri). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('social_oauth_states')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('platform', 'varchar(20)', (c) => c.notNull().check(checkIn('platform', PLATFORMS)))
    // SHA-256 of the state handed to the client; the state itself is never stored (like API keys).
    .addColumn('state_hash', 'varchar(64)', (c) => c.notNull().unique())
    // The token exchange must repeat the exact redirect URI of the authorization request.
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('social_oauth_states_user_idx').on('social_oauth_states').column('user_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
