import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const ACCOUNT_PLATFORMS = [
  'youtube',
  'instagram',
  'tiktok',
  'facebook',
  'linkedin',
  'twitter',
  'pinterest',
  'threads',
  'ayrshare',
] as const;
const TARGET_PLATFORMS = ['youtube', 'instagram', 'tiktok', 'facebook', 'linkedin', 'twitter'] as const;
const POST_STATUSES = ['draft', 'pending_approval', 'scheduled', 'publishing', 'published', 'partially_published', 'failed', 'canceled'];
const TARGET_STATUSES = ['pending', 'publishing', 'published', 'failed', 'canceled'] as const;

/**
 * Glow Social: one post to several platforms (one post_targets row per account and platform, each
 * published and retried on its own), Ayrshare as a publishing back end (a social account of
 * platform `ayrshare` whose sealed token is the user's profile key), and cancellation_logs of the
 * clean-up run when a subscription ends.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table social_accounts drop constraint social_accounts_platform_check`.execute(db);
  await db.schema
    .alterTable('social_accounts')
    .addCheckConstraint('social_accounts_platform_check', checkIn('platform', ACCOUNT_PLATFORMS))
    .execute();

  // A post with several targets where some failed is partially_published.
  await sql`alter table posts drop constraint posts_status_check`.execute(db);
  await db.schema.alterTable('posts').addCheckConstraint('posts_status_check', checkIn('status', POST_STATUSES)).execute();

  await db.schema
    .createTable('post_targets')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('post_id', 'uuid', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('social_account_id', 'uuid', (c) => c.notNull().references('social_accounts.id').onDelete('no action'))
    // Where it is published (stored names: `twitter` for X); through the account's own API, or Ayrshare's for an ayrshare account.
    .addColumn('platform', 'varchar(20)', (c) => c.notNull().check(checkIn('platform', TARGET_PLATFORMS)))
    // Order of the request; position 0 is the post's own account (posts.social_account_id).
    .addColumn('position', 'smallint', (c) => c.notNull().check(sql`position >= 0`))
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending').check(checkIn('status', TARGET_STATUSES)))
    .addColumn('platform_post_id', 'varchar(255)')
    .addColumn('platform_url', 'text')
    // Ayrshare's own post id (GET/DELETE /api/post/:id), as the seed's content_posts.ayrshare_post_id.
    .addColumn('ayrshare_post_id', 'varchar(255)')
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`attempts >= 0`),
    )
    .addColumn('published_at', 'timestamptz')
    .addCheckConstraint(
      'post_targets_published_check',
      sql`status <> 'published' or (platform_post_id is not null and published_at is not null)`,
    )
    .addUniqueConstraint('post_targets_post_account_platform_key', ['post_id', 'social_account_id', 'platform'])
    .addUniqueConstraint('post_targets_post_position_key', ['post_id', 'position'])
    .execute();
  await addTimestamps(db, 'post_targets');
  await db.schema.createIndex('post_targets_account_idx').on('post_targets').column('social_account_id').execute();
  // A platform post id belongs to one target: a re-published duplicate is detectable.
  await db.schema
    .createIndex('post_targets_platform_post_key')
    .on('post_targets')
    .columns(['social_account_id', 'platform', 'platform_post_id'])
    .unique()
    .where(sql.ref('platform_post_id'), 'is not', null)
    .execute();

  // Every existing post had exactly one account: it becomes that post's only target.
  await sql`
    insert into post_targets (post_id, social_account_id, platform, position, status, platform_post_id, platform_url, error, attempts, published_at)
    select p.id, p.social_account_id, a.platform, 0,
           case when p.status in ('publishing', 'published', 'failed', 'canceled') then p.status else 'pending' end,
           p.platform_post_id, p.platform_url, p.publish_error, p.retry_count, p.published_at
      from posts p join social_accounts a on a.id = p.social_account_id
     where a.platform in (${sql.join(TARGET_PLATFORMS.map((p) => sql.lit(p)))})`.execute(db);

  await db.schema
    .createTable('cancellation_logs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // The clean-up run's id: a retried activity writes its log once.
    .addColumn('cleanup_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('stripe_subscription_id', 'varchar(255)')
    .addColumn('email', 'text')
    .addColumn('reason', 'text')
    .addColumn('feedback', 'text')
    .addColumn('cleanup_results', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('cancellation_logs_user_idx').on('cancellation_logs').column('user_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
