import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

/**
 * Outgoing webhooks (issue V) on the `webhooks` and `webhook_logs` tables of 0007: an outbox of
 * events (one row per fact, its id derived from the fact) and one delivery row per event and
 * subscribed endpoint, which the relay turns into one Temporal run each. Endpoints gain a
 * description, a rotated-out secret that still signs until it expires, and why they were disabled.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('webhooks')
    .addColumn('description', 'text')
    // lib/secrets.ts envelope of the secret replaced by the last rotation; AAD `webhooks:previous_encrypted_secret:<id>`.
    .addColumn('previous_encrypted_secret', 'text')
    .addColumn('previous_secret_expires_at', 'timestamptz')
    .addColumn('disabled_reason', 'text')
    .execute();

  await db.schema
    .createTable('webhook_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('type', 'varchar(100)', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('webhook_events_user_created_idx').on('webhook_events').columns(['user_id', 'created_at desc']).execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('event_id', 'uuid', (c) => c.notNull().references('webhook_events.id').onDelete('cascade'))
    .addColumn('webhook_id', 'uuid', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending').check(checkIn('status', DELIVERY_STATUSES)))
    // Set once its delivery run is started; the relay sweep starts the rows left null.
    .addColumn('dispatched_at', 'timestamptz')
    // Redeliveries requested so far; each one is its own run, numbering its attempts after the earlier ones.
    .addColumn('redeliveries', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`redeliveries >= 0`),
    )
    .addColumn('attempt_offset', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`attempt_offset >= 0`),
    )
    .addColumn('last_response_code', 'integer')
    .addColumn('delivered_at', 'timestamptz')
    .addUniqueConstraint('webhook_deliveries_event_webhook_key', ['event_id', 'webhook_id'])
    .execute();
  await addTimestamps(db, 'webhook_deliveries');
  await db.schema
    .createIndex('webhook_deliveries_webhook_created_idx')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'created_at desc'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_undispatched_idx')
    .on('webhook_deliveries')
    .column('created_at')
    .where(sql.ref('dispatched_at'), 'is', null)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
