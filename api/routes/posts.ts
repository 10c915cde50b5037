import { randomUUID } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { Router } from 'express';
import { z } from 'zod';
import {
  deletePost,
  findClipMedia,
  findPostingSchedule,
  findUserPost,
  findUserSocialAccount,
  fromStoredPlatform,
  insertPost,
  latestPostMetrics,
  listUserPostsBetween,
  SlotTakenError,
  takenSlots,
  toStoredPlatform,
  upsertPostingSchedule,
  type NewPost,
  type SocialAccount,
  type UserPost as PostRow,
} from '../../db/repositories/posts';
import {
  asTargetPlatform,
  insertPostTargets,
  listActiveAccounts,
  listTargetsOfPosts,
  type PostTargetWithAccount,
} from '../../db/repositories/post-targets';
import { nextFreeSlot } from '../../lib/posting-slots';
import { unsafeUrlReason, urlGuardOptions } from '../../lib/ssrf';
import { IdempotencyKeyHeaderSchema, UuidParamSchema } from '../../schemas/common';
import {
  checkPlatformLimits,
  CreatePostBodySchema,
  PostCalendarQuerySchema,
  PostCreatedSchema,
  PostingScheduleBodySchema,
  PostingScheduleQuerySchema,
  PostingScheduleViewSchema,
  PostViewSchema,
  RejectPostBodySchema,
  ReschedulePostBodySchema,
  type CreatePostBody,
  type LimitViolation,
  type PostCreated,
  type PostPlatform,
  PostUpdateFailure,
  type PostTargetView,
  type PostView,
  type PostWorkflowInput,
} from '../../schemas/posts';
import {
  approvePostUpdate,
  cancelPostUpdate,
  postRun,
  postWorkflowId,
  rejectPostUpdate,
  reschedulePostUpdate,
} from '../../workflows/posts/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { startRun } from '../run-starter';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { isoOrNull } from '../dates';

/** Attempts at the next free slot when concurrent requests keep taking the one computed. */
const SLOT_ATTEMPTS = 5;

const unprocessable = (errors: Array<{ field: string; message: string }>, title = 'Validation failed') =>
  new HttpProblem(422, 'validation', title, errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });

const slotTaken = (at: Date) =>
  new HttpProblem(409, 'slot-taken', 'Slot Taken', `the account already has a post at ${at.toISOString()}; choose another time`, {
    scheduledAt: at.toISOString(),
  });

/** A due time the caller gave: in the future, or 422 naming the field. */
function futureTime(value: string, field = 'scheduledAt'): Date {
  const at = new Date(value);
  if (at.getTime() <= Date.now()) throw unprocessable([{ field, message: 'must be in the future' }]);
  return at;
}

function targetView(target: PostTargetWithAccount): PostTargetView {
  return {
    socialAccountId: target.social_account_id,
    platform: fromStoredPlatform(target.platform) ?? 'x',
    via: target.account_platform === 'ayrshare' ? 'ayrshare' : 'direct',
    status: target.status,
    platformPostId: target.platform_post_id,
    platformUrl: target.platform_url,
    error: target.error,
    attempts: target.attempts,
    publishedAt: isoOrNull(target.published_at),
  };
}

function postView(post: PostRow, metrics: Awaited<ReturnType<typeof latestPostMetrics>>, targets: PostTargetWithAccount[]): PostView {
  const views = targets.filter((t) => t.post_id === post.id).map(targetView);
  return {
    id: post.id,
    socialAccountId: post.social_account_id,
    platform: views[0]?.platform ?? fromStoredPlatform(post.platform) ?? 'x',
    status: post.status,
    caption: post.caption,
    hashtags: post.hashtags,
    mentions: post.mentions,
    mediaType: post.media_type,
    mediaUrls: post.media_urls,
    scheduledAt: isoOrNull(post.scheduled_at),
    publishedAt: isoOrNull(post.published_at),
    platformPostId: post.platform_post_id,
    platformUrl: post.platform_url,
    error: post.publish_error,
    needsApproval: post.needs_approval,
    approvedAt: isoOrNull(post.approved_at),
    rejectionReason: post.rejection_reason,
    runId: post.run_id,
    latestMetrics: metrics
      ? {
          checkpoint: metrics.checkpoint,
          recordedAt: metrics.recorded_at.toISOString(),
          views: metrics.views,
          likes: metrics.likes,
          comments: metrics.comments,
          shares: metrics.shares,
        }
      : null,
    targets: views,
    createdAt: post.created_at.toISOString(),
  };
}

/** An account and the network one publish of the post goes to (the account's own, or one reached through Ayrshare). */
interface PostTargetChoice {
  account: SocialAccount;
  platform: PostPlatform;
}

const AYRSHARE_BY_PLATFORMS = 'an Ayrshare account publishes to the networks you name: use platforms instead';

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;
  const urlGuard = urlGuardOptions(deps.config);

  const ownPost = async (userId: string, id: string): Promise<PostRow> => {
    const post = await findUserPost(db, userId, id);
    if (!post) throw notFound('post');
    return post;
  };

  /**
   * Sends an update to the post's run and maps what its validator or handler refused: a state
   * that does not allow it → 409, bad input → 422, a taken slot → 409. A run that has ended
   * answers from the post's stored status.
   */
  async function updatePost<R>(
    post: PostRow,
    send: (handle: ReturnType<typeof deps.temporal.workflow.getHandle>) => Promise<R>,
  ): Promise<R> {
    try {
      return await send(deps.temporal.workflow.getHandle(postWorkflowId(post.id)));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        const { type, message } = err.cause;
        if (type === PostUpdateFailure.InvalidInput) throw unprocessable([{ field: 'scheduledAt', message }]);
        if (type === PostUpdateFailure.SlotTaken) throw new HttpProblem(409, 'slot-taken', 'Slot Taken', message);
        throw new HttpProblem(409, 'post-state', 'Post Cannot Change', message, { status: post.status });
      }
      if (err instanceof WorkflowNotFoundError) {
        const current = await ownPost(post.user_id, post.id);
        throw new HttpProblem(409, 'post-state', 'Post Cannot Change', `the post is ${current.status.replace('_', ' ')}`, {
          status: current.status,
        });
      }
      throw err;
    }
  }

  /** The next free slot of the account's (else the user's) posting schedule, read in its time zone. */
  async function nextSlot(userId: string, socialAccountId: string): Promise<Date> {
    const schedule = await findPostingSchedule(db, userId, socialAccountId);
    if (!schedule) throw unprocessable([{ field: 'slot', message: 'no posting schedule: set one with PUT /v1/posting-schedule' }]);
    const now = Date.now();
    const slot = nextFreeSlot(
      { timezone: schedule.timezone, days: schedule.posting_days, times: schedule.posting_times },
      now,
      await takenSlots(db, socialAccountId, new Date(now)),
    );
    if (slot === null) throw unprocessable([{ field: 'slot', message: 'every slot of the schedule in the next year is taken' }]);
    return new Date(slot);
  }

  /**
   * Where the post goes, in the order given: `socialAccountId` (404 when not yours, as before),
   * `socialAccountIds` (each yours and connected, else 422 naming it) or `platforms` (each to your own
   * account of that network, else through your Ayrshare profile, else 422 naming it).
   */
  async function chooseTargets(userId: string, body: CreatePostBody): Promise<PostTargetChoice[]> {
    const errors: LimitViolation[] = [];
    const direct = (account: SocialAccount, field: string): PostTargetChoice | undefined => {
      const platform = fromStoredPlatform(account.platform);
      if (account.platform === 'ayrshare') errors.push({ field, message: AYRSHARE_BY_PLATFORMS });
      else if (!platform) errors.push({ field, message: `posting to ${account.platform} is not supported` });
      else if (account.status !== 'active')
        errors.push({ field, message: `the ${platform} account is ${account.status}; reconnect it first` });
      else return { account, platform };
      return undefined;
    };
    const chosen: PostTargetChoice[] = [];
    if (body.socialAccountId) {
      const account = await findUserSocialAccount(db, userId, body.socialAccountId);
      if (!account) throw notFound('social account');
      const target = direct(account, 'socialAccountId');
      if (target) chosen.push(target);
    } else if (body.socialAccountIds) {
      for (const [i, id] of body.socialAccountIds.entries()) {
        const account = await findUserSocialAccount(db, userId, id);
        if (!account) errors.push({ field: `socialAccountIds.${i}`, message: `${id} is not one of your social accounts` });
        const target = account && direct(account, `socialAccountIds.${i}`);
        if (target) chosen.push(target);
      }
    } else {
      const accounts = await listActiveAccounts(db, userId);
      const ayrshare = accounts.find((a) => a.platform === 'ayrshare');
      for (const [i, platform] of (body.platforms ?? []).entries()) {
        const account = accounts.find((a) => fromStoredPlatform(a.platform) === platform) ?? ayrshare;
        if (account) chosen.push({ account, platform });
        else
          errors.push({
            field: `platforms.${i}`,
            message: `no connected ${platform} account and no Ayrshare profile: connect one with POST /v1/social-accounts`,
          });
      }
    }
    if (errors.length > 0) throw unprocessable(errors);
    return chosen;
  }

  r.post('/v1/posts', requireScope('runs:write'), async (req, res) => {
    const body = CreatePostBodySchema.parse(req.body ?? {});
    const refusedMedia = (body.mediaUrls ?? []).flatMap((url, i) => {
      const reason = unsafeUrlReason(url, urlGuard);
      return reason ? [{ field: `mediaUrls.${i}`, message: reason }] : [];
    });
    if (refusedMedia.length > 0) throw unprocessable(refusedMedia);
    const { userId } = caller(res);
    const targets = await chooseTargets(userId, body);
    const account = targets[0]!.account;

    let mediaUrls = body.mediaUrls ?? [];
    if (body.clipId) {
      const clip = await findClipMedia(db, userId, body.clipId);
      if (!clip) throw notFound('clip');
      const url = clip.file_urls['9:16'] ?? clip.file_urls['16:9'] ?? Object.values(clip.file_urls)[0];
      if (clip.render_status !== 'completed' || !url)
        throw unprocessable([{ field: 'clipId', message: 'the clip has no rendered file yet' }]);
      mediaUrls = [url];
    }
    const platforms = targets.map((t) => t.platform);
    const violations = platforms.flatMap((platform) => checkPlatformLimits(platform, { ...body, mediaUrls }));
    if (violations.length > 0) throw unprocessable(violations, `Post Exceeds ${platforms.join(', ')} Limits`);
    const explicitTime = body.scheduledAt ? futureTime(body.scheduledAt) : undefined;

    await sendIdempotent(db, req, res, userId, async () => {
      const id = randomUUID();
      const runId = postWorkflowId(id);
      const row: Omit<NewPost, 'scheduledAt'> = {
        id,
        runId,
        userId,
        socialAccountId: account.id,
        clipId: body.clipId ?? null,
        caption: body.caption,
        hashtags: body.hashtags ?? [],
        mentions: body.mentions ?? [],
        mediaUrls,
        mediaType: body.mediaType,
        platformOptions: body.platformOptions ?? {},
        needsApproval: body.needsApproval ?? false,
      };
      let post: Awaited<ReturnType<typeof insertPost>> | undefined;
      let targetIds: string[] = [];
      for (let attempt = 1; !post; attempt += 1) {
        const scheduledAt = explicitTime ?? (await nextSlot(userId, account.id));
        try {
          [post, targetIds] = await db.transaction().execute(async (tx) => {
            const inserted = await insertPost(tx, { ...row, scheduledAt });
            const rows = await insertPostTargets(
              tx,
              id,
              targets.map((t) => ({ socialAccountId: t.account.id, platform: asTargetPlatform(toStoredPlatform(t.platform))! })),
            );
            return [inserted, rows.map((r) => r.id)] as const;
          });
        } catch (err) {
          if (!(err instanceof SlotTakenError)) throw err;
          // A concurrent request took the computed slot: compute the next one again.
          if (explicitTime || attempt >= SLOT_ATTEMPTS) throw slotTaken(scheduledAt);
        }
      }
      const input: PostWorkflowInput = {
        postId: id,
        userId,
        scheduledAt: post.scheduled_at!.toISOString(),
        needsApproval: post.needs_approval,
        // One publish per target; a single account keeps the one-activity path of posts made before targets.
        ...(targetIds.length > 1 ? { targetIds } : {}),
      };
      try {
        await startRun(deps, postRun, {
          workflowId: runId,
          args: [input],
          input: { socialAccountIds: targets.map((t) => t.account.id), platforms, scheduledAt: input.scheduledAt },
        });
      } catch (err) {
        // No run owns the row (nor its slot).
        await deletePost(db, id);
        throw err;
      }
      const created: PostCreated = { postId: id, runId, status: post.status, scheduledAt: input.scheduledAt };
      return { status: 202, body: created };
    });
  });

  r.get('/v1/posts', requireScope('runs:read'), async (req, res) => {
    const { from, to } = PostCalendarQuerySchema.parse(req.query);
    const posts = await listUserPostsBetween(db, caller(res).userId, new Date(from), new Date(to));
    const targets = await listTargetsOfPosts(
      db,
      posts.map((p) => p.id),
    );
    res.json({ posts: posts.map((p) => postView(p, undefined, targets)) });
  });

  r.get('/v1/posts/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const post = await ownPost(caller(res).userId, id);
    res.json(postView(post, await latestPostMetrics(db, post.id), await listTargetsOfPosts(db, [post.id])));
  });

  r.patch('/v1/posts/:id', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = ReschedulePostBodySchema.parse(req.body ?? {});
    const post = await ownPost(caller(res).userId, id);
    const at = futureTime(body.scheduledAt);
    const reply = await updatePost(post, (handle) =>
      handle.executeUpdate(reschedulePostUpdate, { args: [{ scheduledAt: at.toISOString() }] }),
    );
    res.json({ postId: post.id, scheduledAt: reply.scheduledAt });
  });

  r.post('/v1/posts/:id/approve', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { userId } = caller(res);
    const post = await ownPost(userId, id);
    const reply = await updatePost(post, (handle) => handle.executeUpdate(approvePostUpdate, { args: [{ approvedBy: userId }] }));
    res.json({ postId: post.id, ...reply });
  });

  r.post('/v1/posts/:id/reject', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const { reason } = RejectPostBodySchema.parse(req.body ?? {});
    const post = await ownPost(caller(res).userId, id);
    const reply = await updatePost(post, (handle) => handle.executeUpdate(rejectPostUpdate, { args: [{ reason }] }));
    res.json({ postId: post.id, ...reply });
  });

  r.delete('/v1/posts/:id', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const post = await ownPost(caller(res).userId, id);
    if (post.status === 'published')
      throw new HttpProblem(409, 'post-state', 'Post Cannot Change', 'the post is published; delete it on the platform', {
        status: post.status,
      });
    const reply = await updatePost(post, (handle) => handle.executeUpdate(cancelPostUpdate));
    res.json({ postId: post.id, ...reply });
  });

  r.put('/v1/posting-schedule', requireScope('runs:write'), async (req, res) => {
    const body = PostingScheduleBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    if (body.socialAccountId && !(await findUserSocialAccount(db, userId, body.socialAccountId))) throw notFound('social account');
    const saved = await upsertPostingSchedule(db, {
      userId,
      socialAccountId: body.socialAccountId ?? null,
      timezone: body.timezone,
      days: body.days,
      times: body.times,
    });
    res.json(scheduleView(saved));
  });

  r.get('/v1/posting-schedule', requireScope('runs:read'), async (req, res) => {
    const { socialAccountId } = PostingScheduleQuerySchema.parse(req.query);
    const { userId } = caller(res);
    if (socialAccountId && !(await findUserSocialAccount(db, userId, socialAccountId))) throw notFound('social account');
    const schedule = await findPostingSchedule(db, userId, socialAccountId ?? null);
    if (!schedule) throw notFound('posting schedule');
    res.json(scheduleView(schedule));
  });

  return r;
}

function scheduleView(schedule: NonNullable<Awaited<ReturnType<typeof findPostingSchedule>>>): z.infer<typeof PostingScheduleViewSchema> {
  return {
    timezone: schedule.timezone,
    days: schedule.posting_days,
    times: schedule.posting_times.map((t) => t.slice(0, 5)),
    socialAccountId: schedule.social_account_id,
  };
}

const PostIdParamSchema = UuidParamSchema;
const PostUpdatedSchema = z.object({ postId: z.uuid(), scheduledAt: z.string() });
const PostChangedSchema = z.object({ postId: z.uuid(), status: z.string() }).loose();

function document(registry: OpenAPIRegistry): void {
  const platforms: PostPlatform[] = ['instagram', 'facebook', 'tiktok', 'linkedin', 'x', 'youtube'];
  registry.registerPath({
    method: 'post',
    path: '/v1/posts',
    tags: ['Social'],
    summary: 'Schedule a post to one or several platforms (at a time, or in the next free slot of the posting schedule)',
    description: `Runs \`post:<postId>\`: waits (for approval when \`needsApproval\`) until the due time on a durable timer, publishes once per target (\`socialAccountId\`, \`socialAccountIds\` or \`platforms\`; each retried on its own, the post then published, partially_published or failed with each target's result in \`targets\`), then records metrics at +1 h, +24 h and +7 d. A past time, an account that is not yours or not connected, or a post over a platform's limits (${platforms.join(', ')}), is 422 naming the field.`,
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: CreatePostBodySchema } } },
    },
    responses: { '202': json(PostCreatedSchema, 'Scheduled'), ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/posts',
    tags: ['Social'],
    summary: "Calendar: the caller's posts due between `from` and `to`",
    security: bearer(),
    request: { query: PostCalendarQuerySchema },
    responses: { '200': json(z.object({ posts: z.array(PostViewSchema) }), 'Posts, earliest first'), ...problems(400, 401, 403, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/posts/{id}',
    tags: ['Social'],
    summary: 'A post: status, platform post id and URL, latest metrics',
    security: bearer(),
    request: { params: PostIdParamSchema },
    responses: { '200': json(PostViewSchema, 'The post'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/v1/posts/{id}',
    tags: ['Social'],
    summary: 'Reschedule a post that is not yet publishing (a validated workflow update; replies with the new time)',
    security: bearer(),
    request: { params: PostIdParamSchema, body: { required: true, content: { 'application/json': { schema: ReschedulePostBodySchema } } } },
    responses: { '200': json(PostUpdatedSchema, 'Rescheduled'), ...problems(400, 401, 403, 404, 409, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/posts/{id}/approve',
    tags: ['Social'],
    summary: 'Approve a post pending approval; approved after its due time, it is published at once',
    security: bearer(),
    request: { params: PostIdParamSchema },
    responses: { '200': json(PostChangedSchema, 'Approved'), ...problems(400, 401, 403, 404, 409, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/posts/{id}/reject',
    tags: ['Social'],
    summary: 'Reject a post pending approval (it is canceled with the reason)',
    security: bearer(),
    request: { params: PostIdParamSchema, body: { required: true, content: { 'application/json': { schema: RejectPostBodySchema } } } },
    responses: { '200': json(PostChangedSchema, 'Rejected'), ...problems(400, 401, 403, 404, 409, 415, 429) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/posts/{id}',
    tags: ['Social'],
    summary: 'Cancel a post that is not yet publishing (a published post is 409)',
    security: bearer(),
    request: { params: PostIdParamSchema },
    responses: { '200': json(PostChangedSchema, 'Canceled'), ...problems(400, 401, 403, 404, 409, 429) },
  });
  registry.registerPath({
    method: 'put',
    path: '/v1/posting-schedule',
    tags: ['Social'],
    summary: "Weekly posting slots read in an IANA time zone (DST-aware), used by `slot: 'next'`",
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: PostingScheduleBodySchema } } } },
    responses: { '200': json(PostingScheduleViewSchema, 'The schedule'), ...problems(400, 401, 403, 404, 415, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/posting-schedule',
    tags: ['Social'],
    summary:
      "The caller's posting slots: the account's schedule (else the default one) with `socialAccountId`, the default one without; 404 when none is set",
    security: bearer(),
    request: { query: PostingScheduleQuerySchema },
    responses: { '200': json(PostingScheduleViewSchema, 'The schedule'), ...problems(400, 401, 403, 404, 429) },
  });
}

export const postRoutes: RouteModule = { router, document };
