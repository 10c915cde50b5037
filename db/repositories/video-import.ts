import { sql, type Insertable } from 'kysely';
import type { Db, DbOrTx, Tx } from '../database';
import type { AdminGrantType, TranscriptSource, Video, VideoContent, VideoContentTable, VideoProcessingStatus } from '../types';
import { listContentTypes } from './content';
import { getPlanForUser, type UserPlan } from './plans';
import { countUsage, currentUsageRow, inTransaction } from './usage';

/** The user's video quota is used up; the API answers 402, the workflow fails with QuotaExceeded. */
export class VideoQuotaExceededError extends Error {
  override name = 'VideoQuotaExceededError';
}

export type QuotaGateKind = 'admin_grant' | 'free_tier' | 'plan';

/**
 * The reservation of one video slot, kept in videos.metadata.quota so that reserve, commit and
 * release are each a guarded state change of that row: repeated calls (activity retries, the
 * API then the workflow) change nothing.
 */
export interface QuotaState {
  gate: QuotaGateKind;
  state: 'reserved' | 'committed' | 'released';
  /** subscription_usage row holding the slot (admin grants and paid plans). */
  usageId?: string;
}

/** Grants that decide imports: any of them puts the slot under the admin-grant gate. */
const VIDEO_GRANTS: ReadonlySet<AdminGrantType> = new Set(['full_access', 'unlimited_videos', 'video_limit_override']);

/** Seed 000's "Video Import Flow" order: an active admin grant first, else the free tier's single video, else the plan. */
function quotaGate(plan: UserPlan): QuotaGateKind {
  if (plan.adminGrants.some((g) => VIDEO_GRANTS.has(g.grantType))) return 'admin_grant';
  return plan.slug === 'free' ? 'free_tier' : 'plan';
}

/** Active content types the plan may generate, in display order: what an import without a list produces. */
export async function importableContentTypes(db: DbOrTx, plan: UserPlan): Promise<string[]> {
  const allowed = new Set(plan.features.allowedContentTypes);
  return (await listContentTypes(db)).map((t) => t.key).filter((key) => allowed.has(key));
}

/** Takes one slot of a usage row, atomically against concurrent imports: the row lock serialises them. */
async function takeUsageSlot(db: DbOrTx, usageId: string, limit: number | null): Promise<boolean> {
  const taken = await db
    .updateTable('subscription_usage')
    .set({ videos_reserved: sql`videos_reserved + 1` })
    .where('id', '=', usageId)
    .$if(limit !== null, (qb) => qb.where(sql<boolean>`videos_processed + videos_reserved < ${limit}`))
    .returning('id')
    .executeTakeFirst();
  return taken !== undefined;
}

const quotaOf = (video: Pick<Video, 'metadata'>): QuotaState | undefined => (video.metadata as { quota?: QuotaState }).quota;

async function setQuotaState(db: DbOrTx, videoId: string, quota: QuotaState): Promise<void> {
  await db
    .updateTable('videos')
    .set({ metadata: sql`metadata || jsonb_build_object('quota', ${JSON.stringify(quota)}::jsonb)` })
    .where('id', '=', videoId)
    .execute();
}

async function lockVideo(db: DbOrTx, videoId: string): Promise<Video | undefined> {
  return db.selectFrom('videos').selectAll().where('id', '=', videoId).forUpdate().executeTakeFirst();
}

/**
 * Takes one video slot for the video's import, through the gate quotaGate picks; the limit is
 * the effective plan's video limit (admin grants already applied by getPlanForUser). Idempotent
 * per video: a slot already reserved or committed for it is returned as is. Runs in the
 * caller's transaction when given one, else in its own.
 */
export async function reserveVideoQuota(db: DbOrTx, videoId: string, now = new Date()): Promise<{ quota: QuotaState; plan: UserPlan }> {
  const reserve = async (tx: Tx) => {
    const video = await lockVideo(tx, videoId);
    if (!video) throw new Error(`video ${videoId} does not exist`);
    const plan = await getPlanForUser(tx, video.user_id, now);
    if (!plan) throw new Error(`user ${video.user_id} does not exist`);
    const existing = quotaOf(video);
    if (existing && existing.state !== 'released') return { quota: existing, plan };

    const gate = quotaGate(plan);
    const limit = plan.features.videoLimit;
    let quota: QuotaState;
    if (gate === 'free_tier') {
      const taken = await tx
        .updateTable('users')
        .set({ free_video_used: true })
        .where('id', '=', video.user_id)
        .where('free_video_used', '=', false)
        .returning('id')
        .executeTakeFirst();
      if (!taken) throw new VideoQuotaExceededError('the free plan includes one video, and it has been used; upgrade to import more');
      quota = { gate, state: 'reserved' };
    } else {
      const usageId = await currentUsageRow(tx, video.user_id, limit, now);
      if (!(await takeUsageSlot(tx, usageId, limit))) {
        throw new VideoQuotaExceededError(
          gate === 'admin_grant'
            ? `your video limit of ${limit} for this period is used up`
            : `your ${plan.slug} plan's ${limit} videos for this billing period are used up`,
        );
      }
      quota = { gate, state: 'reserved', usageId };
    }
    await setQuotaState(tx, videoId, quota);
    return { quota, plan };
  };
  return db.isTransaction ? reserve(db as Tx) : db.transaction().execute(reserve);
}

/** The slot the API reserved for this video is no longer held (given back), so the run has none to adopt. */
export class VideoQuotaNotHeldError extends Error {
  override name = 'VideoQuotaNotHeldError';
}

/**
 * The reservation the API made with the video row, adopted by the import run instead of taking a
 * second slot: reserved or committed (a retried activity) is returned as is, anything else throws
 * VideoQuotaNotHeldError.
 */
export async function heldVideoQuota(db: DbOrTx, videoId: string, now = new Date()): Promise<{ quota: QuotaState; plan: UserPlan }> {
  const video = await findVideo(db, videoId);
  if (!video) throw new Error(`video ${videoId} does not exist`);
  const quota = quotaOf(video);
  if (!quota || quota.state === 'released')
    throw new VideoQuotaNotHeldError(`the video slot reserved for import ${videoId} was given back; import the video again`);
  const plan = await getPlanForUser(db, video.user_id, now);
  if (!plan) throw new Error(`user ${video.user_id} does not exist`);
  return { quota, plan };
}

/**
 * Turns the video's reserved slot into a processed video, adding `processingMinutes` of video to
 * the period's usage in the same write; true only for the call that did it. Runs in the caller's
 * transaction when given one, else in its own.
 */
export async function commitVideoQuota(db: DbOrTx, videoId: string, processingMinutes = 0): Promise<boolean> {
  const commit = async (tx: Tx) => {
    const video = await lockVideo(tx, videoId);
    const quota = video && quotaOf(video);
    if (quota?.state !== 'reserved') return false;
    if (quota.usageId) {
      await tx
        .updateTable('subscription_usage')
        .set({
          videos_reserved: sql`greatest(videos_reserved - 1, 0)`,
          videos_processed: sql`videos_processed + 1`,
          processing_minutes: sql`processing_minutes + ${processingMinutes}`,
        })
        .where('id', '=', quota.usageId)
        .execute();
    }
    await setQuotaState(tx, videoId, { ...quota, state: 'committed' });
    return true;
  };
  return db.isTransaction ? commit(db as Tx) : db.transaction().execute(commit);
}

/** Gives the video's reserved slot back (free video flag cleared); true only for the call that did it. */
export async function releaseVideoQuota(db: Db, videoId: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const video = await lockVideo(tx, videoId);
    const quota = video && quotaOf(video);
    if (!video || quota?.state !== 'reserved') return false;
    if (quota.usageId) {
      await tx
        .updateTable('subscription_usage')
        .set({ videos_reserved: sql`greatest(videos_reserved - 1, 0)` })
        .where('id', '=', quota.usageId)
        .execute();
    } else if (quota.gate === 'free_tier') {
      await tx.updateTable('users').set({ free_video_used: false }).where('id', '=', video.user_id).execute();
    }
    await setQuotaState(tx, videoId, { ...quota, state: 'released' });
    return true;
  });
}

export interface NewImportVideo {
  userId: string;
  youtubeVideoId: string;
  sourceUrl: string;
  /** A user-supplied transcript, kept until the transcript stage reads it. */
  suppliedTranscript?: { content: string; format?: string; language?: string };
}

/** The user's row for this YouTube video, created if new (one per user and YouTube id). */
async function findOrCreateImportVideo(tx: Tx, input: NewImportVideo): Promise<{ video: Video; created: boolean }> {
  const metadata = input.suppliedTranscript ? { supplied_transcript: input.suppliedTranscript } : {};
  const inserted = await tx
    .insertInto('videos')
    .values({
      user_id: input.userId,
      source_type: 'youtube',
      source_url: input.sourceUrl,
      youtube_video_id: input.youtubeVideoId,
      metadata: JSON.stringify(metadata),
    })
    .onConflict((oc) => oc.columns(['user_id', 'youtube_video_id']).where('youtube_video_id', 'is not', null).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { video: inserted, created: true };
  const video = await tx
    .selectFrom('videos')
    .selectAll()
    .where('user_id', '=', input.userId)
    .where('youtube_video_id', '=', input.youtubeVideoId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return { video, created: false };
}

/** Puts a failed or canceled import back to pending for a new run, with a newly supplied transcript if any. */
async function reopenImportVideo(tx: Tx, videoId: string, suppliedTranscript?: NewImportVideo['suppliedTranscript']): Promise<void> {
  await tx
    .updateTable('videos')
    .set({
      processing_status: 'pending',
      progress: 0,
      error_message: null,
      ...(suppliedTranscript
        ? { metadata: sql`metadata || jsonb_build_object('supplied_transcript', ${JSON.stringify(suppliedTranscript)}::jsonb)` }
        : {}),
    })
    .where('id', '=', videoId)
    .execute();
}

export type ImportOpening =
  /** The video was imported already: nothing changed. */
  | { outcome: 'already-imported'; video: Video }
  /** The row is new (`created`), reopened after a failed or canceled run (`reopened`), or pending for a run already going; its slot is reserved. */
  | { outcome: 'opened'; video: Video; created: boolean; reopened: boolean; quota: QuotaState };

/**
 * The video row of an import request and its quota slot, in one transaction so that a refused
 * import (VideoQuotaExceededError) leaves nothing behind. The reservation made here is the
 * import's one: the run adopts it (heldVideoQuota) rather than reserving again.
 */
export async function openImportVideo(db: Db, input: NewImportVideo): Promise<ImportOpening> {
  return db.transaction().execute(async (tx) => {
    const { video, created } = await findOrCreateImportVideo(tx, input);
    if (!created && video.processing_status === 'completed') return { outcome: 'already-imported', video };
    const reopened = !created && (video.processing_status === 'failed' || video.processing_status === 'canceled');
    if (reopened) await reopenImportVideo(tx, video.id, input.suppliedTranscript);
    const { quota } = await reserveVideoQuota(tx, video.id);
    return { outcome: 'opened', video, created, reopened, quota };
  });
}

/** Undoes openImportVideo when its run could not be started: the slot goes back, a created row goes, a reopened one fails again. */
export async function abandonImportVideo(db: Db, opening: { video: Video; created: boolean; reopened: boolean }): Promise<void> {
  if (!opening.created && !opening.reopened) return;
  await releaseVideoQuota(db, opening.video.id);
  if (opening.created) await db.deleteFrom('videos').where('id', '=', opening.video.id).execute();
  else await updateVideoProcessing(db, opening.video.id, { status: 'failed', error: 'the import could not be started' });
}

export async function findUserVideo(db: DbOrTx, userId: string, videoId: string): Promise<Video | undefined> {
  return db.selectFrom('videos').selectAll().where('id', '=', videoId).where('user_id', '=', userId).executeTakeFirst();
}

export async function findVideo(db: DbOrTx, videoId: string): Promise<Video | undefined> {
  return db.selectFrom('videos').selectAll().where('id', '=', videoId).executeTakeFirst();
}

/** Status and progress only move on while processing; a closed status (completed/failed/canceled) is final for the run. */
export async function updateVideoProcessing(
  db: DbOrTx,
  videoId: string,
  update: { status: VideoProcessingStatus; progress?: number; error?: string },
): Promise<void> {
  const closing = update.status !== 'processing';
  await db
    .updateTable('videos')
    .set({
      processing_status: update.status,
      ...(update.progress !== undefined ? { progress: sql`greatest(progress, ${update.progress})` } : {}),
      ...(closing ? { error_message: update.error ?? null } : {}),
      ...(update.status === 'completed' ? { processed_at: sql`now()` } : {}),
    })
    .where('id', '=', videoId)
    .$if(!closing, (qb) => qb.where('processing_status', 'in', ['pending', 'processing']))
    .execute();
}

export interface VideoContentWithType extends VideoContent {
  content_type_key: string;
  content_type_name: string;
}

/** Every version of every content type of a video, newest version first within a type. */
const videoContentWithType = (db: DbOrTx, videoId: string) =>
  db
    .selectFrom('video_content as vc')
    .innerJoin('content_types as ct', 'ct.id', 'vc.content_type_id')
    .selectAll('vc')
    .select(['ct.key as content_type_key', 'ct.name as content_type_name'])
    .where('vc.video_id', '=', videoId);

export async function listVideoContent(db: DbOrTx, videoId: string): Promise<VideoContentWithType[]> {
  return videoContentWithType(db, videoId).orderBy('ct.sort_order').orderBy('ct.key').orderBy('vc.version', 'desc').execute();
}

/** One content type's versions of a video (newest first). */
export async function listContentVersions(db: DbOrTx, videoId: string, contentTypeKey: string): Promise<VideoContentWithType[]> {
  return videoContentWithType(db, videoId).where('ct.key', '=', contentTypeKey).orderBy('vc.version', 'desc').execute();
}

/** What YouTube reports about a video, as the videos row keeps it. */
export interface YoutubeVideoDetails {
  title: string;
  description: string;
  channelId: string | null;
  channelTitle: string | null;
  durationSeconds: number;
  viewCount: number;
  likeCount: number;
  commentCount: number;
  tags: string[];
  category: string | null;
  language: string | null;
  thumbnailUrl: string | null;
  publishedAt: string | null;
}

export async function saveYoutubeDetails(db: DbOrTx, videoId: string, details: YoutubeVideoDetails): Promise<void> {
  await db
    .updateTable('videos')
    .set({
      title: details.title,
      description: details.description,
      channel_id: details.channelId,
      channel_title: details.channelTitle,
      duration_seconds: details.durationSeconds,
      view_count: details.viewCount,
      like_count: details.likeCount,
      comment_count: details.commentCount,
      tags: sql<string[]>`${sql.val(details.tags)}::text[]`,
      category: details.category,
      language: details.language,
      thumbnail_url: details.thumbnailUrl,
      published_at: details.publishedAt,
    })
    .where('id', '=', videoId)
    .execute();
}

/** The video's transcript; the supplied transcript kept for this moment is dropped from metadata. */
export async function saveVideoTranscript(
  db: DbOrTx,
  videoId: string,
  transcript: { text: string; source: TranscriptSource; segments: unknown[]; language: string | null },
): Promise<void> {
  await db
    .updateTable('videos')
    .set({
      transcript: transcript.text,
      transcript_source: transcript.source,
      transcript_segments: transcript.segments.length > 0 ? JSON.stringify(transcript.segments) : null,
      language: transcript.language,
      metadata: sql`metadata - 'supplied_transcript'`,
    })
    .where('id', '=', videoId)
    .execute();
}

/** The condensed notes of an over-long transcript, kept in metadata for every content type. */
export async function saveTranscriptDigest(db: DbOrTx, videoId: string, digest: string): Promise<void> {
  await db
    .updateTable('videos')
    .set({ metadata: sql`metadata || jsonb_build_object('transcript_digest', ${digest}::text)` })
    .where('id', '=', videoId)
    .execute();
}

export type WrittenContent = Pick<VideoContent, 'id' | 'tokens_used'>;

export async function findContentVersion(
  db: DbOrTx,
  videoId: string,
  contentTypeId: string,
  version: number,
): Promise<WrittenContent | undefined> {
  return db
    .selectFrom('video_content')
    .select(['id', 'tokens_used'])
    .where('video_id', '=', videoId)
    .where('content_type_id', '=', contentTypeId)
    .where('version', '=', version)
    .executeTakeFirst();
}

export type NewVideoContent = Omit<Insertable<VideoContentTable>, 'id' | 'status' | 'created_at' | 'updated_at'>;

/**
 * Writes a completed content version; undefined when that version exists already (then it is the
 * one result). A new version counts once in the owner's content_generated (pass a transaction).
 */
export async function insertVideoContent(db: DbOrTx, row: NewVideoContent): Promise<WrittenContent | undefined> {
  return inTransaction(db, async (tx) => {
    const inserted = await tx
      .insertInto('video_content')
      .values({ ...row, status: 'completed' })
      .onConflict((oc) => oc.columns(['video_id', 'content_type_id', 'version']).doNothing())
      .returning(['id', 'tokens_used'])
      .executeTakeFirst();
    if (inserted && row.created_by_user_id)
      await countUsage(tx, {
        userId: row.created_by_user_id,
        kind: 'content_generated',
        factKey: `content:${inserted.id}`,
        quantity: 1,
        runId: row.run_id ?? null,
      });
    return inserted;
  });
}

/** The given content rows of a video with their type, for export. */
export async function listContentForExport(db: DbOrTx, videoId: string, contentIds: string[]) {
  return db
    .selectFrom('video_content as vc')
    .innerJoin('content_types as ct', 'ct.id', 'vc.content_type_id')
    .select(['vc.id', 'vc.version', 'vc.content', 'ct.key', 'ct.name'])
    .where('vc.id', 'in', contentIds)
    .where('vc.video_id', '=', videoId)
    .execute();
}

/** The id of the latest version of each content type of a video (all types, or these keys). */
export async function listLatestContentIds(db: DbOrTx, videoId: string, contentTypeKeys?: string[]): Promise<string[]> {
  const rows = await db
    .selectFrom('video_content as vc')
    .innerJoin('content_types as ct', 'ct.id', 'vc.content_type_id')
    .distinctOn('vc.content_type_id')
    .select('vc.id')
    .where('vc.video_id', '=', videoId)
    .$if(contentTypeKeys !== undefined, (qb) => qb.where('ct.key', 'in', contentTypeKeys ?? []))
    .orderBy('vc.content_type_id')
    .orderBy('vc.version', 'desc')
    .execute();
  return rows.map((r) => r.id);
}

/** The user's videos of these YouTube ids, by YouTube id: a channel's upload list marks what is imported. */
export async function findImportedYoutubeVideos(
  db: DbOrTx,
  userId: string,
  youtubeVideoIds: string[],
): Promise<Map<string, { id: string; status: VideoProcessingStatus }>> {
  if (youtubeVideoIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('videos')
    .select(['id', 'youtube_video_id', 'processing_status'])
    .where('user_id', '=', userId)
    .where('youtube_video_id', 'in', youtubeVideoIds)
    .execute();
  return new Map(rows.map((r) => [r.youtube_video_id ?? '', { id: r.id, status: r.processing_status }]));
}
