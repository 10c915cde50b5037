import { sql } from 'kysely';
import type { AccountInsights, CommentSentiment } from '../../schemas/social-insights';
import type { DbOrTx } from '../database';

/** ClipFlow: account_analytics (one row per account and day), the comments inbox and replies. */

/**
 * The day's row, inserted or brought up to date (a re-run of the day replaces its figures), and
 * the account's follower count and last sync: one transaction, so a retry changes nothing more.
 */
export async function upsertAccountAnalytics(tx: DbOrTx, socialAccountId: string, date: string, day: AccountInsights): Promise<void> {
  const values = {
    followers: day.followers,
    followers_gained: day.followersGained,
    followers_lost: day.followersLost,
    impressions: day.impressions,
    reach: day.reach,
    engagement: day.engagement,
    engagement_rate: day.engagement !== null && day.reach ? Math.round((day.engagement / day.reach) * 10_000) / 100 : null,
    total_views: day.views,
    total_likes: day.likes,
    total_comments: day.comments,
    total_shares: day.shares,
    posts_published: day.postsPublished,
    raw_data: JSON.stringify(day.raw ?? null),
  };
  await tx
    .insertInto('account_analytics')
    .values({ social_account_id: socialAccountId, date, ...values })
    .onConflict((oc) => oc.columns(['social_account_id', 'date']).doUpdateSet(values))
    .execute();
  await tx
    .updateTable('social_accounts')
    .set({ last_sync_at: sql`now()`, ...(day.followers === null ? {} : { follower_count: day.followers }) })
    .where('id', '=', socialAccountId)
    .execute();
}

/** The account's days in [from, to] (`YYYY-MM-DD`, inclusive), each with its day as text (a `date` read into a Date depends on the process's zone). */
export async function listAccountAnalytics(db: DbOrTx, socialAccountId: string, from: string, to: string) {
  return db
    .selectFrom('account_analytics')
    .selectAll()
    .select(sql<string>`to_char(date, 'YYYY-MM-DD')`.as('day'))
    .where('social_account_id', '=', socialAccountId)
    .where('date', '>=', sql<Date>`${from}::date`)
    .where('date', '<=', sql<Date>`${to}::date`)
    .orderBy('date')
    .execute();
}

/** The account's published posts since `since`, newest first: the ones whose comments are polled. */
export async function recentPublishedTargets(db: DbOrTx, socialAccountId: string, since: Date, limit: number) {
  return db
    .selectFrom('post_targets')
    .select(['post_id', 'platform_post_id'])
    .where('social_account_id', '=', socialAccountId)
    .where('status', '=', 'published')
    .where('platform_post_id', 'is not', null)
    .where('published_at', '>=', since)
    .orderBy('published_at', 'desc')
    .limit(limit)
    .execute();
}

export interface NewComment {
  postId: string;
  socialAccountId: string;
  platformPostId: string;
  platformCommentId: string;
  authorId: string | null;
  authorUsername: string | null;
  text: string;
  postedAt: Date;
}

/** Stores comments not seen before (natural key: account + platform comment id); how many were new. */
export async function insertNewComments(db: DbOrTx, comments: NewComment[]): Promise<number> {
  if (comments.length === 0) return 0;
  const inserted = await db
    .insertInto('comments')
    .values(
      comments.map((c) => ({
        post_id: c.postId,
        social_account_id: c.socialAccountId,
        platform_post_id: c.platformPostId,
        platform_comment_id: c.platformCommentId,
        author_id: c.authorId,
        author_username: c.authorUsername,
        text: c.text,
        posted_at: c.postedAt,
      })),
    )
    .onConflict((oc) => oc.columns(['social_account_id', 'platform_comment_id']).doNothing())
    .returning('id')
    .execute();
  return inserted.length;
}

/** The oldest comments of the account the model has not classified yet. */
export async function listUnclassifiedComments(db: DbOrTx, socialAccountId: string, limit: number) {
  return db
    .selectFrom('comments')
    .select(['id', 'text'])
    .where('social_account_id', '=', socialAccountId)
    .where('sentiment', 'is', null)
    .orderBy('posted_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Sets each comment's sentiment once: a comment already classified keeps its first answer. */
export async function setCommentSentiments(
  db: DbOrTx,
  sentiments: Array<{ id: string; sentiment: CommentSentiment; score: number }>,
): Promise<void> {
  for (const s of sentiments)
    await db
      .updateTable('comments')
      .set({ sentiment: s.sentiment, sentiment_score: s.score.toFixed(3) })
      .where('id', '=', s.id)
      .where('sentiment', 'is', null)
      .execute();
}

const userComments = (db: DbOrTx, userId: string) =>
  db
    .selectFrom('comments')
    .innerJoin('social_accounts', 'social_accounts.id', 'comments.social_account_id')
    .selectAll('comments')
    .select('social_accounts.platform')
    .where('social_accounts.user_id', '=', userId);

export interface CommentFilters {
  accountId?: string;
  postId?: string;
  unread?: boolean;
  sentiment?: CommentSentiment;
  limit: number;
}

/** The user's comments, newest first. */
export async function listUserComments(db: DbOrTx, userId: string, filters: CommentFilters) {
  let query = userComments(db, userId);
  if (filters.accountId) query = query.where('comments.social_account_id', '=', filters.accountId);
  if (filters.postId) query = query.where('comments.post_id', '=', filters.postId);
  if (filters.unread !== undefined) query = query.where('comments.is_read', '=', !filters.unread);
  if (filters.sentiment) query = query.where('comments.sentiment', '=', filters.sentiment);
  return query.orderBy('comments.posted_at', 'desc').orderBy('comments.id').limit(filters.limit).execute();
}

export async function findUserComment(db: DbOrTx, userId: string, id: string) {
  return userComments(db, userId).where('comments.id', '=', id).executeTakeFirst();
}

export type UserComment = NonNullable<Awaited<ReturnType<typeof findUserComment>>>;

export async function setCommentRead(db: DbOrTx, id: string, read: boolean): Promise<void> {
  await db.updateTable('comments').set({ is_read: read }).where('id', '=', id).execute();
}

export async function findComment(db: DbOrTx, id: string) {
  return db.selectFrom('comments').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Records our reply once: a retried call finds it recorded and returns the first record. */
export async function recordCommentReply(
  db: DbOrTx,
  id: string,
  reply: { text: string; platformReplyId: string; repliedBy: string },
): Promise<Date> {
  await db
    .updateTable('comments')
    .set({
      replied: true,
      reply_text: reply.text,
      reply_platform_id: reply.platformReplyId,
      replied_by: reply.repliedBy,
      replied_at: sql`now()`,
      is_read: true,
    })
    .where('id', '=', id)
    .where('replied', '=', false)
    .execute();
  const row = await db.selectFrom('comments').select('replied_at').where('id', '=', id).executeTakeFirstOrThrow();
  return row.replied_at!;
}

/**
 * The platform lost the account's authorization for good: an account our token handling left
 * `expired` (refresh refused, or a fresh token refused) becomes `revoked`. The account when it is
 * revoked (now or by an earlier call); undefined when it is active again (reconnected) or disconnected.
 */
export async function markSocialAccountRevoked(db: DbOrTx, id: string) {
  await db.updateTable('social_accounts').set({ status: 'revoked' }).where('id', '=', id).where('status', '=', 'expired').execute();
  return db
    .selectFrom('social_accounts')
    .select(['id', 'user_id', 'platform', 'username', 'platform_user_id', 'last_error', 'encrypted_tokens'])
    .where('id', '=', id)
    .where('status', '=', 'revoked')
    .executeTakeFirst();
}

/** Active accounts after `afterId`, in id order: the worker-start pass that makes sure their schedules exist. */
export async function listActiveSocialAccounts(db: DbOrTx, afterId: string | null, limit: number) {
  let query = db.selectFrom('social_accounts').select(['id', 'user_id', 'platform']).where('status', '=', 'active');
  if (afterId) query = query.where('id', '>', afterId);
  return query.orderBy('id').limit(limit).execute();
}
