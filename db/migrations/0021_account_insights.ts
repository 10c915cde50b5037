import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

/**
 * ClipFlow AI (seed 004): daily analytics per connected social account and the comments inbox.
 * `account_analytics` keeps one row per account and day (a re-run of the day updates it);
 * `comments` holds the comments polled from the user's recent posts, their model-classified
 * sentiment and our reply (published once, found again by its marker when retried); the
 * notification setting of the email about a revoked account.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('account_analytics')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('social_account_id', 'uuid', (c) => c.notNull().references('social_accounts.id').onDelete('cascade'))
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('followers', 'integer', (c) => c.check(sql`followers is null or followers >= 0`))
    .addColumn('followers_gained', 'integer')
    .addColumn('followers_lost', 'integer')
    .addColumn('impressions', 'bigint')
    .addColumn('reach', 'bigint')
    // Likes + comments + shares (+ saves) of the day, as the platform counts interactions.
    .addColumn('engagement', 'bigint')
    .addColumn('total_views', 'bigint')
    .addColumn('total_likes', 'integer')
    .addColumn('total_comments', 'integer')
    .addColumn('total_shares', 'integer')
    .addColumn('posts_published', 'integer')
    // engagement / reach in percent (null without reach).
    .addColumn('engagement_rate', sql`numeric(7,2)`)
    .addColumn('demographics', 'jsonb')
    // The platform's answer as read, for figures without a column.
    .addColumn('raw_data', 'jsonb')
    .addUniqueConstraint('account_analytics_account_date_key', ['social_account_id', 'date'])
    .execute();
  await addTimestamps(db, 'account_analytics');
  await db.schema
    .createIndex('account_analytics_account_date_idx')
    .on('account_analytics')
    .columns(['social_account_id', 'date desc'])
    .execute();

  await db.schema
    .createTable('comments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('post_id', 'uuid', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    .addColumn('social_account_id', 'uuid', (c) => c.notNull().references('social_accounts.id').onDelete('cascade'))
    .addColumn('platform_comment_id', 'varchar(255)', (c) => c.notNull())
    // The platform id of the post it is under (a post with several targets has one per account).
    .addColumn('platform_post_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('parent_comment_id', 'uuid', (c) => c.references('comments.id').onDelete('set null'))
    .addColumn('author_id', 'varchar(255)')
    .addColumn('author_username', 'varchar(255)')
    .addColumn('author_display_name', 'varchar(255)')
    .addColumn('author_avatar_url', 'text')
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('sentiment', 'varchar(20)', (c) =>
      c.check(sql`sentiment is null or ${checkIn('sentiment', ['positive', 'negative', 'neutral'])}`),
    )
    .addColumn('sentiment_score', sql`numeric(4,3)`, (c) => c.check(sql`sentiment_score is null or sentiment_score between -1 and 1`))
    .addColumn('is_read', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_archived', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_spam', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('replied', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('replied_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('replied_at', 'timestamptz')
    .addColumn('reply_text', 'text')
    // Our reply's id on the platform.
    .addColumn('reply_platform_id', 'varchar(255)')
    .addColumn('posted_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('comments_account_platform_comment_key', ['social_account_id', 'platform_comment_id'])
    .addCheckConstraint('comments_replied_check', sql`not replied or (reply_text is not null and replied_at is not null)`)
    .execute();
  await addTimestamps(db, 'comments');
  await db.schema.createIndex('comments_post_idx').on('comments').column('post_id').execute();
  await db.schema
    .createIndex('comments_unread_idx')
    .on('comments')
    .columns(['social_account_id', 'is_read'])
    .where(sql.ref('is_read'), '=', false)
    .execute();
  await db.schema.createIndex('comments_posted_idx').on('comments').column('posted_at desc').execute();
  // The classification backlog: comments still without a sentiment.
  await db.schema
    .createIndex('comments_unclassified_idx')
    .on('comments')
    .column('social_account_id')
    .where(sql.ref('sentiment'), 'is', null)
    .execute();

  // The email sent once when a connected account's authorization is revoked (notifyOnce kind).
  await db.schema
    .alterTable('notification_settings')
    .addColumn('social_account_revoked', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
