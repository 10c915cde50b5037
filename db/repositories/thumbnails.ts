import { sql, type Selectable } from 'kysely';
import type { Db, DbOrTx, Tx } from '../database';
import type {
  ThumbnailAspectRatio,
  ThumbnailGenerationJobsTable,
  ThumbnailJobStatus,
  ThumbnailStyleDesign,
  ThumbnailTierLimitsTable,
  VideoThumbnailsTable,
} from '../types';
import { getPlanForUser } from './plans';

export type ThumbnailJob = Selectable<ThumbnailGenerationJobsTable>;
export type VideoThumbnail = Selectable<VideoThumbnailsTable>;
type TierLimits = Selectable<ThumbnailTierLimitsTable>;

const FINAL_STATUSES: readonly ThumbnailJobStatus[] = ['completed', 'completed_with_errors', 'failed', 'canceled'];
/** Non-resetting tiers keep one usage row starting at the epoch (see db/README.md). */
const LIFETIME_PERIOD_START = new Date(0);

/** The user's thumbnail iterations for this aspect ratio and period are used up; the API answers 402. */
export class ThumbnailLimitExceededError extends Error {
  override name = 'ThumbnailLimitExceededError';
  constructor(
    readonly plan: string,
    readonly aspectRatio: ThumbnailAspectRatio,
    readonly limit: number,
    /** When the allowance starts over; null for a lifetime allowance. */
    readonly resetsAt: Date | null,
  ) {
    super(
      `your ${plan} plan includes ${limit} ${aspectRatio} thumbnail generation(s) ${resetsAt ? 'per month' : 'in total'}, and they are used up` +
        (resetsAt ? `; the allowance resets on ${resetsAt.toISOString().slice(0, 10)}` : '; upgrade to generate more'),
    );
  }
}

interface UsagePeriod {
  start: Date;
  end: Date | null;
}

/** Monthly tiers count per calendar month (UTC); the others over the account's lifetime. */
export function thumbnailUsagePeriod(limits: Pick<TierLimits, 'reset_monthly'>, now: Date): UsagePeriod {
  if (!limits.reset_monthly) return { start: LIFETIME_PERIOD_START, end: null };
  return {
    start: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
    end: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)),
  };
}

async function tierLimitsFor(db: DbOrTx, userId: string, now: Date): Promise<{ plan: string; limits: TierLimits }> {
  const plan = await getPlanForUser(db, userId, now);
  if (!plan) throw new Error(`user ${userId} does not exist`);
  const limits = await db.selectFrom('thumbnail_tier_limits').selectAll().where('subscription_tier', '=', plan.slug).executeTakeFirst();
  if (!limits) throw new Error(`no thumbnail tier limits are seeded for the ${plan.slug} plan`);
  return { plan: plan.slug, limits };
}

export interface NewThumbnailJob {
  userId: string;
  videoId: string;
  topic: string;
  subTopic: string | null;
  expression: string;
  aspectRatio: ThumbnailAspectRatio;
  contentCategory: string | null;
  /** Empty = every active style. */
  styles: string[];
  referenceImageIds: string[];
  characterProfileId: string | null;
}

/**
 * Reserves one iteration of the user's tier for `aspectRatio` and inserts the job, both in the
 * caller's transaction. The reservation is one conditional UPDATE: its row lock serialises
 * concurrent requests, which re-check the limit against the committed counts, so parallel jobs
 * can never overshoot it. Throws ThumbnailLimitExceededError when nothing is left.
 */
export async function createThumbnailJob(tx: DbOrTx, job: NewThumbnailJob, now = new Date()): Promise<ThumbnailJob> {
  const { plan, limits } = await tierLimitsFor(tx, job.userId, now);
  const period = thumbnailUsagePeriod(limits, now);
  const limit = job.aspectRatio === '16:9' ? limits.iterations_16_9 : limits.iterations_9_16;
  await tx
    .insertInto('thumbnail_usage')
    .values({ user_id: job.userId, aspect_ratio: job.aspectRatio, period_start: period.start, period_end: period.end })
    .onConflict((oc) => oc.columns(['user_id', 'aspect_ratio', 'period_start']).doNothing())
    .execute();
  const reserved = await tx
    .updateTable('thumbnail_usage')
    .set({ iterations_reserved: sql`iterations_reserved + 1` })
    .where('user_id', '=', job.userId)
    .where('aspect_ratio', '=', job.aspectRatio)
    .where('period_start', '=', period.start)
    .$if(!limits.is_unlimited, (qb) => qb.where(sql<boolean>`iterations_used + iterations_reserved < ${limit}`))
    .returning('id')
    .executeTakeFirst();
  if (!reserved) throw new ThumbnailLimitExceededError(plan, job.aspectRatio, limit, period.end);

  return tx
    .insertInto('thumbnail_generation_jobs')
    .values({
      user_id: job.userId,
      video_id: job.videoId,
      topic: job.topic,
      sub_topic: job.subTopic,
      expression_category: job.expression,
      aspect_ratio: job.aspectRatio,
      content_category: job.contentCategory,
      styles: job.styles,
      reference_image_ids: job.referenceImageIds,
      character_profile_id: job.characterProfileId,
      thumbnails_requested: job.styles.length,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Ends a job and settles its reserved iteration in one transaction under the job's row lock:
 * charged when any thumbnail of the job exists (counted in PostgreSQL, so a row written by an
 * attempt the workflow never heard back from still counts), released otherwise. A job already
 * ended is returned as it is, so repeating the call changes nothing. Runs in the caller's
 * transaction when given one.
 */
export async function settleThumbnailJob(
  db: DbOrTx,
  jobId: string,
  ending: { kind: 'finished' | 'failed' | 'canceled'; errorMessage: string | null },
): Promise<{ status: ThumbnailJobStatus; produced: number; charged: boolean }> {
  const settle = async (tx: Tx): Promise<{ status: ThumbnailJobStatus; produced: number; charged: boolean }> => {
    const job = await tx.selectFrom('thumbnail_generation_jobs').selectAll().where('id', '=', jobId).forUpdate().executeTakeFirstOrThrow();
    const counted = await tx
      .selectFrom('video_thumbnails')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('job_id', '=', jobId)
      .executeTakeFirstOrThrow();
    const produced = Number(counted.n);
    if (FINAL_STATUSES.includes(job.status)) return { status: job.status, produced, charged: job.thumbnails_generated > 0 };

    const status: ThumbnailJobStatus =
      ending.kind === 'canceled'
        ? 'canceled'
        : produced === 0
          ? 'failed'
          : ending.kind === 'finished' && produced >= job.thumbnails_requested
            ? 'completed'
            : 'completed_with_errors';
    // The reservation went to the newest usage row of the job's ratio that had begun when the job was created.
    const usage = await tx
      .selectFrom('thumbnail_usage')
      .select('id')
      .where('user_id', '=', job.user_id)
      .where('aspect_ratio', '=', job.aspect_ratio)
      .where('period_start', '<=', job.created_at)
      .where('iterations_reserved', '>', 0)
      .orderBy('period_start', 'desc')
      .forUpdate()
      .executeTakeFirst();
    if (usage) {
      await tx
        .updateTable('thumbnail_usage')
        .set(
          produced > 0
            ? {
                iterations_reserved: sql`iterations_reserved - 1`,
                iterations_used: sql`iterations_used + 1`,
                thumbnails_generated: sql`thumbnails_generated + ${produced}`,
              }
            : { iterations_reserved: sql`iterations_reserved - 1` },
        )
        .where('id', '=', usage.id)
        .execute();
    }
    await tx
      .updateTable('thumbnail_generation_jobs')
      .set({
        status,
        thumbnails_generated: produced,
        progress: status === 'canceled' ? job.progress : 100,
        current_style: null,
        error_message: ending.errorMessage,
        completed_at: new Date(),
      })
      .where('id', '=', jobId)
      .execute();
    return { status, produced, charged: produced > 0 };
  };
  return db.isTransaction ? settle(db as Tx) : db.transaction().execute(settle);
}

/** Gives back the reservation of a job whose run never started, and ends the job as failed. */
export async function abandonThumbnailJob(db: Db, jobId: string): Promise<void> {
  await settleThumbnailJob(db, jobId, { kind: 'failed', errorMessage: 'the job could not be started' });
}

export async function findThumbnailJob(db: DbOrTx, jobId: string): Promise<ThumbnailJob | undefined> {
  return db.selectFrom('thumbnail_generation_jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
}

export async function findUserThumbnailJob(db: DbOrTx, userId: string, jobId: string): Promise<ThumbnailJob | undefined> {
  return db.selectFrom('thumbnail_generation_jobs').selectAll().where('id', '=', jobId).where('user_id', '=', userId).executeTakeFirst();
}

/** Marks the job as picked up by its run (first call only) and records the styles it will render. */
export async function startThumbnailJobRow(db: DbOrTx, jobId: string, runId: string | null, styles: string[]): Promise<void> {
  await db
    .updateTable('thumbnail_generation_jobs')
    .set({ status: 'processing', run_id: runId, thumbnails_requested: styles.length, started_at: sql`coalesce(started_at, now())` })
    .where('id', '=', jobId)
    .where('status', 'in', ['pending', 'processing'])
    .execute();
}

export async function updateThumbnailJobProgress(db: DbOrTx, jobId: string, progress: number, currentStyle: string | null): Promise<void> {
  await db
    .updateTable('thumbnail_generation_jobs')
    .set({ progress: sql`greatest(progress, ${Math.round(progress)})`, current_style: currentStyle })
    .where('id', '=', jobId)
    .where('status', '=', 'processing')
    .execute();
}

export async function countThumbnailJobRetry(db: DbOrTx, jobId: string): Promise<void> {
  await db
    .updateTable('thumbnail_generation_jobs')
    .set({ retry_count: sql`retry_count + 1` })
    .where('id', '=', jobId)
    .execute();
}

export interface ThumbnailStyle {
  key: string;
  name: string;
  description: string;
  design: ThumbnailStyleDesign;
}

export async function listActiveThumbnailStyles(db: DbOrTx): Promise<ThumbnailStyle[]> {
  return db
    .selectFrom('thumbnail_styles')
    .select(['key', 'name', 'description', 'design'])
    .where('is_active', '=', true)
    .orderBy('sort_order')
    .orderBy('key')
    .execute();
}

/** Which of the keys are missing or inactive in a reference table. */
export async function unknownThumbnailKeys(
  db: DbOrTx,
  table: 'thumbnail_styles' | 'thumbnail_expressions' | 'thumbnail_content_categories',
  keys: string[],
): Promise<string[]> {
  if (keys.length === 0) return [];
  const found = new Set(
    (await db.selectFrom(table).select('key').where('key', 'in', keys).where('is_active', '=', true).execute()).map((r) => r.key),
  );
  return keys.filter((key) => !found.has(key));
}

/** The ids among `ids` that are not the user's reference images. */
export async function foreignReferenceImageIds(db: DbOrTx, userId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const own = new Set(
    (await db.selectFrom('thumbnail_reference_images').select('id').where('user_id', '=', userId).where('id', 'in', ids).execute()).map(
      (r) => r.id,
    ),
  );
  return ids.filter((id) => !own.has(id));
}

export async function userOwnsCharacterProfile(db: DbOrTx, userId: string, profileId: string): Promise<boolean> {
  const row = await db
    .selectFrom('user_character_profiles')
    .select('id')
    .where('id', '=', profileId)
    .where('user_id', '=', userId)
    .where('is_active', '=', true)
    .executeTakeFirst();
  return row !== undefined;
}

/** The video, when it is the user's (the ownership check of every thumbnail route). */
export async function findUserVideoForThumbnails(db: DbOrTx, userId: string, videoId: string) {
  return db
    .selectFrom('videos')
    .select(['id', 'user_id', 'youtube_video_id'])
    .where('id', '=', videoId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export type NewVideoThumbnail = Omit<
  VideoThumbnail,
  'id' | 'is_selected' | 'is_uploaded_to_youtube' | 'created_at' | 'updated_at' | 'layout' | 'job_id'
> & { job_id: string; layout: unknown };

/** Inserts the style's row, or updates it when a retried attempt already wrote it (natural key job/style/version). */
export async function upsertVideoThumbnail(db: DbOrTx, row: NewVideoThumbnail): Promise<string> {
  const values = { ...row, layout: JSON.stringify(row.layout) };
  const { job_id: _job, style_name: _style, version: _version, ...updatable } = values;
  const saved = await db
    .insertInto('video_thumbnails')
    .values(values)
    .onConflict((oc) => oc.columns(['job_id', 'style_name', 'version']).doUpdateSet(updatable))
    .returning('id')
    .executeTakeFirstOrThrow();
  return saved.id;
}

export async function findThumbnail(db: DbOrTx, thumbnailId: string): Promise<VideoThumbnail | undefined> {
  return db.selectFrom('video_thumbnails').selectAll().where('id', '=', thumbnailId).executeTakeFirst();
}

export async function findUserThumbnail(db: DbOrTx, userId: string, thumbnailId: string): Promise<VideoThumbnail | undefined> {
  return db.selectFrom('video_thumbnails').selectAll().where('id', '=', thumbnailId).where('user_id', '=', userId).executeTakeFirst();
}

export async function listJobThumbnails(db: DbOrTx, jobId: string): Promise<VideoThumbnail[]> {
  return db.selectFrom('video_thumbnails').selectAll().where('job_id', '=', jobId).orderBy('generation_order').orderBy('version').execute();
}

/** The version a refinement of this style writes: one past the newest of the video's versions of it. */
export async function nextThumbnailVersion(db: DbOrTx, videoId: string, style: string, aspectRatio: ThumbnailAspectRatio): Promise<number> {
  const row = await db
    .selectFrom('video_thumbnails')
    .select((eb) => eb.fn.max('version').as('latest'))
    .where('video_id', '=', videoId)
    .where('style_name', '=', style)
    .where('aspect_ratio', '=', aspectRatio)
    .executeTakeFirst();
  return Number(row?.latest ?? 0) + 1;
}

/**
 * Makes the thumbnail its video's only selected one. The video row lock serialises concurrent
 * selections, so the partial unique index (one selected per video) is never hit.
 */
export async function selectThumbnail(db: Db, thumbnailId: string): Promise<VideoThumbnail> {
  return db.transaction().execute(async (tx) => {
    const thumbnail = await tx.selectFrom('video_thumbnails').selectAll().where('id', '=', thumbnailId).executeTakeFirstOrThrow();
    await tx.selectFrom('videos').select('id').where('id', '=', thumbnail.video_id).forUpdate().executeTakeFirst();
    await tx
      .updateTable('video_thumbnails')
      .set({ is_selected: false })
      .where('video_id', '=', thumbnail.video_id)
      .where('is_selected', '=', true)
      .where('id', '!=', thumbnailId)
      .execute();
    return tx
      .updateTable('video_thumbnails')
      .set({ is_selected: true })
      .where('id', '=', thumbnailId)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** Records that YouTube now shows this thumbnail (and no longer any other of the video's). */
export async function markThumbnailOnYoutube(db: Db, thumbnailId: string, videoId: string): Promise<void> {
  await db
    .updateTable('video_thumbnails')
    .set({ is_uploaded_to_youtube: sql<boolean>`id = ${thumbnailId}` })
    .where('video_id', '=', videoId)
    .where((eb) => eb.or([eb('id', '=', thumbnailId), eb('is_uploaded_to_youtube', '=', true)]))
    .execute();
}

/** What the AI copy of a job draws on: its video's text, the expression, and the category and character profile when set. */
export async function thumbnailCopyContext(
  db: DbOrTx,
  job: Pick<ThumbnailJob, 'video_id' | 'expression_category' | 'content_category' | 'character_profile_id'>,
) {
  const [video, expression, category, profile] = await Promise.all([
    db.selectFrom('videos').select(['title', 'description', 'transcript']).where('id', '=', job.video_id).executeTakeFirst(),
    db.selectFrom('thumbnail_expressions').selectAll().where('key', '=', job.expression_category).executeTakeFirst(),
    job.content_category
      ? db
          .selectFrom('thumbnail_content_categories')
          .select(['name', 'description'])
          .where('key', '=', job.content_category)
          .executeTakeFirst()
      : undefined,
    job.character_profile_id
      ? db
          .selectFrom('user_character_profiles')
          .select(['full_anchor_text', 'profile_name'])
          .where('id', '=', job.character_profile_id)
          .executeTakeFirst()
      : undefined,
  ]);
  return { video, expression, category, profile };
}
