import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const THUMBNAIL_ASPECT_RATIOS = ['16:9', '9:16'] as const;
const KEY_CHECK = sql`key ~ '^[a-z][a-z0-9_]*$'`;

/** AI thumbnails (AmplifyContent.ai): reference data, tier limits and usage, jobs, results, character profiles. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('thumbnail_styles')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('key', 'varchar(50)', (c) => c.notNull().unique().check(KEY_CHECK))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    // Rendering hints for the media toolkit: { background, accent, text, stroke, fontWeight, textPosition, textCase }.
    .addColumn('design', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
  await addTimestamps(db, 'thumbnail_styles');

  await db.schema
    .createTable('thumbnail_expressions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('key', 'varchar(50)', (c) => c.notNull().unique().check(KEY_CHECK))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('primary_emotion', 'varchar(100)', (c) => c.notNull())
    .addColumn('face_details', 'text', (c) => c.notNull())
    .addColumn('eye_details', 'text', (c) => c.notNull())
    .addColumn('intensity', 'integer', (c) => c.notNull().check(sql`intensity between 1 and 3`))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
  await addTimestamps(db, 'thumbnail_expressions');

  await db.schema
    .createTable('thumbnail_content_categories')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('key', 'varchar(50)', (c) => c.notNull().unique().check(KEY_CHECK))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
  await addTimestamps(db, 'thumbnail_content_categories');

  await db.schema
    .createTable('thumbnail_tier_limits')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('subscription_tier', 'varchar(50)', (c) =>
      c.notNull().unique().references('subscription_plans.slug').onUpdate('cascade').onDelete('cascade'),
    )
    .addColumn('iterations_16_9', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`iterations_16_9 >= 0`),
    )
    .addColumn('iterations_9_16', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`iterations_9_16 >= 0`),
    )
    .addColumn('is_unlimited', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('reset_monthly', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await addTimestamps(db, 'thumbnail_tier_limits');

  await db.schema
    .createTable('thumbnail_usage')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('aspect_ratio', 'varchar(10)', (c) => c.notNull().check(checkIn('aspect_ratio', THUMBNAIL_ASPECT_RATIOS)))
    .addColumn('iterations_used', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`iterations_used >= 0`),
    )
    // Iterations held by running jobs; only produced thumbnails are committed into iterations_used.
    .addColumn('iterations_reserved', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`iterations_reserved >= 0`),
    )
    .addColumn('thumbnails_generated', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`thumbnails_generated >= 0`),
    )
    // Non-resetting tiers keep one row with period_start = the epoch and no period_end.
    .addColumn('period_start', 'timestamptz', (c) => c.notNull())
    .addColumn('period_end', 'timestamptz')
    .addUniqueConstraint('thumbnail_usage_user_aspect_period_key', ['user_id', 'aspect_ratio', 'period_start'])
    .addCheckConstraint('thumbnail_usage_period_check', sql`period_end is null or period_end > period_start`)
    .execute();
  await addTimestamps(db, 'thumbnail_usage');

  await db.schema
    .createTable('user_character_profiles')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('profile_name', 'varchar(100)', (c) => c.notNull().defaultTo('Default'))
    .addColumn('race_ethnicity', 'varchar(100)')
    .addColumn('age_range', 'varchar(50)')
    .addColumn('gender', 'varchar(50)')
    .addColumn('face_shape', 'varchar(100)')
    .addColumn('eye_description', 'text')
    .addColumn('hair_description', 'text')
    .addColumn('skin_tone', 'varchar(100)')
    .addColumn('facial_hair', 'text')
    .addColumn('glasses_description', 'text')
    .addColumn('distinguishing_features', 'text')
    // The sentence the prompt embeds so the same person appears in every thumbnail.
    .addColumn('full_anchor_text', 'text')
    .addColumn('is_default', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
  await addTimestamps(db, 'user_character_profiles');
  await db.schema.createIndex('user_character_profiles_user_idx').on('user_character_profiles').column('user_id').execute();
  await db.schema
    .createIndex('user_character_profiles_default_key')
    .on('user_character_profiles')
    .column('user_id')
    .unique()
    .where(sql.ref('is_default'), '=', true)
    .execute();

  await db.schema
    .createTable('thumbnail_reference_images')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('cloudinary_public_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('cloudinary_url', 'varchar(500)', (c) => c.notNull())
    .addColumn('cloudinary_secure_url', 'varchar(500)', (c) => c.notNull())
    .addColumn('original_filename', 'varchar(255)')
    .addColumn('file_size_bytes', 'integer', (c) => c.check(sql`file_size_bytes is null or file_size_bytes >= 0`))
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('mime_type', 'varchar(50)')
    .addColumn('display_name', 'varchar(100)')
    .addColumn('is_default', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('usage_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`usage_count >= 0`),
    )
    .execute();
  await addTimestamps(db, 'thumbnail_reference_images');
  await db.schema.createIndex('thumbnail_reference_images_user_idx').on('thumbnail_reference_images').column('user_id').execute();

  await db.schema
    .createTable('thumbnail_generation_jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('topic', 'varchar(255)', (c) => c.notNull())
    .addColumn('sub_topic', 'varchar(255)')
    .addColumn('expression_category', 'varchar(50)', (c) =>
      c.notNull().references('thumbnail_expressions.key').onUpdate('cascade').onDelete('restrict'),
    )
    .addColumn('aspect_ratio', 'varchar(10)', (c) => c.notNull().check(checkIn('aspect_ratio', THUMBNAIL_ASPECT_RATIOS)))
    .addColumn('content_category', 'varchar(50)', (c) =>
      c.references('thumbnail_content_categories.key').onUpdate('cascade').onDelete('set null'),
    )
    .addColumn('styles', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('reference_image_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .addColumn('character_profile_id', 'uuid', (c) => c.references('user_character_profiles.id').onDelete('set null'))
    .addColumn('status', 'varchar(30)', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(checkIn('status', ['pending', 'processing', 'completed', 'completed_with_errors', 'failed', 'canceled'])),
    )
    .addColumn('progress', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`progress between 0 and 100`),
    )
    .addColumn('current_style', 'varchar(50)')
    .addColumn('thumbnails_requested', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`thumbnails_requested >= 0`),
    )
    .addColumn('thumbnails_generated', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`thumbnails_generated >= 0`),
    )
    .addColumn('error_message', 'text')
    .addColumn('retry_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`retry_count >= 0`),
    )
    .addColumn('run_id', 'varchar(255)')
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await addTimestamps(db, 'thumbnail_generation_jobs');
  await db.schema
    .createIndex('thumbnail_generation_jobs_user_idx')
    .on('thumbnail_generation_jobs')
    .columns(['user_id', 'created_at desc'])
    .execute();
  await db.schema.createIndex('thumbnail_generation_jobs_video_idx').on('thumbnail_generation_jobs').column('video_id').execute();

  await db.schema
    .createTable('video_thumbnails')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('job_id', 'uuid', (c) => c.references('thumbnail_generation_jobs.id').onDelete('set null'))
    .addColumn('cloudinary_public_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('cloudinary_url', 'varchar(500)', (c) => c.notNull())
    .addColumn('cloudinary_secure_url', 'varchar(500)', (c) => c.notNull())
    .addColumn('topic', 'varchar(255)', (c) => c.notNull())
    .addColumn('sub_topic', 'varchar(255)')
    .addColumn('expression_category', 'varchar(50)', (c) => c.notNull())
    .addColumn('aspect_ratio', 'varchar(10)', (c) => c.notNull().check(checkIn('aspect_ratio', THUMBNAIL_ASPECT_RATIOS)))
    .addColumn('style_name', 'varchar(50)', (c) => c.notNull())
    .addColumn('content_category', 'varchar(50)')
    .addColumn('overlay_text', 'text')
    .addColumn('layout', 'jsonb')
    .addColumn('file_size_bytes', 'integer', (c) => c.check(sql`file_size_bytes is null or file_size_bytes >= 0`))
    .addColumn('width', 'integer', (c) => c.check(sql`width is null or width > 0`))
    .addColumn('height', 'integer', (c) => c.check(sql`height is null or height > 0`))
    .addColumn('format', 'varchar(10)', (c) =>
      c
        .notNull()
        .defaultTo('png')
        .check(checkIn('format', ['png', 'jpg', 'webp'])),
    )
    .addColumn('is_selected', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_uploaded_to_youtube', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('generation_order', 'integer', (c) => c.notNull().check(sql`generation_order >= 0`))
    .addColumn('version', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`version > 0`),
    )
    .addColumn('refinement_instruction', 'text')
    .addColumn('parent_thumbnail_id', 'uuid', (c) => c.references('video_thumbnails.id').onDelete('set null'))
    // A retried style activity finds its row instead of adding another.
    .addUniqueConstraint('video_thumbnails_job_style_version_key', ['job_id', 'style_name', 'version'])
    .execute();
  await addTimestamps(db, 'video_thumbnails');
  await db.schema
    .createIndex('video_thumbnails_video_created_idx')
    .on('video_thumbnails')
    .columns(['video_id', 'created_at desc'])
    .execute();
  await db.schema.createIndex('video_thumbnails_user_idx').on('video_thumbnails').column('user_id').execute();
  // One selected thumbnail per video.
  await db.schema
    .createIndex('video_thumbnails_selected_key')
    .on('video_thumbnails')
    .column('video_id')
    .unique()
    .where(sql.ref('is_selected'), '=', true)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
