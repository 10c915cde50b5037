import { sql, type Insertable, type Selectable } from 'kysely';
import type { DbOrTx } from '../database';
import type { CaptionsTable, CaptionWord, ClipAspectRatio, ClipsTable, VideosTable } from '../types';
import { countUsage, inTransaction } from './usage';

export type Clip = Selectable<ClipsTable>;
export type ClipCaptions = Selectable<CaptionsTable>;

/** What the clips workflow needs of a video. */
export type ClipSourceVideo = Pick<
  Selectable<VideosTable>,
  | 'id'
  | 'user_id'
  | 'workspace_id'
  | 'title'
  | 'source_type'
  | 'source_url'
  | 'file_path'
  | 'media_url'
  | 'duration_seconds'
  | 'transcript_segments'
  | 'has_audio'
  | 'processing_status'
>;

const SOURCE_COLUMNS = [
  'id',
  'user_id',
  'workspace_id',
  'title',
  'source_type',
  'source_url',
  'file_path',
  'media_url',
  'duration_seconds',
  'transcript_segments',
  'has_audio',
  'processing_status',
] as const;

export async function findClipSourceVideo(db: DbOrTx, videoId: string): Promise<ClipSourceVideo | undefined> {
  return db.selectFrom('videos').select(SOURCE_COLUMNS).where('id', '=', videoId).executeTakeFirst();
}

/** The caller's video, or undefined (someone else's id looks like a missing one). */
export async function findUserClipSourceVideo(db: DbOrTx, userId: string, videoId: string): Promise<ClipSourceVideo | undefined> {
  return db.selectFrom('videos').select(SOURCE_COLUMNS).where('id', '=', videoId).where('user_id', '=', userId).executeTakeFirst();
}

export type PlannedClipRow = Pick<
  Insertable<ClipsTable>,
  | 'title'
  | 'start_time'
  | 'end_time'
  | 'virality_score'
  | 'hook_score'
  | 'engagement_score'
  | 'topics'
  | 'transcript_segment'
  | 'caption_style'
  | 'selection_method'
>;

/**
 * Writes a run's planned clips by their natural key (run_id, clip_index) and drops any of the run
 * left from an earlier attempt with more clips, so repeating the step leaves exactly these rows.
 */
export async function upsertPlannedClips(
  db: DbOrTx,
  run: { runId: string; videoId: string; userId: string; workspaceId: string | null },
  clips: PlannedClipRow[],
): Promise<Array<{ id: string; clip_index: number }>> {
  await db.deleteFrom('clips').where('run_id', '=', run.runId).where('clip_index', '>=', clips.length).execute();
  if (clips.length === 0) return [];
  return db
    .insertInto('clips')
    .values(
      clips.map((clip, index) => ({
        ...clip,
        video_id: run.videoId,
        user_id: run.userId,
        workspace_id: run.workspaceId,
        run_id: run.runId,
        clip_index: index,
        has_captions: clip.caption_style !== null && clip.caption_style !== undefined,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['run_id', 'clip_index']).doUpdateSet((eb) => ({
        title: eb.ref('excluded.title'),
        start_time: eb.ref('excluded.start_time'),
        end_time: eb.ref('excluded.end_time'),
        virality_score: eb.ref('excluded.virality_score'),
        hook_score: eb.ref('excluded.hook_score'),
        engagement_score: eb.ref('excluded.engagement_score'),
        topics: eb.ref('excluded.topics'),
        transcript_segment: eb.ref('excluded.transcript_segment'),
        caption_style: eb.ref('excluded.caption_style'),
        has_captions: eb.ref('excluded.has_captions'),
        selection_method: eb.ref('excluded.selection_method'),
        file_urls: sql`'{}'::jsonb`,
        thumbnail_url: null,
        render_status: 'pending',
        render_error: null,
      })),
    )
    .returning(['id', 'clip_index'])
    .execute();
}

export async function findClip(db: DbOrTx, clipId: string): Promise<Clip | undefined> {
  return db.selectFrom('clips').selectAll().where('id', '=', clipId).executeTakeFirst();
}

export async function markClipRendering(db: DbOrTx, clipId: string): Promise<void> {
  await db.updateTable('clips').set({ render_status: 'rendering', render_error: null }).where('id', '=', clipId).execute();
}

/** Adds one ratio's file to the clip (a retried render skips ratios already here). */
export async function recordClipFile(db: DbOrTx, clipId: string, ratio: ClipAspectRatio, url: string): Promise<void> {
  await db
    .updateTable('clips')
    .set({ file_urls: sql`file_urls || jsonb_build_object(${ratio}::text, ${url}::text)` })
    .where('id', '=', clipId)
    .execute();
}

export interface ClipCaptionsRow {
  style: string;
  fontFamily: string | null;
  words: CaptionWord[];
  srt: string;
  vtt: string;
  srtUrl: string;
  vttUrl: string;
}

/** Finishes a render: thumbnail, caption files (one row per clip and language) and the status, together. */
export async function completeClipRender(
  db: DbOrTx,
  clipId: string,
  result: { thumbnailUrl: string; captions: ClipCaptionsRow },
): Promise<void> {
  await inTransaction(db, async (tx) => {
    const { captions } = result;
    await tx
      .insertInto('captions')
      .values({
        clip_id: clipId,
        language: 'en',
        style: captions.style,
        font_family: captions.fontFamily,
        words: JSON.stringify(captions.words),
        srt: captions.srt,
        vtt: captions.vtt,
        srt_url: captions.srtUrl,
        vtt_url: captions.vttUrl,
      })
      .onConflict((oc) =>
        oc.columns(['clip_id', 'language']).doUpdateSet((eb) => ({
          style: eb.ref('excluded.style'),
          font_family: eb.ref('excluded.font_family'),
          words: eb.ref('excluded.words'),
          srt: eb.ref('excluded.srt'),
          vtt: eb.ref('excluded.vtt'),
          srt_url: eb.ref('excluded.srt_url'),
          vtt_url: eb.ref('excluded.vtt_url'),
        })),
      )
      .execute();
    const completed = await tx
      .updateTable('clips')
      .set({ thumbnail_url: result.thumbnailUrl, render_status: 'completed', render_error: null })
      .where('id', '=', clipId)
      .returning(['user_id', 'run_id'])
      .executeTakeFirst();
    if (completed)
      await countUsage(tx, {
        userId: completed.user_id,
        kind: 'clips_generated',
        factKey: `clip:${clipId}`,
        quantity: 1,
        runId: completed.run_id,
      });
  });
}

export async function failClipRender(db: DbOrTx, clipId: string, error: string): Promise<void> {
  await db
    .updateTable('clips')
    .set({ render_status: 'failed', render_error: error.slice(0, 2000) })
    .where('id', '=', clipId)
    .where('render_status', '<>', 'completed')
    .execute();
}

/** Marks the run's clips that never finished (failure or cancel); finished clips are kept as they are. */
export async function failUnfinishedClips(db: DbOrTx, runId: string, error: string): Promise<number> {
  const result = await db
    .updateTable('clips')
    .set({ render_status: 'failed', render_error: error.slice(0, 2000) })
    .where('run_id', '=', runId)
    .where('render_status', 'in', ['pending', 'rendering'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface ClipWithCaptions extends Clip {
  captions: ClipCaptions | null;
}

async function withCaptions(db: DbOrTx, clips: Clip[]): Promise<ClipWithCaptions[]> {
  if (clips.length === 0) return [];
  const captions = await db
    .selectFrom('captions')
    .selectAll()
    .where(
      'clip_id',
      'in',
      clips.map((c) => c.id),
    )
    .where('language', '=', 'en')
    .execute();
  const byClip = new Map(captions.map((c) => [c.clip_id, c]));
  return clips.map((clip) => ({ ...clip, captions: byClip.get(clip.id) ?? null }));
}

/** The video's clips, newest request first, in clip order. */
export async function listVideoClips(db: DbOrTx, userId: string, videoId: string): Promise<ClipWithCaptions[]> {
  const clips = await db
    .selectFrom('clips')
    .selectAll()
    .where('video_id', '=', videoId)
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('run_id')
    .orderBy('clip_index')
    .execute();
  return withCaptions(db, clips);
}

export async function findUserClip(db: DbOrTx, userId: string, clipId: string): Promise<ClipWithCaptions | undefined> {
  const clip = await db
    .selectFrom('clips')
    .selectAll()
    .where('id', '=', clipId)
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return clip ? (await withCaptions(db, [clip]))[0] : undefined;
}

export type ClipReview = { decision: 'approved'; reviewerId: string } | { decision: 'rejected'; reason: string | null };

/** Applies a review decision; repeating the same decision changes nothing but the reason. */
export async function reviewClip(db: DbOrTx, clipId: string, review: ClipReview): Promise<void> {
  const update =
    review.decision === 'approved'
      ? {
          status: 'approved' as const,
          approved_by: review.reviewerId,
          approved_at: sql<Date>`coalesce(approved_at, now())`,
          rejection_reason: null,
        }
      : { status: 'rejected' as const, approved_by: null, approved_at: null, rejection_reason: review.reason };
  await db.updateTable('clips').set(update).where('id', '=', clipId).execute();
}
