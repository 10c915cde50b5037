import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

/** Identity, tenancy, API keys, audit and the generic run registry every workflow reports to. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists pgcrypto`.execute(db);
  await sql`create or replace function touch_updated_at() returns trigger language plpgsql as $$
    begin new.updated_at = now(); return new; end $$`.execute(db);

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('email', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('first_name', 'varchar(100)')
    .addColumn('last_name', 'varchar(100)')
    .addColumn('status', 'varchar(50)', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(checkIn('status', ['active', 'suspended', 'deleted'])),
    )
    .addColumn('role', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('user')
        .check(checkIn('role', ['user', 'admin'])),
    )
    .addColumn('subscription_tier', 'varchar(50)', (c) => c.notNull().defaultTo('free'))
    .addColumn('subscription_status', 'varchar(50)')
    .addColumn('subscription_period_end', 'timestamptz')
    .addColumn('trial_end', 'timestamptz')
    .addColumn('stripe_customer_id', 'varchar(255)', (c) => c.unique())
    .addColumn('free_video_used', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('timezone', 'varchar(64)', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('affiliate_code', 'varchar(50)', (c) => c.unique())
    .addColumn('referred_by_code', 'varchar(100)')
    .addColumn('is_affiliate', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('affiliate_status', 'varchar(50)', (c) =>
      c
        .notNull()
        .defaultTo('inactive')
        .check(checkIn('affiliate_status', ['inactive', 'pending', 'active', 'suspended'])),
    )
    .addColumn('affiliate_joined_at', 'timestamptz')
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await addTimestamps(db, 'users');

  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .execute();
  await addTimestamps(db, 'workspaces');
  await db.schema.createIndex('workspaces_owner_id_idx').on('workspaces').column('owner_id').execute();

  await db.schema
    .createTable('team_members')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('editor')
        .check(checkIn('role', ['owner', 'admin', 'editor', 'viewer'])),
    )
    .addUniqueConstraint('team_members_workspace_user_key', ['workspace_id', 'user_id'])
    .execute();
  await addTimestamps(db, 'team_members');
  await db.schema.createIndex('team_members_user_id_idx').on('team_members').column('user_id').execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    // Lookup handle shown in lists ("pk_ab12cd34"); the secret part is only stored hashed.
    .addColumn('key_prefix', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('key_hash', 'varchar(128)', (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('rate_limit', 'integer', (c) => c.check(sql`rate_limit is null or rate_limit > 0`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('usage_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await addTimestamps(db, 'api_keys');
  await db.schema.createIndex('api_keys_user_id_idx').on('api_keys').column('user_id').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('action', 'varchar(100)', (c) => c.notNull())
    .addColumn('entity_type', 'varchar(50)')
    .addColumn('entity_id', 'varchar(255)')
    .addColumn('old_values', 'jsonb')
    .addColumn('new_values', 'jsonb')
    .addColumn('ip_address', sql`inet`)
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'varchar(64)')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('audit_log_user_created_idx').on('audit_log').columns(['user_id', 'created_at']).execute();
  await db.schema.createIndex('audit_log_entity_idx').on('audit_log').columns(['entity_type', 'entity_id']).execute();

  // One row per workflow run started for a user: the lists and closed runs are served from here.
  await db.schema
    .createTable('job_runs')
    .addColumn('id', 'varchar(255)', (c) => c.primaryKey()) // the readable Temporal workflow id
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('type', 'varchar(50)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('running')
        .check(checkIn('status', ['running', 'completed', 'failed', 'canceled', 'terminated', 'timed_out'])),
    )
    .addColumn('stage', 'varchar(100)', (c) => c.notNull().defaultTo('queued'))
    .addColumn('progress', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`progress between 0 and 100`),
    )
    .addColumn('domain_id', 'varchar(255)')
    .addColumn('input', 'jsonb')
    .addColumn('result', 'jsonb')
    .addColumn('error_type', 'varchar(100)')
    .addColumn('error_message', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .execute();
  await addTimestamps(db, 'job_runs');
  await db.schema.createIndex('job_runs_user_started_idx').on('job_runs').columns(['user_id', 'started_at desc', 'id']).execute();
  await db.schema.createIndex('job_runs_user_status_idx').on('job_runs').columns(['user_id', 'status']).execute();

  // Idempotency-Key → the run a POST started, scoped per user.
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('request_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('response_body', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['user_id', 'key'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
