import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const TRAINING_STATUSES = ['pending', 'training', 'completed', 'failed', 'canceled'] as const;
const GENERATION_STATUSES = ['pending', 'generating', 'completed', 'partial', 'failed', 'canceled'] as const;
const IMAGE_STATUSES = ['pending', 'generating', 'completed', 'failed'] as const;

/**
 * SSELFIE (seed 001): personal model trainings on Replicate with their selfies, the user's active
 * model, image generations and their images. Seed names are kept (training_runs.training_status,
 * training_progress, estimated_completion_time, failure_reason, lora_weights_url, training_id;
 * ai_images.prediction_id, generation_status; users.monthly_generation_limit); ids are uuids.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('monthly_generation_limit', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(50)
        .check(sql`monthly_generation_limit >= 0`),
    )
    .execute();

  // One row per personal model: its id is the modelId of the API and of `model-training:<modelId>`.
  await db.schema
    .createTable('training_runs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('model_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('trigger_word', 'varchar(40)', (c) => c.notNull())
    .addColumn('training_status', 'varchar(20)', (c) =>
      c.notNull().defaultTo('pending').check(checkIn('training_status', TRAINING_STATUSES)),
    )
    .addColumn('training_progress', 'smallint', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`training_progress between 0 and 100`),
    )
    .addColumn('estimated_completion_time', 'timestamptz')
    .addColumn('failure_reason', 'text')
    // Replicate: the destination model (owner/name), the training id, the trained version and its weights.
    .addColumn('replicate_model_id', 'varchar(200)')
    .addColumn('training_id', 'varchar(200)')
    .addColumn('replicate_version_id', 'varchar(300)')
    .addColumn('lora_weights_url', 'text')
    .addColumn('credits_cost', 'integer', (c) => c.notNull().check(sql`credits_cost >= 0`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await addTimestamps(db, 'training_runs');
  await db.schema.createIndex('training_runs_user_idx').on('training_runs').columns(['user_id', 'created_at']).execute();

  await db.schema
    .createTable('selfie_uploads')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('training_run_id', 'uuid', (c) => c.notNull().references('training_runs.id').onDelete('cascade'))
    .addColumn('position', 'smallint', (c) => c.notNull())
    .addColumn('image_url', 'text', (c) => c.notNull())
    .addColumn('media_key', 'varchar(300)', (c) => c.notNull())
    .addColumn('content_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('uploaded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('selfie_uploads_run_position_key', ['training_run_id', 'position'])
    .execute();

  // The model a user generates with: at most one active row per user; a retrain replaces it only on success.
  await db.schema
    .createTable('user_models')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('training_run_id', 'uuid', (c) => c.notNull().unique().references('training_runs.id').onDelete('cascade'))
    .addColumn('model_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('trigger_word', 'varchar(40)', (c) => c.notNull())
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index user_models_one_active_idx on user_models (user_id) where is_active`.execute(db);

  // One POST /v1/images: its run is `image-generation:<id>`.
  await db.schema
    .createTable('image_generations')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('training_run_id', 'uuid', (c) => c.notNull().references('training_runs.id'))
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('style', 'varchar(40)')
    .addColumn('image_count', 'smallint', (c) => c.notNull().check(sql`image_count between 1 and 4`))
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending').check(checkIn('status', GENERATION_STATUSES)))
    .addColumn('failure_reason', 'text')
    .execute();
  await addTimestamps(db, 'image_generations');
  await db.schema.createIndex('image_generations_user_idx').on('image_generations').columns(['user_id', 'created_at']).execute();

  // One image of a generation (one prediction each), kept with its prompt and seed.
  await db.schema
    .createTable('ai_images')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('generation_id', 'uuid', (c) => c.notNull().references('image_generations.id').onDelete('cascade'))
    .addColumn('position', 'smallint', (c) => c.notNull())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('style', 'varchar(40)')
    .addColumn('seed', 'integer', (c) => c.notNull())
    .addColumn('prediction_id', 'varchar(200)')
    .addColumn('generation_status', 'varchar(20)', (c) =>
      c.notNull().defaultTo('pending').check(checkIn('generation_status', IMAGE_STATUSES)),
    )
    .addColumn('image_url', 'text')
    .addColumn('media_key', 'varchar(300)')
    .addColumn('failure_reason', 'text')
    .addUniqueConstraint('ai_images_generation_position_key', ['generation_id', 'position'])
    .execute();
  await addTimestamps(db, 'ai_images');
  await db.schema.createIndex('ai_images_user_idx').on('ai_images').columns(['user_id', 'created_at']).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
