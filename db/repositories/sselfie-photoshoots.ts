import { sql } from 'kysely';
import type { DbOrTx, Tx } from '../database';
import type { GeneratedVideoStatus, PhotoshootStatus } from '../types';

// ---- pro photoshoots ------------------------------------------------------------------------

/** The session and its grid rows (one per style, seeds fixed here), in the route's transaction. */
export async function insertPhotoshootSession(
  db: DbOrTx,
  session: { id: string; userId: string; trainingRunId: string; creditsPerGrid: number; grids: Array<{ style: string; seed: number }> },
): Promise<void> {
  await db
    .insertInto('pro_photoshoot_sessions')
    .values({
      id: session.id,
      user_id: session.userId,
      training_run_id: session.trainingRunId,
      grid_count: session.grids.length,
      credits_per_grid: session.creditsPerGrid,
    })
    .execute();
  await db
    .insertInto('pro_photoshoot_grids')
    .values(session.grids.map((grid, position) => ({ session_id: session.id, position, style: grid.style, seed: grid.seed })))
    .execute();
}

/** One grid with what its prediction needs: the session's trained version and trigger word. */
export const findPhotoshootGrid = (db: DbOrTx, sessionId: string, position: number) =>
  db
    .selectFrom('pro_photoshoot_grids')
    .innerJoin('pro_photoshoot_sessions', 'pro_photoshoot_sessions.id', 'pro_photoshoot_grids.session_id')
    .innerJoin('training_runs', 'training_runs.id', 'pro_photoshoot_sessions.training_run_id')
    .select([
      'pro_photoshoot_grids.id',
      'pro_photoshoot_sessions.user_id',
      'pro_photoshoot_grids.style',
      'pro_photoshoot_grids.seed',
      'training_runs.replicate_version_id',
      'training_runs.trigger_word',
    ])
    .where('pro_photoshoot_grids.session_id', '=', sessionId)
    .where('pro_photoshoot_grids.position', '=', position)
    .executeTakeFirst();

export async function recordGridPrediction(db: DbOrTx, sessionId: string, position: number, predictionId: string): Promise<void> {
  await db
    .updateTable('pro_photoshoot_grids')
    .set({ prediction_id: predictionId, status: 'generating' })
    .where('session_id', '=', sessionId)
    .where('position', '=', position)
    .where('status', 'in', ['pending', 'generating'])
    .execute();
  await db
    .updateTable('pro_photoshoot_sessions')
    .set({ status: 'generating' })
    .where('id', '=', sessionId)
    .where('status', '=', 'pending')
    .execute();
}

/** The grid image and its 9 frames, in one transaction; repeatable (same keys, rows upserted, same ids). Returns the frame rows. */
export async function completeGrid(
  db: DbOrTx,
  grid: { id: string; imageUrl: string; mediaKey: string },
  frames: Array<{ sessionId: string; position: number; imageUrl: string; mediaKey: string; width: number; height: number }>,
) {
  const run = async (tx: Tx) => {
    const rows = await tx
      .insertInto('pro_photoshoot_frames')
      .values(
        frames.map((f) => ({
          grid_id: grid.id,
          session_id: f.sessionId,
          position: f.position,
          image_url: f.imageUrl,
          media_key: f.mediaKey,
          width: f.width,
          height: f.height,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['grid_id', 'position']).doUpdateSet((eb) => ({
          image_url: eb.ref('excluded.image_url'),
          media_key: eb.ref('excluded.media_key'),
          width: eb.ref('excluded.width'),
          height: eb.ref('excluded.height'),
        })),
      )
      .returning(['id', 'position', 'image_url', 'width', 'height'])
      .execute();
    await tx
      .updateTable('pro_photoshoot_grids')
      .set({ status: 'completed', grid_image_url: grid.imageUrl, media_key: grid.mediaKey, failure_reason: null })
      .where('id', '=', grid.id)
      .execute();
    return rows.sort((a, b) => a.position - b.position);
  };
  return db.isTransaction ? run(db as Tx) : db.transaction().execute(run);
}

/** A grid that could not be delivered keeps its reason; a completed one is never downgraded. */
export async function failGrid(db: DbOrTx, sessionId: string, position: number, reason: string): Promise<void> {
  await db
    .updateTable('pro_photoshoot_grids')
    .set({ status: 'failed', failure_reason: reason })
    .where('session_id', '=', sessionId)
    .where('position', '=', position)
    .where('status', '!=', 'completed')
    .execute();
}

export async function endPhotoshootSession(db: DbOrTx, id: string, status: PhotoshootStatus, reason: string | null): Promise<void> {
  await db
    .updateTable('pro_photoshoot_sessions')
    .set({ status, failure_reason: reason, completed_at: sql`coalesce(completed_at, now())` })
    .where('id', '=', id)
    .execute();
}

/** A user's sessions (newest first) with grid counts by status; one session when `id` is given. */
export const listPhotoshootSessions = (db: DbOrTx, userId: string, id?: string) => {
  const gridsWith = (status: 'completed' | 'failed') =>
    sql<number>`(select count(*)::int from pro_photoshoot_grids g where g.session_id = pro_photoshoot_sessions.id and g.status = ${status})`;
  let query = db
    .selectFrom('pro_photoshoot_sessions')
    .selectAll()
    .select([gridsWith('completed').as('grids_completed'), gridsWith('failed').as('grids_failed')])
    .where('user_id', '=', userId);
  if (id) query = query.where('id', '=', id);
  return query.orderBy('created_at', 'desc').limit(100).execute();
};

export const photoshootGrids = (db: DbOrTx, sessionId: string) =>
  db.selectFrom('pro_photoshoot_grids').selectAll().where('session_id', '=', sessionId).orderBy('position').execute();

export const photoshootFrames = (db: DbOrTx, sessionId: string) =>
  db
    .selectFrom('pro_photoshoot_frames')
    .innerJoin('pro_photoshoot_grids', 'pro_photoshoot_grids.id', 'pro_photoshoot_frames.grid_id')
    .select([
      'pro_photoshoot_grids.position as grid_position',
      'pro_photoshoot_frames.position',
      'pro_photoshoot_frames.image_url',
      'pro_photoshoot_frames.width',
      'pro_photoshoot_frames.height',
    ])
    .where('pro_photoshoot_frames.session_id', '=', sessionId)
    .orderBy('pro_photoshoot_grids.position')
    .orderBy('pro_photoshoot_frames.position')
    .execute();

// ---- animations -----------------------------------------------------------------------------

/** A user's completed image (what an animation starts from), or undefined. */
export const findOwnImage = (db: DbOrTx, userId: string, imageId: string) =>
  db
    .selectFrom('ai_images')
    .select(['id', 'image_url', 'media_key', 'generation_status'])
    .where('id', '=', imageId)
    .where('user_id', '=', userId)
    .executeTakeFirst();

export async function insertGeneratedVideo(
  db: DbOrTx,
  video: { id: string; userId: string; imageId: string; motion: string | null; creditsCost: number },
): Promise<void> {
  await db
    .insertInto('generated_videos')
    .values({ id: video.id, user_id: video.userId, image_id: video.imageId, motion: video.motion, credits_cost: video.creditsCost })
    .execute();
}

/** The video with its source image (stored URL and media key). */
export const findGeneratedVideo = (db: DbOrTx, id: string) =>
  db
    .selectFrom('generated_videos')
    .innerJoin('ai_images', 'ai_images.id', 'generated_videos.image_id')
    .select(['generated_videos.id', 'generated_videos.motion', 'ai_images.image_url', 'ai_images.media_key'])
    .where('generated_videos.id', '=', id)
    .executeTakeFirst();

export async function recordVideoPrediction(db: DbOrTx, id: string, predictionId: string): Promise<void> {
  await db
    .updateTable('generated_videos')
    .set({ prediction_id: predictionId, status: 'generating' })
    .where('id', '=', id)
    .where('status', 'in', ['pending', 'generating'])
    .execute();
}

export async function completeGeneratedVideo(db: DbOrTx, id: string, stored: { videoUrl: string; mediaKey: string; bytes: number }) {
  await db
    .updateTable('generated_videos')
    .set({
      status: 'completed',
      video_url: stored.videoUrl,
      media_key: stored.mediaKey,
      bytes: stored.bytes,
      failure_reason: null,
      completed_at: sql`coalesce(completed_at, now())`,
    })
    .where('id', '=', id)
    .execute();
}

/** A failed or canceled animation keeps its reason; a completed one is never downgraded. */
export async function endGeneratedVideo(
  db: DbOrTx,
  id: string,
  status: Extract<GeneratedVideoStatus, 'failed' | 'canceled'>,
  reason: string,
): Promise<void> {
  await db
    .updateTable('generated_videos')
    .set({ status, failure_reason: reason, completed_at: sql`coalesce(completed_at, now())` })
    .where('id', '=', id)
    .where('status', '!=', 'completed')
    .execute();
}

export const listGeneratedVideos = (db: DbOrTx, userId: string, id?: string) => {
  let query = db.selectFrom('generated_videos').selectAll().where('user_id', '=', userId);
  if (id) query = query.where('id', '=', id);
  return query.orderBy('created_at', 'desc').limit(100).execute();
};
