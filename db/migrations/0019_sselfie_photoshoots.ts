import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const SESSION_STATUSES = ['pending', 'generating', 'completed', 'partially_completed', 'failed', 'canceled'] as const;
const GRID_STATUSES = ['pending', 'generating', 'completed', 'failed'] as const;
const VIDEO_STATUSES = ['pending', 'generating', 'completed', 'failed', 'canceled'] as const;

/**
 * SSELFIE pro photoshoots and animations (seed 001 names): a session of 1–9 grids, each one
 * Replicate prediction of a 3×3 image split into 9 frames; generated_videos are image-to-video
 * predictions of a generated image.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One POST /v1/photoshoots: its run is `photoshoot:<id>`.
  await db.schema
    .createTable('pro_photoshoot_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('training_run_id', 'uuid', (c) => c.notNull().references('training_runs.id'))
    .addColumn('grid_count', 'smallint', (c) => c.notNull().check(sql`grid_count between 1 and 9`))
    .addColumn('credits_per_grid', 'integer', (c) => c.notNull().check(sql`credits_per_grid >= 0`))
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending').check(checkIn('status', SESSION_STATUSES)))
    .addColumn('failure_reason', 'text')
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await addTimestamps(db, 'pro_photoshoot_sessions');
  await db.schema
    .createIndex('pro_photoshoot_sessions_user_idx')
    .on('pro_photoshoot_sessions')
    .columns(['user_id', 'created_at'])
    .execute();

  // One grid per requested style: its child run is `photoshoot-grid:<sessionId>:<position>`.
  await db.schema
    .createTable('pro_photoshoot_grids')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('pro_photoshoot_sessions.id').onDelete('cascade'))
    .addColumn('position', 'smallint', (c) => c.notNull())
    .addColumn('style', 'varchar(40)', (c) => c.notNull())
    .addColumn('seed', 'integer', (c) => c.notNull())
    .addColumn('prediction_id', 'varchar(200)')
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending').check(checkIn('status', GRID_STATUSES)))
    .addColumn('grid_image_url', 'text')
    .addColumn('media_key', 'varchar(300)')
    .addColumn('failure_reason', 'text')
    .addUniqueConstraint('pro_photoshoot_grids_session_position_key', ['session_id', 'position'])
    .execute();
  await addTimestamps(db, 'pro_photoshoot_grids');

  // The 9 frames cut from a grid (row-major positions 0–8).
  await db.schema
    .createTable('pro_photoshoot_frames')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('grid_id', 'uuid', (c) => c.notNull().references('pro_photoshoot_grids.id').onDelete('cascade'))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('pro_photoshoot_sessions.id').onDelete('cascade'))
    .addColumn('position', 'smallint', (c) => c.notNull().check(sql`position between 0 and 8`))
    .addColumn('image_url', 'text', (c) => c.notNull())
    .addColumn('media_key', 'varchar(300)', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('pro_photoshoot_frames_grid_position_key', ['grid_id', 'position'])
    .execute();

  // One POST /v1/images/:id/animate: its run is `animation:<imageId>:<videoId>`.
  await db.schema
    .createTable('generated_videos')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('image_id', 'uuid', (c) => c.notNull().references('ai_images.id').onDelete('cascade'))
    .addColumn('motion', 'varchar(300)')
    .addColumn('credits_cost', 'integer', (c) => c.notNull().check(sql`credits_cost >= 0`))
    .addColumn('prediction_id', 'varchar(200)')
    .addColumn('status', 'varchar(20)', (c) => c.notNull().defaultTo('pending').check(checkIn('status', VIDEO_STATUSES)))
    .addColumn('video_url', 'text')
    .addColumn('media_key', 'varchar(300)')
    .addColumn('bytes', 'integer')
    .addColumn('failure_reason', 'text')
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await addTimestamps(db, 'generated_videos');
  await db.schema.createIndex('generated_videos_user_idx').on('generated_videos').columns(['user_id', 'created_at']).execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
