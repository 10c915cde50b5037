import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { z } from 'zod';
import { aiSpendOf, listAiUsageAlerts } from '../../db/repositories/ai-usage';
import { periodCostOf } from '../../db/repositories/usage';
import {
  findPlanOfMonth,
  findUserPlan,
  listContentPillars,
  listCustomHooks,
  listPlanItems,
  replaceContentPillars,
  replaceCustomHooks,
  type PlanRow,
} from '../../db/repositories/content-plans';
import { getPlanForUser, type UserPlan } from '../../db/repositories/plans';
import { findPostingSchedule, fromStoredPlatform, listUserSocialAccounts } from '../../db/repositories/posts';
import { findUser } from '../../db/repositories/users';
import { contentPlanId } from '../../lib/stable-uuid';
import { IdempotencyKeyHeaderSchema, UuidParamSchema } from '../../schemas/common';
import {
  AiUsageViewSchema,
  aiCapResets,
  assessAiBudget,
  ContentPlanStartedSchema,
  ContentPlanViewSchema,
  PutContentPillarsBodySchema,
  PutCustomHooksBodySchema,
  RunContentPlanBodySchema,
  type AiUsageView,
  type ContentPlanView,
} from '../../schemas/content-plans';
import { contentPlanRun, contentPlanWorkflowId } from '../../workflows/content-plans/contract';
import { caller, requireScope } from '../auth';
import { isoOrNull } from '../dates';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';

/** Platforms a plan's text posts go to (activities/content-plans.ts picks accounts the same way). */
const TEXT_POST_PLATFORMS = new Set(['x', 'linkedin', 'facebook']);

const unprocessable = (field: string, message: string) =>
  new HttpProblem(422, 'validation', 'Validation failed', `${field}: ${message}`, { errors: [{ field, message }] });

const usd = (microUsd: number) => Math.round(microUsd) / 1e6;

async function planView(deps: ApiDeps, plan: PlanRow): Promise<ContentPlanView> {
  const items = await listPlanItems(deps.db, plan.id);
  return {
    planId: plan.id,
    runId: plan.job_id,
    month: plan.month,
    status: plan.status,
    totalPosts: plan.total_posts,
    completedPosts: plan.completed_posts,
    failedPosts: plan.failed_posts,
    pausedUntil: isoOrNull(plan.paused_until),
    errors: plan.errors,
    posts: items.map((item) => ({
      postIndex: item.post_index,
      status: item.status,
      pillar: item.pillar,
      hook: item.hook,
      caption: item.caption,
      hashtags: item.hashtags,
      visualSuggestion: item.visual_suggestion,
      postId: item.post_id,
      scheduledFor: isoOrNull(item.scheduled_for),
      visibleAfter: isoOrNull(item.visible_after),
      error: item.error_message,
    })),
    createdAt: plan.created_at.toISOString(),
    completedAt: isoOrNull(plan.completed_at),
  };
}

/** `YYYY-MM` of now in a time zone. */
function currentMonth(timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(new Date());
  return `${parts.find((p) => p.type === 'year')?.value}-${parts.find((p) => p.type === 'month')?.value}`;
}

async function requirePlan(deps: ApiDeps, userId: string): Promise<UserPlan> {
  const plan = await getPlanForUser(deps.db, userId);
  if (!plan) throw notFound('user');
  return plan;
}

/**
 * The AI spend caps, before a generation starts: a month's cost cap reached is 402 (it takes a
 * higher plan or the next month), the day's token cap 429 with Retry-After until midnight UTC.
 */
async function refuseOverAiCap(deps: ApiDeps, userId: string, plan: UserPlan): Promise<void> {
  const now = new Date();
  const budget = assessAiBudget(
    await aiSpendOf(deps.db, userId, now),
    { dailyTokenLimit: plan.features.aiDailyTokenLimit, monthlyCostLimitMicroUsd: plan.features.aiMonthlyCostLimitMicroUsd },
    now,
  );
  if (budget.allowed) return;
  const retryAfter = String(Math.max(1, Math.ceil((Date.parse(budget.resetsAt) - now.getTime()) / 1000)));
  const extra = { cap: budget.cap, resetsAt: budget.resetsAt };
  if (budget.cap === 'monthly_cost') throw new HttpProblem(402, 'ai-spend-cap', 'AI Spend Cap Reached', budget.message, extra);
  throw new HttpProblem(429, 'ai-token-cap', 'AI Token Cap Reached', budget.message, extra, { 'Retry-After': retryAfter });
}

/** A user's AI spend against the caps, and their cost in the current usage period (GET /v1/usage, GET /v1/admin/users/:id/usage). */
export async function usageViewOf(deps: ApiDeps, userId: string): Promise<AiUsageView> {
  const plan = await requirePlan(deps, userId);
  const now = new Date();
  const [spend, alerts, cost] = await Promise.all([
    aiSpendOf(deps.db, userId, now),
    listAiUsageAlerts(deps.db, userId),
    periodCostOf(deps.db, userId, now),
  ]);
  const resets = aiCapResets(now);
  const { aiDailyTokenLimit, aiMonthlyCostLimitMicroUsd } = plan.features;
  const view: AiUsageView = {
    plan: plan.slug,
    today: {
      date: spend.day,
      tokens: spend.tokensToday,
      costUsd: usd(spend.costTodayMicroUsd),
      requests: spend.requestsToday,
      tokenLimit: aiDailyTokenLimit,
      costLimitUsd: null,
      resetsAt: resets.daily.toISOString(),
    },
    thisMonth: {
      month: spend.month,
      tokens: spend.tokensThisMonth,
      costUsd: usd(spend.costThisMonthMicroUsd),
      requests: spend.requestsThisMonth,
      tokenLimit: null,
      costLimitUsd: aiMonthlyCostLimitMicroUsd === null ? null : usd(aiMonthlyCostLimitMicroUsd),
      resetsAt: resets.monthly.toISOString(),
    },
    period: {
      start: cost.periodStart.toISOString(),
      end: cost.periodEnd.toISOString(),
      runs: cost.runs,
      ai: {
        requests: cost.ai.requests,
        inputTokens: cost.ai.inputTokens,
        outputTokens: cost.ai.outputTokens,
        tokens: cost.ai.tokens,
        costUsd: usd(cost.ai.costMicroUsd),
      },
      youtubeUnits: cost.metered.youtube_units,
      ffmpegCpuSeconds: Math.round(cost.metered.ffmpeg_cpu_seconds * 1000) / 1000,
      storageBytes: cost.metered.storage_bytes,
      counters: {
        videosProcessed: cost.counters.videos_processed,
        contentGenerated: cost.counters.content_generated,
        clipsGenerated: cost.counters.clips_generated,
        postsPublished: cost.counters.posts_published,
        apiCallsMade: cost.counters.api_calls_made,
        storageUsedMb: cost.counters.storage_used_mb,
        processingMinutes: cost.counters.processing_minutes,
      },
    },
    alerts: alerts.map((a) => ({
      type: a.alert_type,
      thresholdPercent: a.threshold_percent,
      period: a.period,
      message: a.message,
      emailedAt: isoOrNull(a.email_sent_at),
      createdAt: a.created_at.toISOString(),
    })),
  };
  return view;
}

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;

  r.put('/v1/content-pillars', requireScope('runs:write'), async (req, res) => {
    const { pillars } = PutContentPillarsBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const limit = (await requirePlan(deps, userId)).features.contentPillarLimit;
    if (pillars.length > limit) throw unprocessable('pillars', `your plan allows ${limit} content pillars; ${pillars.length} were sent`);
    await db.transaction().execute((tx) =>
      replaceContentPillars(
        tx,
        userId,
        pillars.map((p) => ({ name: p.name, description: p.description ?? null, exampleSubtopics: p.exampleSubtopics ?? [] })),
      ),
    );
    const stored = await listContentPillars(db, userId);
    res.json({
      pillars: stored.map((p) => ({ name: p.pillar_name, description: p.description, exampleSubtopics: p.example_subtopics })),
      limit,
    });
  });

  r.put('/v1/custom-hooks', requireScope('runs:write'), async (req, res) => {
    const { hooks } = PutCustomHooksBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    await db.transaction().execute((tx) =>
      replaceCustomHooks(
        tx,
        userId,
        hooks.map((h) => ({ text: h.text, category: h.category ?? null })),
      ),
    );
    const stored = await listCustomHooks(db, userId);
    res.json({ hooks: stored.map((h) => ({ text: h.hook_text, category: h.category })) });
  });

  r.post('/v1/content-plans/run', requireScope('runs:write'), async (req, res) => {
    const body = RunContentPlanBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const [plan, user] = await Promise.all([requirePlan(deps, userId), findUser(db, userId)]);
    if (!user) throw notFound('user');
    if (plan.features.monthlyPostLimit === 0)
      throw new HttpProblem(
        403,
        'plan-feature',
        'Not In Your Plan',
        `the ${plan.slug} plan has no monthly content plan; upgrade to get one`,
      );
    const thisMonth = currentMonth(user.timezone);
    const month = body.month ?? thisMonth;
    if (month < thisMonth) throw unprocessable('month', `${month} has passed (it is ${thisMonth} in ${user.timezone})`);

    const existing = await findPlanOfMonth(db, userId, month);
    if (existing && existing.status !== 'failed' && existing.status !== 'canceled') {
      throw new HttpProblem(409, 'plan-exists', 'Month Already Generated', `the content plan of ${month} already exists`, {
        plan: await planView(deps, existing),
      });
    }
    const accounts = (await listUserSocialAccounts(db, userId)).filter(
      (a) => a.status === 'active' && TEXT_POST_PLATFORMS.has(fromStoredPlatform(a.platform) ?? ''),
    );
    const [account] = accounts;
    if (!account) throw unprocessable('socialAccount', 'connect an X, LinkedIn or Facebook account first');
    if (!(await findPostingSchedule(db, userId, account.id)))
      throw unprocessable('postingSchedule', 'set your posting slots with PUT /v1/posting-schedule first');
    await refuseOverAiCap(deps, userId, plan);

    await sendIdempotent(db, req, res, userId, async () => {
      const workflowId = contentPlanWorkflowId(userId, month);
      await startRun(deps, contentPlanRun, {
        workflowId,
        args: [{ userId, month, needsApproval: body.needsApproval, reviewWindowDays: body.reviewWindowDays }],
        input: { month, needsApproval: body.needsApproval ?? false, reviewWindowDays: body.reviewWindowDays ?? null },
      });
      return { status: 202, body: { planId: contentPlanId(userId, month), month, ...runStartedBody(workflowId) } };
    });
  });

  r.get('/v1/content-plans/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const plan = await findUserPlan(db, caller(res).userId, id);
    if (!plan) throw notFound('content plan');
    res.json(await planView(deps, plan));
  });

  r.get('/v1/usage', requireScope('runs:read'), async (_req, res) => {
    res.json(await usageViewOf(deps, caller(res).userId));
  });

  return r;
}

const PillarsViewSchema = z.object({
  pillars: z.array(z.object({ name: z.string(), description: z.string().nullable(), exampleSubtopics: z.array(z.string()) })),
  limit: z.number().int(),
});
const HooksViewSchema = z.object({ hooks: z.array(z.object({ text: z.string(), category: z.string().nullable() })) });

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'put',
    path: '/v1/content-pillars',
    tags: ['Content plans'],
    summary: 'Replace your content pillars (the themes a monthly plan spreads its posts over)',
    description: "More pillars than your plan's limit is 422 naming `pillars`. Without pillars a plan uses three defaults.",
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: PutContentPillarsBodySchema } } } },
    responses: { '200': json(PillarsViewSchema, 'The stored pillars'), ...problems(400, 401, 403, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'put',
    path: '/v1/custom-hooks',
    tags: ['Content plans'],
    summary: 'Replace your custom hooks (opening lines a monthly plan rotates through)',
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: PutCustomHooksBodySchema } } } },
    responses: { '200': json(HooksViewSchema, 'The stored hooks'), ...problems(400, 401, 403, 415, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/content-plans/run',
    tags: ['Content plans'],
    summary: "Write a month's content plan now (the monthly Schedule does it on the 1st)",
    description:
      "Runs `content-plan:<userId>:<YYYY-MM>`: the plan's monthly post limit of posts, written by the model over your pillars and hooks, each placed into a free slot of your posting schedule and scheduled as a post run (approval respected). A month already generated is 409 with the plan; a reached AI spend cap is 402 (month's cost) or 429 (day's tokens, Retry-After); a plan without the feature 403.",
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: { required: false, content: { 'application/json': { schema: RunContentPlanBodySchema } } },
    },
    responses: { '202': json(ContentPlanStartedSchema, 'Started'), ...problems(400, 401, 402, 403, 409, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/content-plans/{id}',
    tags: ['Content plans'],
    summary: 'A content plan: status, progress counters, and each post with its slot and review date',
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '200': json(ContentPlanViewSchema, 'The plan'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/usage',
    tags: ['Content plans'],
    summary:
      "Today's and this month's AI spend (UTC) against your plan's caps, with the 80 % / 100 % alerts, and your cost in the current usage period",
    description:
      '`period` is the usage period covering now (the subscription period, else the calendar month in UTC): runs started by type and status, AI tokens and dollars, YouTube quota units and ffmpeg CPU seconds your runs spent, bytes stored, and the period counters.',
    security: bearer(),
    responses: { '200': json(AiUsageViewSchema, 'AI usage and the period cost'), ...problems(401, 403, 429) },
  });
}

export const contentPlanRoutes: RouteModule = { router, document };
