import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const PLATFORMS = ['youtube', 'instagram', 'tiktok', 'facebook', 'linkedin', 'twitter', 'pinterest', 'threads'] as const;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const score = (column: string) => sql`${sql.ref(column)} is null or ${sql.ref(column)} between 0 and 100`;

/** Clips and captions (ClipFlow AI); social accounts, posts, metrics and posting schedules (ClipFlow AI, Glow Social). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('clips')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('workspace_id', 'uuid', (c) => c.references('workspaces.id').onDelete('set null'))
    // The clips request (workflow id) and the clip's place in it: the natural key a retried render upserts on.
    .addColumn('run_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('clip_index', 'integer', (c) => c.notNull().check(sql`clip_index >= 0`))
    .addColumn('title', 'varchar(500)')
    .addColumn('description', 'text')
    // Seconds as double precision: ffmpeg/ffprobe speak floating seconds, and pg returns numbers.
    .addColumn('start_time', 'double precision', (c) => c.notNull().check(sql`start_time >= 0`))
    .addColumn('end_time', 'double precision', (c) => c.notNull())
    .addColumn('duration_seconds', 'double precision', (c) =>
      c
        .generatedAlwaysAs(sql`end_time - start_time`)
        .stored()
        .notNull(),
    )
    .addColumn('file_urls', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('thumbnail_url', 'text')
    .addColumn('virality_score', 'integer', (c) => c.check(score('virality_score')))
    .addColumn('hook_score', 'integer', (c) => c.check(score('hook_score')))
    .addColumn('engagement_score', 'integer', (c) => c.check(score('engagement_score')))
    .addColumn('topics', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('emotions', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('transcript_segment', 'text')
    .addColumn('has_captions', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('caption_style', 'varchar(50)')
    .addColumn('render_status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(checkIn('render_status', ['pending', 'rendering', 'completed', 'failed'])),
    )
    .addColumn('render_error', 'text')
    // ClipFlow's review lifecycle, independent of rendering.
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('generated')
        .check(checkIn('status', ['generated', 'edited', 'approved', 'rejected', 'published'])),
    )
    .addColumn('approved_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('approved_at', 'timestamptz')
    .addColumn('rejection_reason', 'text')
    .addColumn('times_published', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`times_published >= 0`),
    )
    .addColumn('deleted_at', 'timestamptz')
    .addUniqueConstraint('clips_run_index_key', ['run_id', 'clip_index'])
    .addCheckConstraint('clips_time_range_check', sql`end_time > start_time`)
    .execute();
  await addTimestamps(db, 'clips');
  await db.schema.createIndex('clips_video_idx').on('clips').columns(['video_id', 'created_at desc']).execute();
  await db.schema.createIndex('clips_user_idx').on('clips').columns(['user_id', 'created_at desc']).execute();

  await db.schema
    .createTable('captions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('clip_id', 'uuid', (c) => c.notNull().references('clips.id').onDelete('cascade'))
    .addColumn('language', 'varchar(10)', (c) => c.notNull().defaultTo('en'))
    .addColumn('style', 'varchar(50)', (c) => c.notNull())
    .addColumn('font_family', 'varchar(100)')
    .addColumn('font_size', 'integer', (c) => c.check(sql`font_size is null or font_size > 0`))
    .addColumn('font_color', 'varchar(9)')
    .addColumn('background_color', 'varchar(9)')
    .addColumn('position', 'varchar(10)', (c) =>
      c
        .notNull()
        .defaultTo('bottom')
        .check(checkIn('position', ['top', 'middle', 'bottom'])),
    )
    // [{ word, start, end, confidence? }] relative to the clip start.
    .addColumn('words', 'jsonb', (c) => c.notNull())
    .addColumn('srt', 'text')
    .addColumn('vtt', 'text')
    .addColumn('srt_url', 'text')
    .addColumn('vtt_url', 'text')
    .addUniqueConstraint('captions_clip_language_key', ['clip_id', 'language'])
    .execute();
  await addTimestamps(db, 'captions');

  await db.schema
    .createTable('social_accounts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('workspace_id', 'uuid', (c) => c.references('workspaces.id').onDelete('set null'))
    .addColumn('platform', 'varchar(20)', (c) => c.notNull().check(checkIn('platform', PLATFORMS)))
    .addColumn('platform_user_id', 'varchar(255)')
    .addColumn('username', 'varchar(255)')
    .addColumn('display_name', 'varchar(255)')
    .addColumn('profile_image_url', 'text')
    // lib/secrets.ts envelope of { access_token, refresh_token }; AAD `social_accounts:encrypted_tokens:<id>`.
    .addColumn('encrypted_tokens', 'text', (c) => c.notNull())
    .addColumn('token_expires_at', 'timestamptz')
    .addColumn('scopes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('account_type', 'varchar(20)', (c) =>
      c.check(sql`account_type is null or ${checkIn('account_type', ['personal', 'business', 'creator'])}`),
    )
    .addColumn('follower_count', 'integer', (c) => c.check(sql`follower_count is null or follower_count >= 0`))
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(checkIn('status', ['active', 'expired', 'revoked', 'error', 'disconnected'])),
    )
    .addColumn('last_error', 'text')
    .addColumn('last_sync_at', 'timestamptz')
    .addColumn('disconnected_at', 'timestamptz')
    .addUniqueConstraint('social_accounts_user_platform_account_key', ['user_id', 'platform', 'platform_user_id'])
    .execute();
  await addTimestamps(db, 'social_accounts');

  await db.schema
    .createTable('posts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('workspace_id', 'uuid', (c) => c.references('workspaces.id').onDelete('set null'))
    // NO ACTION (checked at statement end): an account with posts is disconnected, not deleted,
    // while deleting the user still cascades through both tables.
    .addColumn('social_account_id', 'uuid', (c) => c.notNull().references('social_accounts.id').onDelete('no action'))
    .addColumn('clip_id', 'uuid', (c) => c.references('clips.id').onDelete('set null'))
    .addColumn('caption', 'text')
    .addColumn('hashtags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('mentions', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('media_urls', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('media_type', 'varchar(20)', (c) => c.notNull().check(checkIn('media_type', ['video', 'image', 'carousel'])))
    .addColumn('thumbnail_url', 'text')
    .addColumn('platform_options', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('draft')
        .check(checkIn('status', ['draft', 'pending_approval', 'scheduled', 'publishing', 'published', 'failed', 'canceled'])),
    )
    .addColumn('scheduled_at', 'timestamptz')
    .addColumn('published_at', 'timestamptz')
    .addColumn('platform_post_id', 'varchar(255)')
    .addColumn('platform_url', 'text')
    .addColumn('publish_error', 'text')
    .addColumn('retry_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`retry_count >= 0`),
    )
    .addColumn('needs_approval', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('approved_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('approved_at', 'timestamptz')
    .addColumn('rejection_reason', 'text')
    .addColumn('last_metrics_sync_at', 'timestamptz')
    .addColumn('run_id', 'varchar(255)')
    .addCheckConstraint('posts_published_check', sql`status <> 'published' or (platform_post_id is not null and published_at is not null)`)
    .execute();
  await addTimestamps(db, 'posts');
  await db.schema.createIndex('posts_user_scheduled_idx').on('posts').columns(['user_id', 'scheduled_at']).execute();
  await db.schema.createIndex('posts_account_status_idx').on('posts').columns(['social_account_id', 'status']).execute();
  // One live post per account per instant: two slot assignments racing cannot both take a slot.
  await db.schema
    .createIndex('posts_account_slot_key')
    .on('posts')
    .columns(['social_account_id', 'scheduled_at'])
    .unique()
    .where(sql<boolean>`scheduled_at is not null and status in ('pending_approval', 'scheduled', 'publishing', 'published')`)
    .execute();
  // A platform post id belongs to one of our posts: a re-published duplicate is detectable.
  await db.schema
    .createIndex('posts_platform_post_key')
    .on('posts')
    .columns(['social_account_id', 'platform_post_id'])
    .unique()
    .where(sql.ref('platform_post_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('post_metrics')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('post_id', 'uuid', (c) => c.notNull().references('posts.id').onDelete('cascade'))
    // The sync timer that took it ('1h', '24h', '7d'), or null for an ad-hoc sync.
    .addColumn('checkpoint', 'varchar(10)')
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('views', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('likes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('comments', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('shares', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('saves', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('impressions', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('reach', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('watch_time_seconds', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('avg_watch_percent', 'double precision', (c) =>
      c.check(sql`avg_watch_percent is null or avg_watch_percent between 0 and 100`),
    )
    .addColumn('profile_visits', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('follows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('link_clicks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('raw_data', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('post_metrics_post_recorded_idx').on('post_metrics').columns(['post_id', 'recorded_at desc']).execute();
  await db.schema
    .createIndex('post_metrics_post_checkpoint_key')
    .on('post_metrics')
    .columns(['post_id', 'checkpoint'])
    .unique()
    .where(sql.ref('checkpoint'), 'is not', null)
    .execute();

  // Glow Social's weekly posting slots, interpreted in `timezone` (IANA).
  await db.schema
    .createTable('posting_schedules')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // null = the user's default schedule for every account.
    .addColumn('social_account_id', 'uuid', (c) => c.references('social_accounts.id').onDelete('cascade'))
    .addColumn('timezone', 'varchar(64)', (c) => c.notNull())
    .addColumn('posting_days', sql`text[]`, (c) =>
      c.notNull().check(sql`cardinality(posting_days) > 0 and posting_days <@ array[${sql.join(WEEKDAYS.map((d) => sql.lit(d)))}]::text[]`),
    )
    .addColumn('posting_times', sql`time[]`, (c) => c.notNull().check(sql`cardinality(posting_times) > 0`))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addUniqueConstraint('posting_schedules_user_account_key', ['user_id', 'social_account_id'], (u) => u.nullsNotDistinct())
    .execute();
  await addTimestamps(db, 'posting_schedules');
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
