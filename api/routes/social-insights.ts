import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { findUserSocialAccount, fromStoredPlatform, type SocialAccount } from '../../db/repositories/posts';
import {
  findUserComment,
  listAccountAnalytics,
  listUserComments,
  setCommentRead,
  type UserComment,
} from '../../db/repositories/social-insights';
import { RunStartedSchema } from '../../schemas/api-runs';
import { IdempotencyKeyHeaderSchema, UuidParamSchema } from '../../schemas/common';
import {
  AnalyticsQuerySchema,
  AnalyticsViewSchema,
  CommentsQuerySchema,
  CommentViewSchema,
  MAX_REPLY_LENGTH,
  ReplyCommentBodySchema,
  UpdateCommentBodySchema,
  type AnalyticsDayView,
  type CommentView,
} from '../../schemas/social-insights';
import { accountSyncRun, accountSyncWorkflowId, INSIGHTS_PLATFORMS } from '../../workflows/account-sync/contract';
import { commentReplyRun, commentReplyWorkflowId } from '../../workflows/comment-reply/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';
import { fieldProblem } from '../video-intake';

const platformName = (platform: SocialAccount['platform']) =>
  platform === 'ayrshare' ? platform : (fromStoredPlatform(platform) ?? platform);
const toNumber = (value: string | null) => (value === null ? null : Number(value));

function commentView(c: UserComment): CommentView {
  return {
    id: c.id,
    postId: c.post_id,
    socialAccountId: c.social_account_id,
    platform: platformName(c.platform),
    platformCommentId: c.platform_comment_id,
    authorUsername: c.author_username,
    text: c.text,
    sentiment: c.sentiment,
    sentimentScore: toNumber(c.sentiment_score),
    isRead: c.is_read,
    replied: c.replied,
    replyText: c.reply_text,
    repliedAt: c.replied_at?.toISOString() ?? null,
    postedAt: c.posted_at.toISOString(),
  };
}

/** An account that cannot act now: disconnected, or its authorization expired/revoked (connect it again). */
function notConnected(account: SocialAccount): HttpProblem {
  const why =
    account.status === 'disconnected' ? 'is disconnected' : `is ${account.status}${account.last_error ? ` (${account.last_error})` : ''}`;
  return new HttpProblem(
    409,
    'account-not-connected',
    'Account Not Connected',
    `the ${platformName(account.platform)} account ${why}; connect it again`,
    // Not `status`: that member of a problem is the HTTP status.
    { accountStatus: account.status },
  );
}

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;

  async function ownAccount(userId: string, id: string): Promise<SocialAccount> {
    const account = await findUserSocialAccount(db, userId, id);
    if (!account) throw notFound('social account');
    return account;
  }

  /** Runs the account's analytics sync now, for today (UTC) so far; the daily schedule syncs each finished day. */
  r.post('/v1/social-accounts/:id/sync', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { userId } = caller(res);
    const account = await ownAccount(userId, id);
    if (account.status !== 'active') throw notConnected(account);
    if (!INSIGHTS_PLATFORMS.includes(account.platform))
      throw fieldProblem(
        422,
        'analytics-unavailable',
        'Analytics Unavailable',
        'id',
        `analytics are not available for ${platformName(account.platform)} accounts`,
      );
    await sendIdempotent(db, req, res, userId, async () => {
      const date = new Date().toISOString().slice(0, 10);
      const { runId } = await startRun(deps, accountSyncRun, {
        workflowId: accountSyncWorkflowId(id),
        args: [{ socialAccountId: id, userId, date }],
        input: { socialAccountId: id, date },
      });
      return { status: 202, body: { ...runStartedBody(runId), socialAccountId: id, date } };
    });
  });

  r.get('/v1/analytics', requireScope('runs:read'), async (req, res) => {
    const query = AnalyticsQuerySchema.parse(req.query);
    const account = await ownAccount(caller(res).userId, query.accountId);
    const rows = await listAccountAnalytics(db, account.id, query.from, query.to);
    const days: AnalyticsDayView[] = rows.map((row) => ({
      date: row.day,
      followers: row.followers,
      followersGained: row.followers_gained,
      followersLost: row.followers_lost,
      impressions: row.impressions,
      reach: row.reach,
      engagement: row.engagement,
      engagementRate: toNumber(row.engagement_rate),
      views: row.total_views,
      likes: row.total_likes,
      comments: row.total_comments,
      shares: row.total_shares,
      postsPublished: row.posts_published,
      syncedAt: row.updated_at.toISOString(),
    }));
    res.json({
      accountId: account.id,
      platform: platformName(account.platform),
      followerCount: account.follower_count,
      lastSyncAt: account.last_sync_at?.toISOString() ?? null,
      days,
    });
  });

  r.get('/v1/comments', requireScope('runs:read'), async (req, res) => {
    const query = CommentsQuerySchema.parse(req.query);
    const comments = await listUserComments(db, caller(res).userId, query);
    res.json({ data: comments.map(commentView) });
  });

  r.patch('/v1/comments/:id', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = UpdateCommentBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    if (!(await findUserComment(db, userId, id))) throw notFound('comment');
    await setCommentRead(db, id, body.read);
    res.json(commentView((await findUserComment(db, userId, id))!));
  });

  /** Starts `comment-reply:<commentId>`: the reply is published once, then the comment reads replied with its text. */
  r.post('/v1/comments/:id/reply', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { text } = ReplyCommentBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const comment = await findUserComment(db, userId, id);
    if (!comment) throw notFound('comment');
    const platform = platformName(comment.platform);
    const maxLength = platform === 'instagram' || platform === 'x' ? MAX_REPLY_LENGTH[platform] : undefined;
    if (maxLength === undefined)
      throw fieldProblem(422, 'replies-unavailable', 'Replies Unavailable', 'id', `replies are not available on ${platform}`);
    if ([...text].length > maxLength)
      throw fieldProblem(422, 'reply-too-long', 'Reply Too Long', 'text', `a reply on ${platform} takes at most ${maxLength} characters`, {
        maxLength,
      });
    if (comment.replied)
      throw new HttpProblem(409, 'already-replied', 'Already Replied', 'this comment was already answered', {
        replyText: comment.reply_text,
      });
    const account = await ownAccount(userId, comment.social_account_id);
    if (account.status !== 'active') throw notConnected(account);
    await sendIdempotent(db, req, res, userId, async () => {
      const { runId } = await startRun(deps, commentReplyRun, {
        workflowId: commentReplyWorkflowId(id),
        args: [{ commentId: id, socialAccountId: comment.social_account_id, userId, text }],
        input: { commentId: id, text },
      });
      return { status: 202, body: { ...runStartedBody(runId), commentId: id } };
    });
  });

  return r;
}

const SyncStartedSchema = RunStartedSchema.extend({ socialAccountId: z.uuid(), date: z.string() }).meta({ id: 'AccountSyncStarted' });
const ReplyStartedSchema = RunStartedSchema.extend({ commentId: z.uuid() }).meta({ id: 'CommentReplyStarted' });

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/social-accounts/{id}/sync',
    tags: ['Social'],
    summary: "Sync the account's analytics now (today so far, UTC)",
    description:
      "Runs `account-sync:<accountId>` (joined when one is running): the day's figures from the platform's insights API are upserted as the account's row of the day, with its follower count and last sync. Each account also syncs the previous day daily through its own Schedule. 409 when the account is disconnected, expired or revoked; 422 naming `id` for platforms without analytics here (TikTok, LinkedIn, YouTube, Ayrshare).",
    security: bearer(),
    request: { params: UuidParamSchema, headers: IdempotencyKeyHeaderSchema },
    responses: { '202': json(SyncStartedSchema, 'Sync started'), ...problems(400, 401, 403, 404, 409, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/analytics',
    tags: ['Social'],
    summary: "One of your accounts' daily analytics over a range of days",
    security: bearer(),
    request: { query: AnalyticsQuerySchema },
    responses: { '200': json(AnalyticsViewSchema, 'Days with figures, oldest first'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/comments',
    tags: ['Social'],
    summary: 'The comments inbox: comments on your recent posts, newest first',
    description:
      'Each account is polled every 5 minutes (Instagram and X); new comments get a sentiment from the model within the same poll.',
    security: bearer(),
    request: { query: CommentsQuerySchema },
    responses: { '200': json(z.object({ data: z.array(CommentViewSchema) }), 'Comments'), ...problems(400, 401, 403, 429) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/v1/comments/{id}',
    tags: ['Social'],
    summary: 'Mark a comment read or unread',
    security: bearer(),
    request: { params: UuidParamSchema, body: { required: true, content: { 'application/json': { schema: UpdateCommentBodySchema } } } },
    responses: { '200': json(CommentViewSchema, 'The comment'), ...problems(400, 401, 403, 404, 415, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/comments/{id}/reply',
    tags: ['Social'],
    summary: 'Reply to a comment on its platform (published once)',
    description: `Runs \`comment-reply:<commentId>\`: the reply is published once (a retried attempt looks for our earlier reply by its invisible marker first), then the comment reads \`replied\` with \`replyText\`. 422 naming \`text\` over the platform's length (Instagram ${MAX_REPLY_LENGTH.instagram}, X ${MAX_REPLY_LENGTH.x} characters); 409 when already answered or the account is not connected.`,
    security: bearer(),
    request: {
      params: UuidParamSchema,
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: ReplyCommentBodySchema } } },
    },
    responses: { '202': json(ReplyStartedSchema, 'Reply run started'), ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) },
  });
}

export const socialInsightsRoutes: RouteModule = { router, document };
