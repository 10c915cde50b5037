import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const EXPORT_FORMATS = ['docx', 'pdf', 'txt', 'md'] as const;
const CLOUD_PROVIDERS = ['google_drive', 'onedrive', 'dropbox'] as const;
const CREDENTIAL_STATUSES = ['active', 'expired', 'revoked', 'error'] as const;

/** Videos and their AI content (AmplifyContent.ai), prompts, cloud-storage export, YouTube OAuth and channels. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('videos')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('workspace_id', 'uuid', (c) => c.references('workspaces.id').onDelete('set null'))
    .addColumn('source_type', 'varchar(20)', (c) => c.notNull().check(checkIn('source_type', ['youtube', 'upload', 'url', 'drive'])))
    .addColumn('source_url', 'text')
    .addColumn('youtube_video_id', 'varchar(20)')
    .addColumn('title', 'varchar(500)')
    .addColumn('description', 'text')
    .addColumn('channel_id', 'varchar(255)')
    .addColumn('channel_title', 'varchar(255)')
    .addColumn('duration_seconds', 'integer', (c) => c.check(sql`duration_seconds is null or duration_seconds >= 0`))
    .addColumn('view_count', 'bigint', (c) => c.check(sql`view_count is null or view_count >= 0`))
    .addColumn('like_count', 'bigint', (c) => c.check(sql`like_count is null or like_count >= 0`))
    .addColumn('comment_count', 'bigint', (c) => c.check(sql`comment_count is null or comment_count >= 0`))
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('category', 'varchar(100)')
    .addColumn('language', 'varchar(10)')
    .addColumn('thumbnail_url', 'text')
    .addColumn('published_at', 'timestamptz')
    .addColumn('transcript', 'text')
    .addColumn('transcript_source', 'varchar(30)', (c) =>
      c.check(
        sql`transcript_source is null or ${checkIn('transcript_source', ['youtube_captions', 'youtube_auto_captions', 'uploaded_srt', 'uploaded_vtt', 'uploaded_words', 'manual'])}`,
      ),
    )
    // Timed cues [{ start, end, text, words?: [{ word, start, end }] }] for clip cutting and captions.
    .addColumn('transcript_segments', 'jsonb')
    .addColumn('processing_status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(checkIn('processing_status', ['pending', 'processing', 'completed', 'failed', 'canceled'])),
    )
    .addColumn('progress', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`progress between 0 and 100`),
    )
    .addColumn('error_message', 'text')
    .addColumn('processed_at', 'timestamptz')
    // Uploaded/downloaded media: a path in the local media store or a provider URL.
    .addColumn('file_path', 'text')
    .addColumn('media_url', 'text')
    .addColumn('file_size_bytes', 'bigint', (c) => c.check(sql`file_size_bytes is null or file_size_bytes >= 0`))
    .addColumn('mime_type', 'varchar(100)')
    .addColumn('width', 'integer', (c) => c.check(sql`width is null or width > 0`))
    .addColumn('height', 'integer', (c) => c.check(sql`height is null or height > 0`))
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addCheckConstraint('videos_youtube_id_check', sql`source_type <> 'youtube' or youtube_video_id is not null`)
    .execute();
  await addTimestamps(db, 'videos');
  // A user imports a YouTube video once; uploads (no youtube id) are unconstrained.
  await db.schema
    .createIndex('videos_user_youtube_video_key')
    .on('videos')
    .columns(['user_id', 'youtube_video_id'])
    .unique()
    .where(sql.ref('youtube_video_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('videos_user_created_idx').on('videos').columns(['user_id', 'created_at desc']).execute();
  await db.schema.createIndex('videos_user_status_idx').on('videos').columns(['user_id', 'processing_status']).execute();

  await db.schema
    .createTable('content_types')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('key', 'varchar(50)', (c) =>
      c
        .notNull()
        .unique()
        .check(sql`key ~ '^[a-z][a-z0-9_]*$'`),
    )
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('icon', 'varchar(10)')
    // false for the transcript itself: it is stored, not generated.
    .addColumn('requires_ai', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await addTimestamps(db, 'content_types');

  await db.schema
    .createTable('ai_prompts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('content_type_id', 'uuid', (c) => c.notNull().references('content_types.id').onDelete('cascade'))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('ai_provider', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('anthropic')
        .check(checkIn('ai_provider', ['anthropic', 'openai', 'gemini'])),
    )
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('system_prompt', 'text', (c) => c.notNull())
    // {{title}}, {{channel}}, {{transcript}}, {{instructions}} are filled at generation time.
    .addColumn('user_prompt_template', 'text', (c) => c.notNull())
    .addColumn('temperature', sql`numeric(3,2)`, (c) =>
      c
        .notNull()
        .defaultTo(0.7)
        .check(sql`temperature between 0 and 1`),
    )
    .addColumn('max_tokens', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(2000)
        .check(sql`max_tokens > 0`),
    )
    .addColumn('version', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`version > 0`),
    )
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addUniqueConstraint('ai_prompts_type_provider_version_key', ['content_type_id', 'ai_provider', 'version'])
    .execute();
  await addTimestamps(db, 'ai_prompts');
  // Exactly one live prompt per content type and provider; older versions stay for history.
  await db.schema
    .createIndex('ai_prompts_active_key')
    .on('ai_prompts')
    .columns(['content_type_id', 'ai_provider'])
    .unique()
    .where(sql.ref('is_active'), '=', true)
    .execute();

  await db.schema
    .createTable('video_content')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('content_type_id', 'uuid', (c) => c.notNull().references('content_types.id').onDelete('restrict'))
    .addColumn('version', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`version > 0`),
    )
    .addColumn('parent_content_id', 'uuid', (c) => c.references('video_content.id').onDelete('set null'))
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('completed')
        .check(checkIn('status', ['pending', 'generating', 'completed', 'failed'])),
    )
    .addColumn('content', 'text')
    .addColumn('content_url', 'text')
    .addColumn('instructions', 'text')
    .addColumn('ai_provider', 'varchar(20)')
    .addColumn('model', 'varchar(100)')
    .addColumn('prompt_used_id', 'uuid', (c) => c.references('ai_prompts.id').onDelete('set null'))
    .addColumn('tokens_used', 'integer', (c) => c.check(sql`tokens_used is null or tokens_used >= 0`))
    .addColumn('response_length', 'integer', (c) => c.check(sql`response_length is null or response_length >= 0`))
    .addColumn('generation_started_at', 'timestamptz')
    .addColumn('generation_completed_at', 'timestamptz')
    .addColumn('generation_duration_ms', 'integer', (c) => c.check(sql`generation_duration_ms is null or generation_duration_ms >= 0`))
    .addColumn('error_message', 'text')
    .addColumn('run_id', 'varchar(255)')
    .addColumn('created_by_user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('is_published', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('user_rating', 'integer', (c) => c.check(sql`user_rating is null or user_rating between 1 and 5`))
    .addUniqueConstraint('video_content_video_type_version_key', ['video_id', 'content_type_id', 'version'])
    .addCheckConstraint('video_content_parent_check', sql`parent_content_id is null or parent_content_id <> id`)
    .execute();
  await addTimestamps(db, 'video_content');
  await db.schema.createIndex('video_content_content_type_idx').on('video_content').column('content_type_id').execute();

  await db.schema
    .createTable('user_preferences')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('cloud_storage_provider', 'varchar(20)', (c) =>
      c.check(sql`cloud_storage_provider is null or ${checkIn('cloud_storage_provider', CLOUD_PROVIDERS)}`),
    )
    .addColumn('cloud_storage_auto_upload', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('cloud_storage_upload_formats', sql`text[]`, (c) =>
      c
        .notNull()
        .defaultTo(sql`'{docx}'::text[]`)
        .check(sql`cloud_storage_upload_formats <@ array[${sql.join(EXPORT_FORMATS.map((f) => sql.lit(f)))}]::text[]`),
    )
    .addColumn('cloud_storage_folder_per_video', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('email_notifications', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('language', 'varchar(10)', (c) => c.notNull().defaultTo('en'))
    .execute();
  await addTimestamps(db, 'user_preferences');

  await db.schema
    .createTable('cloud_storage_credentials')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('provider', 'varchar(20)', (c) => c.notNull().check(checkIn('provider', CLOUD_PROVIDERS)))
    // lib/secrets.ts envelope of the OAuth token set; AAD `cloud_storage_credentials:encrypted_tokens:<id>`.
    .addColumn('encrypted_tokens', 'text', (c) => c.notNull())
    .addColumn('token_expires_at', 'timestamptz')
    .addColumn('last_refreshed_at', 'timestamptz')
    .addColumn('scopes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('account_email', 'varchar(255)')
    .addColumn('account_name', 'varchar(255)')
    .addColumn('account_id', 'varchar(255)')
    .addColumn('root_folder_id', 'varchar(500)')
    .addColumn('root_folder_path', 'varchar(1000)')
    .addColumn('folder_naming_pattern', 'varchar(255)', (c) => c.notNull().defaultTo('{content_type}_{video_code}'))
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('active').check(checkIn('status', CREDENTIAL_STATUSES)))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('error_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`error_count >= 0`),
    )
    .addUniqueConstraint('cloud_storage_credentials_user_provider_key', ['user_id', 'provider'])
    .execute();
  await addTimestamps(db, 'cloud_storage_credentials');

  await db.schema
    .createTable('cloud_storage_uploads')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // Upload history outlives a disconnected credential.
    .addColumn('cloud_storage_credentials_id', 'uuid', (c) => c.references('cloud_storage_credentials.id').onDelete('set null'))
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('video_content_id', 'uuid', (c) => c.notNull().references('video_content.id').onDelete('cascade'))
    .addColumn('provider', 'varchar(20)', (c) => c.notNull().check(checkIn('provider', CLOUD_PROVIDERS)))
    .addColumn('content_type', 'varchar(50)', (c) => c.notNull())
    .addColumn('file_format', 'varchar(10)', (c) => c.notNull().check(checkIn('file_format', EXPORT_FORMATS)))
    .addColumn('file_name', 'varchar(500)', (c) => c.notNull())
    .addColumn('file_size_bytes', 'integer', (c) => c.check(sql`file_size_bytes is null or file_size_bytes >= 0`))
    .addColumn('cloud_file_id', 'varchar(500)')
    .addColumn('cloud_file_url', 'varchar(2000)')
    .addColumn('cloud_folder_id', 'varchar(500)')
    .addColumn('cloud_folder_path', 'varchar(1000)')
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(checkIn('status', ['pending', 'uploading', 'completed', 'failed', 'canceled'])),
    )
    .addColumn('error_message', 'text')
    .addColumn('retry_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`retry_count >= 0`),
    )
    .addColumn('max_retries', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(3)
        .check(sql`max_retries >= 0`),
    )
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    // One file per content version, format and provider: a retried export updates its row.
    .addUniqueConstraint('cloud_storage_uploads_content_format_key', ['video_content_id', 'provider', 'file_format'])
    .execute();
  await addTimestamps(db, 'cloud_storage_uploads');
  await db.schema.createIndex('cloud_storage_uploads_video_idx').on('cloud_storage_uploads').column('video_id').execute();
  await db.schema
    .createIndex('cloud_storage_uploads_user_idx')
    .on('cloud_storage_uploads')
    .columns(['user_id', 'created_at desc'])
    .execute();

  await db.schema
    .createTable('youtube_oauth_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('channel_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('channel_name', 'varchar(255)')
    .addColumn('channel_thumbnail', 'text')
    // lib/secrets.ts envelope of { access_token, refresh_token }; AAD `youtube_oauth_tokens:encrypted_tokens:<id>`.
    .addColumn('encrypted_tokens', 'text', (c) => c.notNull())
    .addColumn('scope', 'text')
    .addColumn('token_type', 'varchar(50)')
    .addColumn('token_expires_at', 'timestamptz')
    .addColumn('last_refreshed_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('active').check(checkIn('status', CREDENTIAL_STATUSES)))
    .addUniqueConstraint('youtube_oauth_tokens_user_channel_key', ['user_id', 'channel_id'])
    .execute();
  await addTimestamps(db, 'youtube_oauth_tokens');

  await db.schema
    .createTable('user_youtube_channels')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('youtube_oauth_token_id', 'uuid', (c) => c.references('youtube_oauth_tokens.id').onDelete('set null'))
    .addColumn('channel_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('channel_name', 'varchar(255)')
    .addColumn('channel_handle', 'varchar(255)')
    .addColumn('channel_description', 'text')
    .addColumn('channel_thumbnail', 'text')
    .addColumn('subscriber_count', 'bigint', (c) => c.check(sql`subscriber_count is null or subscriber_count >= 0`))
    .addColumn('video_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`video_count >= 0`),
    )
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('is_primary', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('auto_import', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('last_synced_at', 'timestamptz')
    .addColumn('channel_data', 'jsonb')
    .addUniqueConstraint('user_youtube_channels_user_channel_key', ['user_id', 'channel_id'])
    .execute();
  await addTimestamps(db, 'user_youtube_channels');
  await db.schema
    .createIndex('user_youtube_channels_primary_key')
    .on('user_youtube_channels')
    .column('user_id')
    .unique()
    .where(sql.ref('is_primary'), '=', true)
    .execute();
  await db.schema
    .createIndex('user_youtube_channels_auto_import_idx')
    .on('user_youtube_channels')
    .column('last_synced_at')
    .where(sql<boolean>`auto_import and is_active`)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
