import { z } from 'zod';
import { UsagePeriodSchema } from './operations';
import { nonBlankText } from './common';

/** Glow Social's monthly AI content plan and AI spend caps: API bodies and views, workflow input/result. */

/** `YYYY-MM`, a calendar month in the user's time zone. */
export const MonthSchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM')
  .describe('a calendar month in your time zone, e.g. 2026-12');

export const ContentPillarSchema = z
  .object({
    name: nonBlankText(100),
    description: z.string().max(1000).optional(),
    exampleSubtopics: z.array(nonBlankText(200)).max(10).optional(),
  })
  .strict();
export type ContentPillar = z.infer<typeof ContentPillarSchema>;

/** Replaces the user's pillars; more than the plan's content_pillar_limit is 422 (checked by the route). */
export const PutContentPillarsBodySchema = z.object({ pillars: z.array(ContentPillarSchema).max(50) }).strict();

export const CustomHookSchema = z.object({ text: nonBlankText(300), category: z.string().max(50).optional() }).strict();
export type CustomHook = z.infer<typeof CustomHookSchema>;
export const PutCustomHooksBodySchema = z.object({ hooks: z.array(CustomHookSchema).max(100) }).strict();

export const RunContentPlanBodySchema = z
  .object({
    month: MonthSchema.optional().describe('defaults to the current month in your time zone; a past month is 422'),
    needsApproval: z.boolean().optional().describe('posts wait for POST /v1/posts/:id/approve before they publish (default false)'),
    reviewWindowDays: z.number().int().min(0).max(14).optional().describe('days a post is visible for review before it is due (default 3)'),
  })
  .strict();
export type RunContentPlanBody = z.infer<typeof RunContentPlanBodySchema>;

export const CONTENT_PLAN_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'canceled'] as const;

export const ContentPlanStartedSchema = z.object({ planId: z.uuid(), runId: z.string(), month: MonthSchema, statusUrl: z.string() });

export const ContentPlanPostSchema = z.object({
  postIndex: z.number().int(),
  status: z.enum(['pending', 'written', 'scheduled', 'failed']),
  pillar: z.string(),
  hook: z.string(),
  caption: z.string().nullable(),
  hashtags: z.array(z.string()),
  visualSuggestion: z.string().nullable(),
  postId: z.uuid().nullable(),
  scheduledFor: z.string().nullable(),
  visibleAfter: z.string().nullable(),
  error: z.string().nullable(),
});

export const ContentPlanViewSchema = z
  .object({
    planId: z.uuid(),
    runId: z.string(),
    month: MonthSchema,
    status: z.enum(CONTENT_PLAN_STATUSES),
    totalPosts: z.number().int(),
    completedPosts: z.number().int(),
    failedPosts: z.number().int(),
    pausedUntil: z.string().nullable(),
    errors: z.array(z.object({ postIndex: z.number().int(), type: z.string(), message: z.string() })),
    posts: z.array(ContentPlanPostSchema),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'ContentPlan' });
export type ContentPlanView = z.infer<typeof ContentPlanViewSchema>;

const UsageWindowSchema = z.object({
  tokens: z.number().int(),
  costUsd: z.number(),
  requests: z.number().int(),
  tokenLimit: z.number().int().nullable(),
  costLimitUsd: z.number().nullable(),
  resetsAt: z.string(),
});

export const AiUsageViewSchema = z
  .object({
    plan: z.string(),
    today: UsageWindowSchema.extend({ date: z.string() }),
    thisMonth: UsageWindowSchema.extend({ month: z.string() }),
    period: UsagePeriodSchema,
    alerts: z.array(
      z.object({
        type: z.enum(['daily_tokens', 'monthly_cost']),
        thresholdPercent: z.number().int(),
        period: z.string(),
        message: z.string(),
        emailedAt: z.string().nullable(),
        createdAt: z.string(),
      }),
    ),
  })
  .meta({ id: 'AiUsage' });
export type AiUsageView = z.infer<typeof AiUsageViewSchema>;

export interface ContentPlanWorkflowInput {
  userId: string;
  month: string;
  needsApproval?: boolean;
  reviewWindowDays?: number;
  /** Posts written at once (bounded parallel lanes); CONTENT_PLAN_LANES unless a test wants fewer. */
  lanes?: number;
}

export interface ContentPlanWorkflowResult {
  planId: string;
  month: string;
  totalPosts: number;
  completedPosts: number;
  failedPosts: number;
  /** Times an AI spend cap held the plan until its reset. */
  pauses: number;
}

export interface ContentPlanStatusWrite {
  planId: string;
  status: 'running' | 'paused';
  /** ISO instant a paused plan resumes at; null when running. */
  pausedUntil: string | null;
}

/** The schedule's launcher: resolves the month at firing time in the user's zone and runs it. */
export interface ScheduledContentPlanInput {
  userId: string;
}

export interface ScheduledContentPlanResult {
  month: string;
  /** False when the month had already been generated (by the API or an earlier firing). */
  started: boolean;
}

/** What a model call may spend right now (plan caps against the roll-up of ai_usage_logs). */
export type AiBudget = { allowed: true } | { allowed: false; cap: 'daily_tokens' | 'monthly_cost'; resetsAt: string; message: string };

/**
 * Creates, updates and removes a user's content-plan Temporal Schedule. Built by the composition
 * root (platform/content-plan-schedules.ts) and handed to activities, which may not import it.
 */
export interface ContentPlanScheduler {
  /** Creates the schedule, or updates its time zone; the next firing instant. */
  upsert(input: { userId: string; timezone: string }): Promise<{ schedule: 'created' | 'updated'; nextRunAt: Date | null }>;
  remove(userId: string): Promise<{ schedule: 'removed' | 'absent' }>;
}

export interface AiCaps {
  dailyTokenLimit: number | null;
  monthlyCostLimitMicroUsd: number | null;
}

export interface AiSpendSoFar {
  tokensToday: number;
  costThisMonthMicroUsd: number;
}

const startOfNextUtcDay = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
const startOfNextUtcMonth = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));

/** When the daily token count and the monthly cost start over (UTC). */
export const aiCapResets = (now: Date) => ({ daily: startOfNextUtcDay(now), monthly: startOfNextUtcMonth(now) });

/**
 * Whether a generation may start: refused once the day's tokens or the month's cost reached the
 * plan's cap, until the cap resets. Checked before each call, so calls already in flight may
 * overshoot a cap by their own size.
 */
export function assessAiBudget(spend: AiSpendSoFar, caps: AiCaps, now: Date): AiBudget {
  const resets = aiCapResets(now);
  if (caps.monthlyCostLimitMicroUsd !== null && spend.costThisMonthMicroUsd >= caps.monthlyCostLimitMicroUsd) {
    return {
      allowed: false,
      cap: 'monthly_cost',
      resetsAt: resets.monthly.toISOString(),
      message: `this month's AI spend reached your plan's cap of $${(caps.monthlyCostLimitMicroUsd / 1e6).toFixed(2)}`,
    };
  }
  if (caps.dailyTokenLimit !== null && spend.tokensToday >= caps.dailyTokenLimit) {
    return {
      allowed: false,
      cap: 'daily_tokens',
      resetsAt: resets.daily.toISOString(),
      message: `today's AI usage reached your plan's cap of ${caps.dailyTokenLimit} tokens`,
    };
  }
  return { allowed: true };
}

/** The 80 % and 100 % marks each cap has reached, with the period (UTC day or month) they belong to. */
export function aiCapThresholdsReached(spend: AiSpendSoFar & { day: string; month: string }, caps: AiCaps) {
  const marks: Array<{ cap: 'daily_tokens' | 'monthly_cost'; percent: 80 | 100; period: string; limit: number; actual: number }> = [];
  const check = (cap: 'daily_tokens' | 'monthly_cost', limit: number | null, actual: number, period: string) => {
    if (limit === null) return;
    for (const percent of [80, 100] as const) if (actual * 100 >= limit * percent) marks.push({ cap, percent, period, limit, actual });
  };
  check('daily_tokens', caps.dailyTokenLimit, spend.tokensToday, spend.day);
  check('monthly_cost', caps.monthlyCostLimitMicroUsd, spend.costThisMonthMicroUsd, spend.month);
  return marks;
}
