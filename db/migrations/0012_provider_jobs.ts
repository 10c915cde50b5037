import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

/** `submitting`: claimed under our idempotency key, not yet (known to be) created at the provider. */
const PROVIDER_JOB_STATUSES = ['submitting', 'queued', 'processing', 'succeeded', 'failed', 'canceled'] as const;

/**
 * Long jobs at AI/media providers (Replicate trainings and predictions, transcripts, Freepik
 * tasks) and the webhooks they send. A submit first claims a row by (provider, idempotency_key)
 * from our ids, then stores the provider's job id on it: the webhook route finds the run to signal
 * by (provider, provider_job_id), and a retried submit finds the job it already created.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('provider_jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('provider', 'varchar(40)', (c) => c.notNull())
    .addColumn('idempotency_key', 'varchar(200)', (c) => c.notNull())
    .addColumn('provider_job_id', 'varchar(200)')
    .addColumn('workflow_id', 'varchar(255)', (c) => c.notNull())
    // What the job is for: 'training', 'prediction', 'transcript', …
    .addColumn('kind', 'varchar(40)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('submitting').check(checkIn('status', PROVIDER_JOB_STATUSES)))
    .addColumn('progress', 'smallint', (c) => c.check(sql`progress between 0 and 100`))
    .addColumn('eta', 'timestamptz')
    .addColumn('error', 'text')
    .addUniqueConstraint('provider_jobs_provider_job_id_key', ['provider', 'provider_job_id'])
    .addUniqueConstraint('provider_jobs_idempotency_key', ['provider', 'idempotency_key'])
    .execute();
  await addTimestamps(db, 'provider_jobs');
  await db.schema.createIndex('provider_jobs_workflow_idx').on('provider_jobs').column('workflow_id').execute();

  // One row per delivery id a provider sent (Standard Webhooks' webhook-id): a redelivery is seen and ignored.
  await db.schema
    .createTable('provider_webhook_deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('provider', 'varchar(40)', (c) => c.notNull())
    .addColumn('delivery_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('provider_job_id', 'varchar(200)')
    .addColumn('status', 'varchar(20)')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('provider_webhook_deliveries_key', ['provider', 'delivery_id'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
