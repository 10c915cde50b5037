import { sql, type Selectable } from 'kysely';
import type { PostStatus } from '../../schemas/posts';
import type { DbOrTx } from '../database';
import type { PostTargetsTable, SocialPlatform } from '../types';
import { countPublishedPost, fromStoredPlatform } from './posts';

export type PostTarget = Selectable<PostTargetsTable>;
export type TargetPlatform = PostTargetsTable['platform'];

/** Where one post goes: an account of the user and the platform it publishes to (an Ayrshare account names the network). */
export interface NewPostTarget {
  socialAccountId: string;
  platform: TargetPlatform;
}

const isTargetPlatform = (platform: SocialPlatform): platform is TargetPlatform => platform !== 'pinterest' && platform !== 'threads';
export const asTargetPlatform = (platform: SocialPlatform): TargetPlatform | null => (isTargetPlatform(platform) ? platform : null);

/** The post's targets in request order (position 0 is posts.social_account_id). */
export async function insertPostTargets(db: DbOrTx, postId: string, targets: NewPostTarget[]): Promise<PostTarget[]> {
  return db
    .insertInto('post_targets')
    .values(targets.map((t, position) => ({ post_id: postId, social_account_id: t.socialAccountId, platform: t.platform, position })))
    .returningAll()
    .execute();
}

export async function listPostTargets(db: DbOrTx, postId: string) {
  return db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).orderBy('position').execute();
}

/** The targets of several posts (a calendar page), each with its account's platform (`ayrshare` or the network). */
export async function listTargetsOfPosts(db: DbOrTx, postIds: string[]) {
  if (postIds.length === 0) return [];
  return db
    .selectFrom('post_targets')
    .innerJoin('social_accounts', 'social_accounts.id', 'post_targets.social_account_id')
    .selectAll('post_targets')
    .select('social_accounts.platform as account_platform')
    .where('post_targets.post_id', 'in', postIds)
    .orderBy('post_targets.post_id')
    .orderBy('post_targets.position')
    .execute();
}

export type PostTargetWithAccount = Awaited<ReturnType<typeof listTargetsOfPosts>>[number];

export async function findPostTarget(db: DbOrTx, postId: string, targetId: string) {
  return db.selectFrom('post_targets').selectAll().where('id', '=', targetId).where('post_id', '=', postId).executeTakeFirst();
}

/** A publish attempt begins: counted, and the target (not yet final) is publishing. */
export async function startTargetAttempt(db: DbOrTx, targetId: string): Promise<void> {
  await db
    .updateTable('post_targets')
    .set({ status: 'publishing', attempts: sql`attempts + 1` })
    .where('id', '=', targetId)
    .where('status', 'in', ['pending', 'publishing'])
    .execute();
}

/** Records the platform's post once; a retried call finds it published and keeps the first record. */
export async function recordTargetPublished(
  db: DbOrTx,
  targetId: string,
  published: { platformPostId: string; platformUrl: string; ayrsharePostId?: string },
): Promise<Date> {
  const updated = await db
    .updateTable('post_targets')
    .set({
      status: 'published',
      platform_post_id: published.platformPostId,
      platform_url: published.platformUrl,
      ayrshare_post_id: published.ayrsharePostId ?? null,
      published_at: sql`now()`,
      error: null,
    })
    .where('id', '=', targetId)
    .where('status', '<>', 'published')
    .returning('published_at')
    .executeTakeFirst();
  if (updated) return updated.published_at!;
  const row = await db.selectFrom('post_targets').select('published_at').where('id', '=', targetId).executeTakeFirstOrThrow();
  return row.published_at!;
}

/** Targets not yet published end with the post: failed with its error, or canceled. */
export async function finishOpenTargets(db: DbOrTx, postId: string, status: 'failed' | 'canceled', error?: string): Promise<void> {
  await db
    .updateTable('post_targets')
    .set({ status, ...(error !== undefined ? { error } : {}) })
    .where('post_id', '=', postId)
    .where('status', 'in', ['pending', 'publishing'])
    .execute();
}

export interface TargetFailure {
  targetId: string;
  error: string;
}

export interface PublishSummary {
  status: Extract<PostStatus, 'published' | 'partially_published' | 'failed'>;
  /** The first target's post (posts.platform_post_id), when it was published. */
  platformPostId: string | null;
  published: number;
  failed: number;
}

/**
 * Ends publishing of a post to several targets in one transaction: the failed targets get their
 * error, and the post's status summarises them (all published → published, some → partially_published,
 * none → failed); the post keeps its first target's platform id and URL, and a (partially) published
 * post counts once in posts_published. Run twice, it changes nothing more.
 */
export async function settlePublishedTargets(db: DbOrTx, postId: string, failures: TargetFailure[]): Promise<PublishSummary> {
  for (const failure of failures)
    await db
      .updateTable('post_targets')
      .set({ status: 'failed', error: failure.error })
      .where('id', '=', failure.targetId)
      .where('post_id', '=', postId)
      .where('status', 'in', ['pending', 'publishing'])
      .execute();
  const targets = await db.selectFrom('post_targets').selectAll().where('post_id', '=', postId).orderBy('position').execute();
  const published = targets.filter((t) => t.status === 'published');
  const failed = targets.filter((t) => t.status === 'failed');
  const status: PublishSummary['status'] =
    published.length === targets.length ? 'published' : published.length > 0 ? 'partially_published' : 'failed';
  const primary = targets[0]?.status === 'published' ? targets[0] : undefined;
  const firstPublishedAt = published.map((t) => t.published_at!.getTime()).sort((a, b) => a - b)[0];
  const settled = await db
    .updateTable('posts')
    .set({
      status,
      platform_post_id: primary?.platform_post_id ?? null,
      platform_url: primary?.platform_url ?? null,
      published_at: firstPublishedAt === undefined ? null : new Date(firstPublishedAt),
      publish_error: failed.length > 0 ? failed.map((t) => `${fromStoredPlatform(t.platform)}: ${t.error ?? 'failed'}`).join('; ') : null,
    })
    .where('id', '=', postId)
    .where('status', 'not in', ['published', 'partially_published', 'failed', 'canceled'])
    .returning('user_id')
    .executeTakeFirst();
  if (settled && status !== 'failed') await countPublishedPost(db, settled.user_id, postId);
  return { status, platformPostId: primary?.platform_post_id ?? null, published: published.length, failed: failed.length };
}

/** The user's active accounts, newest first: `platforms` resolves each network to its own account, else to Ayrshare. */
export async function listActiveAccounts(db: DbOrTx, userId: string) {
  return db
    .selectFrom('social_accounts')
    .selectAll()
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .orderBy('created_at', 'desc')
    .execute();
}

/** The user's posts still waiting to publish after `after` (their runs are canceled when the subscription ends). */
export async function listUpcomingPosts(db: DbOrTx, userId: string, after: Date) {
  return db
    .selectFrom('posts')
    .select(['id', 'status', 'scheduled_at'])
    .where('user_id', '=', userId)
    .where('status', 'in', ['pending_approval', 'scheduled'])
    .where('scheduled_at', '>', after)
    .orderBy('scheduled_at')
    .execute();
}
