import { sql, type Kysely } from 'kysely';

/**
 * Operations (issue 25, W items 4–6): a usage ledger for the cost of each tenant, and the indexes
 * the retention sweep deletes by.
 *
 * `usage_events` holds one row per counted fact (a content piece written, a clip rendered, a post
 * published, the ffmpeg CPU time and YouTube units of one activity attempt, bytes stored). Its
 * key (kind, fact_key) comes from the fact, so a retried activity or a replayed transaction adds
 * nothing: the subscription_usage counter moves only when the row is new, in the same transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('usage_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('kind', 'varchar(40)', (c) => c.notNull())
    .addColumn('fact_key', 'varchar(300)', (c) => c.notNull())
    .addColumn('quantity', 'numeric(18, 3)', (c) => c.notNull().check(sql`quantity >= 0`))
    // The workflow the fact belongs to, when one did it.
    .addColumn('run_id', 'varchar(255)')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('usage_events_kind_fact_key', ['kind', 'fact_key'])
    .execute();
  await db.schema.createIndex('usage_events_user_created_idx').on('usage_events').columns(['user_id', 'created_at']).execute();
  await db.schema.createIndex('usage_events_created_idx').on('usage_events').column('created_at').execute();

  // Retention deletes the oldest rows first, LIMIT n per statement: each needs its age indexed.
  await sql`create index job_runs_closed_idx on job_runs (closed_at) where status <> 'running'`.execute(db);
  await sql`create index job_runs_failed_type_idx on job_runs (type, closed_at) where status = 'failed'`.execute(db);
  await db.schema.createIndex('idempotency_keys_created_idx').on('idempotency_keys').column('created_at').execute();
  await db.schema.createIndex('webhook_logs_created_idx').on('webhook_logs').column('created_at').execute();
  await db.schema.createIndex('ai_usage_logs_created_idx').on('ai_usage_logs').column('created_at').execute();
  await db.schema.createIndex('audit_log_created_idx').on('audit_log').column('created_at').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
