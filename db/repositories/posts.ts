import { sql, type Selectable } from 'kysely';
import type { PostPlatform, PostStatus } from '../../schemas/posts';
import type { DbOrTx } from '../database';
import type { SocialAccountPlatform, SocialAccountStatus, SocialAccountsTable, SocialPlatform, Weekday } from '../types';
import { countUsage } from './usage';

export type SocialAccount = Selectable<SocialAccountsTable>;

const UNIQUE_VIOLATION = '23505';
const SLOT_KEY = 'posts_account_slot_key';

/** Another live post of the account already holds this instant (posts_account_slot_key). */
export class SlotTakenError extends Error {
  override name = 'SlotTakenError';
  constructor(readonly scheduledAt: Date) {
    super(`the account already has a post at ${scheduledAt.toISOString()}`);
  }
}

function rethrowSlotConflict(err: unknown, scheduledAt: Date): never {
  const e = err as { code?: string; constraint?: string };
  if (e.code === UNIQUE_VIOLATION && e.constraint === SLOT_KEY) throw new SlotTakenError(scheduledAt);
  throw err;
}

/** X keeps the seeds' column value `twitter`. */
export const toStoredPlatform = (platform: PostPlatform): SocialPlatform => (platform === 'x' ? 'twitter' : platform);
export function fromStoredPlatform(platform: SocialAccountPlatform): PostPlatform | null {
  if (platform === 'twitter') return 'x';
  return platform === 'instagram' || platform === 'facebook' || platform === 'tiktok' || platform === 'linkedin' || platform === 'youtube'
    ? platform
    : null;
}

// ---- social accounts ----

export async function findSocialAccount(db: DbOrTx, id: string) {
  return db.selectFrom('social_accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserSocialAccount(db: DbOrTx, userId: string, id: string) {
  return db.selectFrom('social_accounts').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

export async function listUserSocialAccounts(db: DbOrTx, userId: string) {
  return db.selectFrom('social_accounts').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
}

/** The account with the same platform identity, so a reconnect updates it (and its AAD-bound tokens) in place. */
export async function findSocialAccountByIdentity(
  db: DbOrTx,
  userId: string,
  platform: SocialAccountPlatform,
  platformUserId: string | null,
) {
  let query = db.selectFrom('social_accounts').selectAll().where('user_id', '=', userId).where('platform', '=', platform);
  query = platformUserId === null ? query.where('platform_user_id', 'is', null) : query.where('platform_user_id', '=', platformUserId);
  return query.executeTakeFirst();
}

export interface SocialAccountWrite {
  /** Chosen before the insert: the sealed tokens are bound to it. */
  id: string;
  userId: string;
  platform: SocialAccountPlatform;
  platformUserId: string | null;
  username: string | null;
  encryptedTokens: string;
  tokenExpiresAt: Date | null;
}

export async function insertSocialAccount(db: DbOrTx, account: SocialAccountWrite) {
  return db
    .insertInto('social_accounts')
    .values({
      id: account.id,
      user_id: account.userId,
      platform: account.platform,
      platform_user_id: account.platformUserId,
      username: account.username,
      encrypted_tokens: account.encryptedTokens,
      token_expires_at: account.tokenExpiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Reconnect: fresh tokens, active again. */
export async function reconnectSocialAccount(db: DbOrTx, account: SocialAccountWrite) {
  return db
    .updateTable('social_accounts')
    .set({
      username: account.username,
      encrypted_tokens: account.encryptedTokens,
      token_expires_at: account.tokenExpiresAt,
      status: 'active',
      last_error: null,
      disconnected_at: null,
    })
    .where('id', '=', account.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Disconnect keeps the row (posts reference it) but drops the token material. */
export async function disconnectSocialAccount(db: DbOrTx, id: string): Promise<void> {
  await db
    .updateTable('social_accounts')
    .set({ status: 'disconnected', encrypted_tokens: '', token_expires_at: null, disconnected_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

/** The row locked for a token refresh, so two workers cannot spend one rotating refresh token. */
export async function lockSocialAccount(tx: DbOrTx, id: string) {
  return tx.selectFrom('social_accounts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function storeRefreshedTokens(db: DbOrTx, id: string, encryptedTokens: string, tokenExpiresAt: Date | null): Promise<void> {
  await db
    .updateTable('social_accounts')
    .set({
      encrypted_tokens: encryptedTokens,
      token_expires_at: tokenExpiresAt,
      status: 'active',
      last_error: null,
      last_sync_at: sql`now()`,
    })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .execute();
}

export async function markSocialAccount(
  db: DbOrTx,
  id: string,
  status: Exclude<SocialAccountStatus, 'active' | 'disconnected'>,
  lastError: string,
): Promise<void> {
  await db
    .updateTable('social_accounts')
    .set({ status, last_error: lastError })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .execute();
}

// ---- posts ----

export interface NewPost {
  /** Chosen by the caller, so the run id (`post:<id>`) is stored with the row. */
  id: string;
  runId: string;
  userId: string;
  socialAccountId: string;
  clipId: string | null;
  caption: string;
  hashtags: string[];
  mentions: string[];
  mediaUrls: string[];
  mediaType: 'video' | 'image' | 'carousel';
  platformOptions: Record<string, unknown>;
  scheduledAt: Date;
  needsApproval: boolean;
}

/** Throws SlotTakenError when the account already has a live post at that instant. */
export async function insertPost(db: DbOrTx, post: NewPost) {
  return db
    .insertInto('posts')
    .values({
      id: post.id,
      run_id: post.runId,
      user_id: post.userId,
      social_account_id: post.socialAccountId,
      clip_id: post.clipId,
      caption: post.caption,
      hashtags: post.hashtags,
      mentions: post.mentions,
      media_urls: post.mediaUrls,
      media_type: post.mediaType,
      platform_options: JSON.stringify(post.platformOptions),
      status: post.needsApproval ? 'pending_approval' : 'scheduled',
      scheduled_at: post.scheduledAt,
      needs_approval: post.needsApproval,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
    .catch((err: unknown) => rethrowSlotConflict(err, post.scheduledAt));
}

export async function deletePost(db: DbOrTx, id: string): Promise<void> {
  await db.deleteFrom('posts').where('id', '=', id).execute();
}

export async function findPost(db: DbOrTx, id: string) {
  return db.selectFrom('posts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The user's posts, each with its account's platform. */
const userPosts = (db: DbOrTx, userId: string) =>
  db
    .selectFrom('posts')
    .innerJoin('social_accounts', 'social_accounts.id', 'posts.social_account_id')
    .selectAll('posts')
    .select('social_accounts.platform')
    .where('posts.user_id', '=', userId);

export async function findUserPost(db: DbOrTx, userId: string, id: string) {
  return userPosts(db, userId).where('posts.id', '=', id).executeTakeFirst();
}

export type UserPost = NonNullable<Awaited<ReturnType<typeof findUserPost>>>;

/** The user's posts due in [from, to), earliest first: the calendar. */
export async function listUserPostsBetween(db: DbOrTx, userId: string, from: Date, to: Date) {
  return userPosts(db, userId)
    .where('posts.scheduled_at', '>=', from)
    .where('posts.scheduled_at', '<', to)
    .orderBy('posts.scheduled_at')
    .orderBy('posts.id')
    .limit(1000)
    .execute();
}

/** Instants already held by the account's live posts from `from` on. */
export async function takenSlots(db: DbOrTx, socialAccountId: string, from: Date): Promise<Set<number>> {
  const rows = await db
    .selectFrom('posts')
    .select('scheduled_at')
    .where('social_account_id', '=', socialAccountId)
    .where('scheduled_at', '>', from)
    .where('status', 'in', ['pending_approval', 'scheduled', 'publishing', 'published'])
    .execute();
  return new Set(rows.map((r) => r.scheduled_at!.getTime()));
}

export async function reschedulePostRow(db: DbOrTx, id: string, scheduledAt: Date): Promise<void> {
  await db
    .updateTable('posts')
    .set({ scheduled_at: scheduledAt })
    .where('id', '=', id)
    .where('status', 'in', ['pending_approval', 'scheduled'])
    .execute()
    .catch((err: unknown) => rethrowSlotConflict(err, scheduledAt));
}

export async function approvePostRow(db: DbOrTx, id: string, approvedBy: string): Promise<void> {
  await db
    .updateTable('posts')
    .set({ status: 'scheduled', approved_by: approvedBy, approved_at: sql`coalesce(approved_at, now())` })
    .where('id', '=', id)
    .where('status', '=', 'pending_approval')
    .execute();
}

/** Moves a post that is not yet published on; a finished post (published, failed, canceled) is never touched. */
export async function setPostStatus(
  db: DbOrTx,
  id: string,
  status: Extract<PostStatus, 'publishing' | 'failed' | 'canceled'>,
  details: { error?: string; rejectionReason?: string } = {},
): Promise<void> {
  await db
    .updateTable('posts')
    .set({
      status,
      ...(details.error !== undefined ? { publish_error: details.error } : {}),
      ...(details.rejectionReason !== undefined ? { rejection_reason: details.rejectionReason } : {}),
    })
    .where('id', '=', id)
    .where('status', 'not in', ['published', 'failed', 'canceled'])
    .execute();
}

export async function countPublishAttempt(db: DbOrTx, id: string): Promise<void> {
  await db
    .updateTable('posts')
    .set({ retry_count: sql`retry_count + 1` })
    .where('id', '=', id)
    .execute();
}

/** A post reaching published (or partially_published) counts once in the owner's posts_published. */
export const countPublishedPost = (db: DbOrTx, userId: string, postId: string): Promise<boolean> =>
  countUsage(db, { userId, kind: 'posts_published', factKey: `post:${postId}`, quantity: 1 });

/**
 * Records the platform's post once: the first call moves the post to published and counts the
 * clip's publication and the owner's published post; a retried call finds it published and changes nothing.
 */
export async function recordPublished(db: DbOrTx, id: string, published: { platformPostId: string; platformUrl: string }): Promise<Date> {
  const updated = await db
    .updateTable('posts')
    .set({
      status: 'published',
      platform_post_id: published.platformPostId,
      platform_url: published.platformUrl,
      published_at: sql`now()`,
      publish_error: null,
    })
    .where('id', '=', id)
    .where('status', '<>', 'published')
    .returning(['clip_id', 'published_at', 'user_id'])
    .executeTakeFirst();
  if (updated) await countPublishedPost(db, updated.user_id, id);
  if (updated?.clip_id)
    await db
      .updateTable('clips')
      .set({ times_published: sql`times_published + 1` })
      .where('id', '=', updated.clip_id)
      .execute();
  if (updated) return updated.published_at!;
  const row = await db.selectFrom('posts').select('published_at').where('id', '=', id).executeTakeFirstOrThrow();
  return row.published_at!;
}

export interface MetricsSnapshot {
  views: number | null;
  likes: number | null;
  comments: number | null;
  shares: number | null;
}

/** One snapshot per checkpoint: a retried sync keeps the first. */
export async function insertPostMetrics(db: DbOrTx, postId: string, checkpoint: string, metrics: MetricsSnapshot): Promise<void> {
  await db
    .insertInto('post_metrics')
    .values({
      post_id: postId,
      checkpoint,
      recorded_at: sql`now()`,
      views: metrics.views ?? 0,
      likes: metrics.likes ?? 0,
      comments: metrics.comments ?? 0,
      shares: metrics.shares ?? 0,
      raw_data: JSON.stringify(metrics),
    })
    .onConflict((oc) => oc.columns(['post_id', 'checkpoint']).where('checkpoint', 'is not', null).doNothing())
    .execute();
  await db
    .updateTable('posts')
    .set({ last_metrics_sync_at: sql`now()` })
    .where('id', '=', postId)
    .execute();
}

export async function latestPostMetrics(db: DbOrTx, postId: string) {
  return db.selectFrom('post_metrics').selectAll().where('post_id', '=', postId).orderBy('recorded_at', 'desc').limit(1).executeTakeFirst();
}

export async function findClipMedia(db: DbOrTx, userId: string, clipId: string) {
  return db
    .selectFrom('clips')
    .select(['id', 'file_urls', 'render_status'])
    .where('id', '=', clipId)
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

// ---- posting schedules ----

export interface PostingScheduleWrite {
  userId: string;
  socialAccountId: string | null;
  timezone: string;
  days: Weekday[];
  times: string[];
}

export async function upsertPostingSchedule(db: DbOrTx, schedule: PostingScheduleWrite) {
  return db
    .insertInto('posting_schedules')
    .values({
      user_id: schedule.userId,
      social_account_id: schedule.socialAccountId,
      timezone: schedule.timezone,
      posting_days: schedule.days,
      posting_times: schedule.times,
    })
    .onConflict((oc) =>
      oc.columns(['user_id', 'social_account_id']).doUpdateSet({
        timezone: (eb) => eb.ref('excluded.timezone'),
        posting_days: (eb) => eb.ref('excluded.posting_days'),
        posting_times: (eb) => eb.ref('excluded.posting_times'),
        is_active: true,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The account's own active schedule, else the user's default one (only the default one when `socialAccountId` is null). */
export async function findPostingSchedule(db: DbOrTx, userId: string, socialAccountId: string | null) {
  return db
    .selectFrom('posting_schedules')
    .selectAll()
    .where('user_id', '=', userId)
    .where('is_active', '=', true)
    .where((eb) =>
      socialAccountId
        ? eb.or([eb('social_account_id', '=', socialAccountId), eb('social_account_id', 'is', null)])
        : eb('social_account_id', 'is', null),
    )
    .orderBy(sql`social_account_id is null`)
    .limit(1)
    .executeTakeFirst();
}
