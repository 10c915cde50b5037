import { sql } from 'kysely';
import type { Db, DbOrTx } from '../database';
import type { Video, VideoContent, VideoProcessingStatus } from '../types';

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

export interface EffectivePlan {
  /** Plan slug whose features apply: an active grant's tier_override, else users.subscription_tier. */
  plan: string;
  freeVideoUsed: boolean;
  grant?: { id: string; type: 'full_access' | 'unlimited_videos' | 'video_limit_override'; videoLimit: number | null };
  /** null = unlimited */
  videoLimit: number | null;
  maxDurationSeconds: number;
  /** Content type keys the plan may generate (active types only). */
  allowedContentTypes: string[];
}

/** Used when the plan has no features row: a 2-hour cap, like the seeds' smallest paid plan. */
const DEFAULT_MAX_DURATION_SECONDS = 7200;
const VIDEO_GRANTS = ['full_access', 'unlimited_videos', 'video_limit_override'] as const;

/** The plan, grant and limits that decide a user's imports, as of `now`. */
export async function effectivePlan(db: DbOrTx, userId: string, now = new Date()): Promise<EffectivePlan | undefined> {
  const user = await db.selectFrom('users').select(['subscription_tier', 'free_video_used']).where('id', '=', userId).executeTakeFirst();
  if (!user) return undefined;
  const grant = await db
    .selectFrom('admin_subscription_grants')
    .select(['id', 'grant_type', 'tier_override', 'video_limit_override'])
    .where('user_id', '=', userId)
    .where('is_active', '=', true)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .where('grant_type', 'in', [...VIDEO_GRANTS])
    // An unlimited grant beats a raised limit; the newest grant breaks ties.
    .orderBy(sql`case when grant_type = 'video_limit_override' then 1 else 0 end`)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  const plan = grant?.tier_override ?? user.subscription_tier;
  const features = await db
    .selectFrom('subscription_plans as p')
    .innerJoin('subscription_plan_features as f', 'f.plan_id', 'p.id')
    .select(['f.video_limit', 'f.max_video_duration_seconds', 'f.allowed_content_types'])
    .where('p.slug', '=', plan as never)
    .executeTakeFirst();
  const activeTypes = await db.selectFrom('content_types').select('key').where('is_active', '=', true).orderBy('sort_order').orderBy('key').execute();
  const allowed = features ? new Set(features.allowed_content_types) : undefined;
  return {
    plan,
    freeVideoUsed: user.free_video_used,
    grant: grant ? { id: grant.id, type: grant.grant_type as NonNullable<EffectivePlan['grant']>['type'], videoLimit: grant.video_limit_override } : undefined,
    videoLimit: features?.video_limit ?? null,
    maxDurationSeconds: features?.max_video_duration_seconds ?? DEFAULT_MAX_DURATION_SECONDS,
    allowedContentTypes: activeTypes.map((t) => t.key).filter((key) => !allowed || allowed.has(key)),
  };
}

/** The user's usage row covering `now`: the subscription's current period, else the calendar month (UTC). */
async function currentUsageRow(db: DbOrTx, userId: string, limit: number | null, now: Date): Promise<string> {
  const covering = await db
    .selectFrom('subscription_usage')
    .select('id')
    .where('user_id', '=', userId)
    .where('period_start', '<=', now)
    .where('period_end', '>', now)
    .orderBy('period_start', 'desc')
    .executeTakeFirst();
  if (covering) return covering.id;
  const subscription = await db
    .selectFrom('user_subscriptions')
    .select(['id', 'current_period_start', 'current_period_end'])
    .where('user_id', '=', userId)
    .where('status', 'in', ['active', 'trialing', 'past_due'])
    .where('current_period_start', '<=', now)
    .where('current_period_end', '>', now)
    .orderBy('current_period_start', 'desc')
    .executeTakeFirst();
  const periodStart = subscription?.current_period_start ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const periodEnd = subscription?.current_period_end ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  await db
    .insertInto('subscription_usage')
    .values({ user_id: userId, user_subscription_id: subscription?.id ?? null, period_start: periodStart, period_end: periodEnd, usage_limit: limit })
    .onConflict((oc) => oc.columns(['user_id', 'period_start']).doNothing())
    .execute();
  const row = await db.selectFrom('subscription_usage').select('id').where('user_id', '=', userId).where('period_start', '=', periodStart).executeTakeFirstOrThrow();
  return row.id;
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
 * Seed 000's "Video Import Flow": an active admin grant wins (unlimited, or its own limit);
 * else the free tier's single video (users.free_video_used); else the plan's video_limit
 * against the current period's processed + reserved videos. Idempotent per video: a slot
 * already reserved or committed for it is returned as is. Must run inside a transaction.
 */
export async function reserveVideoQuota(tx: DbOrTx, videoId: string, now = new Date()): Promise<{ quota: QuotaState; plan: EffectivePlan }> {
  const video = await lockVideo(tx, videoId);
  if (!video) throw new Error(`video ${videoId} does not exist`);
  const plan = await effectivePlan(tx, video.user_id, now);
  if (!plan) throw new Error(`user ${video.user_id} does not exist`);
  const existing = quotaOf(video);
  if (existing && existing.state !== 'released') return { quota: existing, plan };

  let quota: QuotaState;
  if (plan.grant) {
    const limit = plan.grant.type === 'video_limit_override' ? plan.grant.videoLimit : null;
    const usageId = await currentUsageRow(tx, video.user_id, limit, now);
    if (!(await takeUsageSlot(tx, usageId, limit))) throw new VideoQuotaExceededError(`your video limit of ${limit} for this period is used up`);
    quota = { gate: 'admin_grant', state: 'reserved', usageId };
  } else if (plan.plan === 'free') {
    const taken = await tx.updateTable('users').set({ free_video_used: true }).where('id', '=', video.user_id).where('free_video_used', '=', false).returning('id').executeTakeFirst();
    if (!taken) throw new VideoQuotaExceededError('the free plan includes one video, and it has been used; upgrade to import more');
    quota = { gate: 'free_tier', state: 'reserved' };
  } else {
    const usageId = await currentUsageRow(tx, video.user_id, plan.videoLimit, now);
    if (!(await takeUsageSlot(tx, usageId, plan.videoLimit))) {
      throw new VideoQuotaExceededError(`your ${plan.plan} plan's ${plan.videoLimit} videos for this billing period are used up`);
    }
    quota = { gate: 'plan', state: 'reserved', usageId };
  }
  await setQuotaState(tx, videoId, quota);
  return { quota, plan };
}

/** Turns the video's reserved slot into a processed video; true only for the call that did it. */
export async function commitVideoQuota(db: Db, videoId: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const video = await lockVideo(tx, videoId);
    const quota = video && quotaOf(video);
    if (quota?.state !== 'reserved') return false;
    if (quota.usageId) {
      await tx
        .updateTable('subscription_usage')
        .set({ videos_reserved: sql`greatest(videos_reserved - 1, 0)`, videos_processed: sql`videos_processed + 1` })
        .where('id', '=', quota.usageId)
        .execute();
    }
    await setQuotaState(tx, videoId, { ...quota, state: 'committed' });
    return true;
  });
}

/** Gives the video's reserved slot back (free video flag cleared); true only for the call that did it. */
export async function releaseVideoQuota(db: Db, videoId: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const video = await lockVideo(tx, videoId);
    const quota = video && quotaOf(video);
    if (!video || quota?.state !== 'reserved') return false;
    if (quota.usageId) {
      await tx.updateTable('subscription_usage').set({ videos_reserved: sql`greatest(videos_reserved - 1, 0)` }).where('id', '=', quota.usageId).execute();
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
export async function findOrCreateImportVideo(tx: DbOrTx, input: NewImportVideo): Promise<{ video: Video; created: boolean }> {
  const metadata = input.suppliedTranscript ? { supplied_transcript: input.suppliedTranscript } : {};
  const inserted = await tx
    .insertInto('videos')
    .values({ user_id: input.userId, source_type: 'youtube', source_url: input.sourceUrl, youtube_video_id: input.youtubeVideoId, metadata: JSON.stringify(metadata) })
    .onConflict((oc) => oc.columns(['user_id', 'youtube_video_id']).where('youtube_video_id', 'is not', null).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { video: inserted, created: true };
  const video = await tx.selectFrom('videos').selectAll().where('user_id', '=', input.userId).where('youtube_video_id', '=', input.youtubeVideoId).forUpdate().executeTakeFirstOrThrow();
  return { video, created: false };
}

/** Puts a failed or canceled import back to pending for a new run, with a newly supplied transcript if any. */
export async function reopenImportVideo(tx: DbOrTx, videoId: string, suppliedTranscript?: NewImportVideo['suppliedTranscript']): Promise<void> {
  await tx
    .updateTable('videos')
    .set({
      processing_status: 'pending',
      progress: 0,
      error_message: null,
      ...(suppliedTranscript ? { metadata: sql`metadata || jsonb_build_object('supplied_transcript', ${JSON.stringify(suppliedTranscript)}::jsonb)` } : {}),
    })
    .where('id', '=', videoId)
    .execute();
}

export async function deleteVideo(db: DbOrTx, videoId: string): Promise<void> {
  await db.deleteFrom('videos').where('id', '=', videoId).execute();
}

export async function findUserVideo(db: DbOrTx, userId: string, videoId: string): Promise<Video | undefined> {
  return db.selectFrom('videos').selectAll().where('id', '=', videoId).where('user_id', '=', userId).executeTakeFirst();
}

export async function findVideo(db: DbOrTx, videoId: string): Promise<Video | undefined> {
  return db.selectFrom('videos').selectAll().where('id', '=', videoId).executeTakeFirst();
}

/** Status and progress only move on while processing; a closed status (completed/failed/canceled) is final for the run. */
export async function updateVideoProcessing(db: DbOrTx, videoId: string, update: { status: VideoProcessingStatus; progress?: number; error?: string }): Promise<void> {
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
export async function listVideoContent(db: DbOrTx, videoId: string): Promise<VideoContentWithType[]> {
  return db
    .selectFrom('video_content as vc')
    .innerJoin('content_types as ct', 'ct.id', 'vc.content_type_id')
    .selectAll('vc')
    .select(['ct.key as content_type_key', 'ct.name as content_type_name'])
    .where('vc.video_id', '=', videoId)
    .orderBy('ct.sort_order')
    .orderBy('ct.key')
    .orderBy('vc.version', 'desc')
    .execute();
}

/** One content type's versions of a video (newest first). */
export async function listContentVersions(db: DbOrTx, videoId: string, contentTypeKey: string): Promise<VideoContentWithType[]> {
  return db
    .selectFrom('video_content as vc')
    .innerJoin('content_types as ct', 'ct.id', 'vc.content_type_id')
    .selectAll('vc')
    .select(['ct.key as content_type_key', 'ct.name as content_type_name'])
    .where('vc.video_id', '=', videoId)
    .where('ct.key', '=', contentTypeKey)
    .orderBy('vc.version', 'desc')
    .execute();
}
