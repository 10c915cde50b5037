import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

export const SCRAPING_STATUSES = ['Pending', 'Scraping', 'Success', 'Failed'] as const;
export const SCRAPE_FAILURE_REASONS = ['blocked_by_robots', 'not_a_product', 'timeout', 'fetch_failed'] as const;
export const PRODUCT_VIDEO_STATUSES = ['Pending', 'GeneratingImage', 'GeneratingVideo', 'Completed', 'Failed'] as const;
export const CREDIT_LOT_SOURCES = ['subscription', 'purchase', 'bonus', 'refund', 'adjustment', 'legacy'] as const;

/**
 * EcomVideo AI (seed 002): scraped products and their images, per-domain scraping rules and the
 * shared next-allowed-at slot per domain, product videos made through Freepik, credit lots that
 * expire (with the lots each debit drew from, so a refund restores them), notification settings
 * and the notifications already sent (at most once each).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('scraping_rules')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('domain', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('platform', 'varchar(50)', (c) => c.notNull().defaultTo('generic'))
    .addColumn('selectors', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('headers', 'jsonb')
    .addColumn('delay_ms', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1000)
        .check(sql`delay_ms between 0 and 600000`),
    )
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
  await addTimestamps(db, 'scraping_rules');

  // One row per domain: the earliest moment the next request to it may go out, whichever worker sends it.
  await db.schema
    .createTable('scrape_domain_slots')
    .addColumn('domain', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('next_allowed_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('product_data')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('original_url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('domain', 'varchar(255)', (c) => c.notNull())
    .addColumn('platform', 'varchar(50)')
    .addColumn('product_id', 'varchar(255)')
    .addColumn('name', 'varchar(500)')
    .addColumn('description', 'text')
    .addColumn('price', 'numeric(12, 2)')
    .addColumn('currency', 'varchar(3)')
    .addColumn('brand', 'varchar(200)')
    .addColumn('sku', 'varchar(100)')
    .addColumn('availability', 'varchar(100)')
    .addColumn('main_image_url', 'varchar(2048)')
    .addColumn('scraping_status', 'varchar(20)', (c) =>
      c.notNull().defaultTo('Pending').check(checkIn('scraping_status', SCRAPING_STATUSES)),
    )
    .addColumn('failure_reason', 'varchar(30)', (c) => c.check(checkIn('failure_reason', SCRAPE_FAILURE_REASONS)))
    .addColumn('error_message', 'varchar(1000)')
    .addColumn('scraped_at', 'timestamptz')
    .addColumn('metadata', 'jsonb')
    .execute();
  await addTimestamps(db, 'product_data');
  await db.schema.createIndex('product_data_user_created_idx').on('product_data').columns(['user_id', 'created_at']).execute();

  await db.schema
    .createTable('product_images')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('product_data_id', 'uuid', (c) => c.notNull().references('product_data.id').onDelete('cascade'))
    .addColumn('source_url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('storage_key', 'varchar(500)', (c) => c.notNull())
    .addColumn('content_type', 'varchar(50)', (c) => c.notNull())
    .addColumn('alt_text', 'varchar(500)')
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('file_size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('is_primary', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('sort_order', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('product_images_product_order_key', ['product_data_id', 'sort_order'])
    .execute();

  await db.schema
    .createTable('product_videos')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('product_data_id', 'uuid', (c) => c.notNull().references('product_data.id').onDelete('cascade'))
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('Pending').check(checkIn('status', PRODUCT_VIDEO_STATUSES)))
    .addColumn('progress', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`progress between 0 and 100`),
    )
    .addColumn('style', 'varchar(100)')
    .addColumn('aspect_ratio', 'varchar(10)', (c) => c.notNull().check(checkIn('aspect_ratio', ['9:16', '1:1', '16:9'])))
    .addColumn('duration_seconds', 'integer', (c) => c.notNull().check(sql`duration_seconds in (5, 10)`))
    .addColumn('text_prompt', 'varchar(2000)', (c) => c.notNull())
    .addColumn('overlay_text', 'varchar(200)')
    .addColumn('ai_provider', 'varchar(50)', (c) => c.notNull().defaultTo('Freepik'))
    .addColumn('freepik_image_task_id', 'varchar(100)', (c) => c.unique())
    .addColumn('freepik_task_id', 'varchar(100)', (c) => c.unique())
    .addColumn('image_url', 'varchar(2048)')
    .addColumn('video_url', 'varchar(2048)')
    .addColumn('file_size_bytes', 'bigint')
    .addColumn('generation_cost_credits', 'integer', (c) => c.notNull().check(sql`generation_cost_credits >= 0`))
    .addColumn('credits_state', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('none')
        .check(checkIn('credits_state', ['none', 'reserved', 'committed', 'refunded'])),
    )
    .addColumn('error_message', 'varchar(2000)')
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await addTimestamps(db, 'product_videos');
  await db.schema.createIndex('product_videos_user_created_idx').on('product_videos').columns(['user_id', 'created_at']).execute();

  // Credit lots: each grant is a lot with its own expiry; the balance is the sum of live lots.
  await db.schema
    .createTable('credit_lots')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('source_transaction_id', 'uuid', (c) => c.unique().references('credit_transactions.id'))
    .addColumn('source', 'varchar(20)', (c) => c.notNull().check(checkIn('source', CREDIT_LOT_SOURCES)))
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('remaining', 'integer', (c) => c.notNull().check(sql`remaining >= 0 and remaining <= amount`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('expired_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index credit_lots_spend_order_idx on credit_lots (user_id, expires_at nulls last, created_at) where remaining > 0`.execute(
    db,
  );
  await sql`create index credit_lots_due_idx on credit_lots (expires_at) where remaining > 0 and expired_at is null`.execute(db);

  // Balances from before lots existed become one lot each that never expires.
  await sql`insert into credit_lots (user_id, source, amount, remaining)
      select user_id, 'legacy', balance, balance from user_credits where balance > 0`.execute(db);

  await db.schema
    .createTable('credit_lot_usages')
    .addColumn('transaction_id', 'uuid', (c) => c.notNull().references('credit_transactions.id').onDelete('cascade'))
    .addColumn('lot_id', 'uuid', (c) => c.notNull().references('credit_lots.id').onDelete('cascade'))
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount > 0`))
    .addPrimaryKeyConstraint('credit_lot_usages_pkey', ['transaction_id', 'lot_id'])
    .execute();

  await db.schema
    .createTable('notification_settings')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('video_completed', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('video_failed', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('subscription_renewal', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('email_enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
  await addTimestamps(db, 'notification_settings');

  // A notification is sent at most once: its dedupe key (e.g. `video_completed:<videoId>`) is claimed first.
  await db.schema
    .createTable('notification_deliveries')
    .addColumn('dedupe_key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'varchar(50)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull().check(checkIn('status', ['sent', 'skipped'])))
    .addColumn('provider_message_id', 'varchar(255)')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
