import { sql, type Kysely } from 'kysely';
import { addTimestamps } from './helpers';

/** AI cost accounting, provider quotas (e.g. YouTube units per day), outgoing webhooks (ClipFlow AI). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ai_usage_logs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('run_id', 'varchar(255)')
    .addColumn('provider', 'varchar(50)', (c) => c.notNull())
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('operation', 'varchar(100)', (c) => c.notNull())
    .addColumn('input_tokens', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`input_tokens >= 0`),
    )
    .addColumn('output_tokens', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`output_tokens >= 0`),
    )
    // Integer micro-dollars: a 1k-token call costs fractions of a cent.
    .addColumn('cost_micro_usd', 'bigint', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`cost_micro_usd >= 0`),
    )
    .addColumn('latency_ms', 'integer', (c) => c.check(sql`latency_ms is null or latency_ms >= 0`))
    .addColumn('metadata', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('ai_usage_logs_user_created_idx').on('ai_usage_logs').columns(['user_id', 'created_at desc']).execute();
  await db.schema
    .createIndex('ai_usage_logs_run_idx')
    .on('ai_usage_logs')
    .column('run_id')
    .where(sql.ref('run_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('ai_usage_logs_provider_created_idx').on('ai_usage_logs').columns(['provider', 'created_at']).execute();

  await db.schema
    .createTable('provider_quota_usage')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('provider', 'varchar(50)', (c) => c.notNull())
    // The quota owner at the provider (Google Cloud project, API key name).
    .addColumn('project_key', 'varchar(255)', (c) => c.notNull())
    // The provider's quota day (YouTube resets at midnight America/Los_Angeles).
    .addColumn('period_date', 'date', (c) => c.notNull())
    .addColumn('units_used', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`units_used >= 0`),
    )
    .addUniqueConstraint('provider_quota_usage_provider_project_period_key', ['provider', 'project_key', 'period_date'])
    .execute();
  await addTimestamps(db, 'provider_quota_usage');

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('workspace_id', 'uuid', (c) => c.references('workspaces.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    // lib/secrets.ts envelope of the signing secret; AAD `webhooks:encrypted_secret:<id>`.
    .addColumn('encrypted_secret', 'text', (c) => c.notNull())
    .addColumn('events', sql`text[]`, (c) => c.notNull().check(sql`cardinality(events) > 0`))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('last_triggered_at', 'timestamptz')
    .addColumn('last_response_code', 'integer')
    .addColumn('failure_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`failure_count >= 0`),
    )
    .execute();
  await addTimestamps(db, 'webhooks');
  await db.schema.createIndex('webhooks_user_idx').on('webhooks').column('user_id').execute();

  await db.schema
    .createTable('webhook_logs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('webhook_id', 'uuid', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('event_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('event_id', 'uuid', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`attempt > 0`),
    )
    .addColumn('request_body', 'jsonb', (c) => c.notNull())
    .addColumn('response_code', 'integer')
    .addColumn('response_body', 'text')
    .addColumn('response_time_ms', 'integer', (c) => c.check(sql`response_time_ms is null or response_time_ms >= 0`))
    .addColumn('success', 'boolean', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('webhook_logs_delivery_attempt_key', ['webhook_id', 'event_id', 'attempt'])
    .execute();
  await db.schema.createIndex('webhook_logs_webhook_created_idx').on('webhook_logs').columns(['webhook_id', 'created_at desc']).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
