import {
  countHookUse,
  findPlan,
  findPlanItem,
  listContentPillars,
  listCustomHooks,
  markItemFailed,
  markItemScheduled,
  openPlan,
  refreshPlanCounters,
  resetMonthlyCounter,
  saveWrittenItem,
  setContentGenerationScheduledFor,
  setPlanStatus,
} from '../db/repositories/content-plans';
import { aiSpendOf, listUnsentAiUsageAlerts, markAiUsageAlertEmailed, recordAiUsageAlert } from '../db/repositories/ai-usage';
import { getPlanForUser, type PlanFeatures } from '../db/repositories/plans';
import {
  findPost,
  findPostingSchedule,
  fromStoredPlatform,
  insertPost,
  listUserSocialAccounts,
  SlotTakenError,
  takenSlots,
} from '../db/repositories/posts';
import { registerRun } from '../db/repositories/runs';
import { findUser } from '../db/repositories/users';
import { contentPlanId, uuidFromName } from '../lib/stable-uuid';
import { scheduleSlots, zonedWallTimeToInstant, type WeeklySchedule } from '../lib/posting-slots';
import { aiCapThresholdsReached, assessAiBudget, type AiBudget, type AiCaps, type ContentPlanStatusWrite } from '../schemas/content-plans';
import { FailureType } from '../schemas/failures';
import type { PostPlatform, PostWorkflowInput } from '../schemas/posts';
import type { RunError } from '../schemas/runs';
import type { ActivityDeps } from './deps';
import { heartbeating, nonRetryable, unlessCancelled } from './common';

const DAY_MS = 86_400_000;
/** Attempts at another slot when a concurrent post takes the one chosen. */
const SLOT_ATTEMPTS = 5;
/** postRun's job type and postWorkflowId's form (workflows/posts/contract.ts, which activities may not import as values). */
const POST_JOB_TYPE = 'post';
const postRunId = (postId: string) => `post:${postId}`;
/** Plan posts carry text and a visual suggestion, no media: only platforms that publish text alone get them. */
const TEXT_POST_PLATFORMS: readonly PostPlatform[] = ['x', 'linkedin', 'facebook'];

/** Pillars and hooks of a user who has set none (Glow Social's onboarding defaults). */
export const DEFAULT_PILLARS: Array<{ name: string; description: string; exampleSubtopics: string[] }> = [
  {
    name: 'Education',
    description: 'Teach your audience one useful thing about your field that they can use this week.',
    exampleSubtopics: [],
  },
  {
    name: 'Behind the scenes',
    description: 'Show how your work gets done and the people who do it every single day.',
    exampleSubtopics: [],
  },
  {
    name: 'Customer stories',
    description: 'Share a result a real customer got and what made the difference for them.',
    exampleSubtopics: [],
  },
];
export const DEFAULT_HOOKS = [
  'Most people get this wrong about their first step.',
  'Here is the one question our customers ask us most often.',
  'We tried something new this month and the result surprised us.',
];

const caps = (features: PlanFeatures): AiCaps => ({
  dailyTokenLimit: features.aiDailyTokenLimit,
  monthlyCostLimitMicroUsd: features.aiMonthlyCostLimitMicroUsd,
});

/** `YYYY-MM` of an instant in a time zone. */
export function monthIn(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}`;
}

/** The instants a month starts and ends in a time zone. */
export function monthBounds(month: string, timeZone: string): { start: number; end: number } {
  const [year, monthNumber] = month.split('-').map(Number) as [number, number];
  return {
    start: zonedWallTimeToInstant(Date.UTC(year, monthNumber - 1, 1), timeZone),
    end: zonedWallTimeToInstant(Date.UTC(year, monthNumber, 1), timeZone),
  };
}

/**
 * The slots a post may take, best first: the month's free slots (from now on) spread evenly over
 * the plan's posts, this post's share first, then the rest of the month, then the slots after it.
 */
export function slotCandidates(schedule: WeeklySchedule, month: string, postIndex: number, totalPosts: number, now: number): number[] {
  const { start, end } = monthBounds(month, schedule.timezone);
  const from = Math.max(now, start - 1);
  const inMonth = end > from ? scheduleSlots(schedule, from, Math.ceil((end - from) / DAY_MS)).filter((slot) => slot < end) : [];
  const share = Math.floor((postIndex * inMonth.length) / Math.max(1, totalPosts));
  const afterMonth = scheduleSlots(schedule, Math.max(from, end - 1), 92);
  return [...inMonth.slice(share), ...inMonth.slice(0, share), ...afterMonth];
}

/** Model text → caption, hashtags and visual suggestion (the prompt asks for JSON; plain text becomes the caption). */
export function parsePostText(text: string): { caption: string; hashtags: string[]; visualSuggestion: string | null } {
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  let parsed: { caption?: unknown; hashtags?: unknown; visual_suggestion?: unknown } | undefined;
  try {
    parsed = json ? (JSON.parse(json) as typeof parsed) : undefined;
  } catch {
    parsed = undefined;
  }
  const caption = typeof parsed?.caption === 'string' && parsed.caption.trim() ? parsed.caption.trim() : text.trim();
  const tags = Array.isArray(parsed?.hashtags) ? parsed.hashtags.filter((t): t is string => typeof t === 'string') : [];
  return {
    caption: caption.slice(0, 2000),
    hashtags: [...new Set(tags.map(toHashtag).filter((t) => t.length > 1))].slice(0, 8),
    visualSuggestion: typeof parsed?.visual_suggestion === 'string' ? parsed.visual_suggestion.slice(0, 500) : null,
  };
}

/** `#WordsLikeThis` from a phrase (at most three words): platforms allow letters and digits only. */
function toHashtag(phrase: string): string {
  const words = phrase.replace(/^#/, '').match(/[\p{L}\p{N}]+/gu) ?? [];
  return `#${words
    .slice(0, 3)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
    .join('')}`.slice(0, 40);
}

/**
 * Keeps the user's content-plan Schedule in step with their effective plan: there (in their time
 * zone) when it includes the monthly plan, gone otherwise. Idempotent; billing calls it whenever a
 * subscription changes the user's tier.
 */
export async function syncUserContentPlanSchedule(
  deps: ActivityDeps,
  userId: string,
): Promise<{ schedule: 'created' | 'updated' | 'removed' | 'absent' | 'not-configured' }> {
  const { db, logger, contentPlanSchedules: scheduler } = deps;
  if (!scheduler) {
    logger.debug({ userId }, 'no content-plan scheduler configured: schedule left alone');
    return { schedule: 'not-configured' };
  }
  const [plan, user] = await Promise.all([getPlanForUser(db, userId), findUser(db, userId)]);
  if (plan && user && plan.features.monthlyPostLimit > 0) {
    const { schedule, nextRunAt } = await scheduler.upsert({ userId, timezone: user.timezone });
    await setContentGenerationScheduledFor(db, userId, nextRunAt);
    return { schedule };
  }
  const { schedule } = await scheduler.remove(userId);
  await setContentGenerationScheduledFor(db, userId, null);
  return { schedule };
}

export type ProducedPlanPost =
  | { status: 'scheduled'; post: PostWorkflowInput }
  | { status: 'capped'; cap: 'daily_tokens' | 'monthly_cost'; resetsAt: string; message: string };

export function createContentPlanActivities(deps: ActivityDeps) {
  const { db, providers } = deps;

  const requirePlan = async (planId: string) => {
    const plan = await findPlan(db, planId);
    if (!plan) throw nonRetryable(`content plan ${planId} not found`, FailureType.NotFound);
    return plan;
  };

  /** Active accounts of platforms that take a text post, oldest first (a plan's posts rotate over them). */
  const postingAccounts = async (userId: string) =>
    (await listUserSocialAccounts(db, userId))
      .filter((a) => {
        const platform = fromStoredPlatform(a.platform);
        return a.status === 'active' && platform !== null && TEXT_POST_PLATFORMS.includes(platform);
      })
      .reverse();

  /** The caps of the user's effective plan against the day's and month's roll-up. */
  async function aiBudgetOf(userId: string, now = new Date()): Promise<AiBudget> {
    const plan = await getPlanForUser(db, userId, now);
    if (!plan) throw nonRetryable(`user ${userId} not found`, FailureType.NotFound);
    return assessAiBudget(await aiSpendOf(db, userId, now), caps(plan.features), now);
  }

  /**
   * Records the 80 % and 100 % marks the user's spend has reached (once per cap, mark and period)
   * and emails each once: the row is written first, the email keyed by its id, then marked sent,
   * so a retry after a crash sends what is missing and nothing twice.
   */
  async function raiseAiUsageAlerts(userId: string): Promise<void> {
    const now = new Date();
    const plan = await getPlanForUser(db, userId, now);
    if (!plan) return;
    const spend = await aiSpendOf(db, userId, now);
    for (const mark of aiCapThresholdsReached(spend, caps(plan.features))) {
      const what =
        mark.cap === 'daily_tokens'
          ? `today's AI tokens (${mark.actual} of ${mark.limit})`
          : `this month's AI spend ($${(mark.actual / 1e6).toFixed(2)} of $${(mark.limit / 1e6).toFixed(2)})`;
      await recordAiUsageAlert(db, {
        userId,
        alertType: mark.cap,
        thresholdPercent: mark.percent,
        period: mark.period,
        message:
          mark.percent === 100
            ? `You have used all of ${what}: new AI posts wait until it resets.`
            : `You have used ${mark.percent}% of ${what}.`,
        thresholdValue: mark.limit,
        actualValue: mark.actual,
      });
    }
    const unsent = await listUnsentAiUsageAlerts(db, userId);
    if (unsent.length === 0) return;
    const user = await findUser(db, userId);
    if (!user) return;
    for (const alert of unsent) {
      await providers.mailer.send({
        to: user.email,
        subject: alert.threshold_percent === 100 ? 'Your AI usage reached its limit' : `Your AI usage is at ${alert.threshold_percent}%`,
        text: [user.first_name ? `Hi ${user.first_name},` : 'Hi,', '', alert.message].join('\n'),
        idempotencyKey: `ai-usage-alert:${alert.id}`,
        tags: { kind: 'ai_usage', alert: `${alert.alert_type}_${alert.threshold_percent}` },
      });
      await markAiUsageAlertEmailed(db, alert.id);
    }
  }

  return {
    syncContentPlanSchedule: (input: { userId: string }) => syncUserContentPlanSchedule(deps, input.userId),

    /** Removes the user's content-plan Schedule (a subscription's clean-up); nothing to remove is fine. */
    async removeContentPlanSchedule(input: { userId: string }): Promise<{ schedule: 'removed' | 'absent' | 'not-configured' }> {
      if (!deps.contentPlanSchedules) return { schedule: 'not-configured' };
      const result = await deps.contentPlanSchedules.remove(input.userId);
      await setContentGenerationScheduledFor(db, input.userId, null);
      return result;
    },

    /** The month a firing at `at` belongs to in the user's time zone, and whether their plan still includes a monthly plan. */
    async resolveContentPlanMonth(input: { userId: string; at: string }): Promise<{ month: string; included: boolean }> {
      const [user, plan] = await Promise.all([findUser(db, input.userId), getPlanForUser(db, input.userId)]);
      if (!user) return { month: input.at.slice(0, 7), included: false };
      return { month: monthIn(new Date(input.at), user.timezone), included: (plan?.features.monthlyPostLimit ?? 0) > 0 };
    },

    /**
     * Opens the month's plan once: N = the plan's monthly post limit, post i gets pillar i mod P
     * and hook i mod H (the user's, else defaults); the user's monthly counter starts over for a
     * new month. A second call returns the existing plan unchanged.
     */
    async openContentPlan(input: {
      userId: string;
      month: string;
      workflowId: string;
      needsApproval: boolean;
      reviewWindowDays: number;
    }): Promise<{ planId: string; totalPosts: number }> {
      const plan = await getPlanForUser(db, input.userId);
      if (!plan) throw nonRetryable(`user ${input.userId} not found`, FailureType.NotFound);
      if (plan.features.monthlyPostLimit === 0)
        throw nonRetryable(`the ${plan.slug} plan has no monthly content plan`, FailureType.InvalidInput);
      if ((await postingAccounts(input.userId)).length === 0)
        throw nonRetryable('no active X, LinkedIn or Facebook account to post to: connect one first', FailureType.InvalidInput);
      const pillars = await listContentPillars(db, input.userId);
      const hooks = (await listCustomHooks(db, input.userId)).map((h) => h.hook_text);
      const pillarNames = pillars.length > 0 ? pillars.map((p) => p.pillar_name) : DEFAULT_PILLARS.map((p) => p.name);
      const hookTexts = hooks.length > 0 ? hooks : DEFAULT_HOOKS;
      const items = Array.from({ length: plan.features.monthlyPostLimit }, (_, i) => ({
        pillar: pillarNames[i % pillarNames.length]!,
        hook: hookTexts[i % hookTexts.length]!,
      }));
      const job = await db.transaction().execute(async (tx) => {
        await resetMonthlyCounter(tx, input.userId, input.month);
        return openPlan(tx, {
          id: contentPlanId(input.userId, input.month),
          jobId: input.workflowId,
          userId: input.userId,
          month: input.month,
          needsApproval: input.needsApproval,
          reviewWindowDays: input.reviewWindowDays,
          items,
        });
      });
      return { planId: job.id, totalPosts: job.total_posts };
    },

    /**
     * One post of the plan, idempotent by (plan, post index): writes its text with the model
     * unless an earlier attempt did (refused with `capped` while an AI spend cap holds), places it
     * into the next free posting slot of its share of the month, and creates the post row (a
     * uuid fixed by plan and index) with its job_runs row. The workflow then starts `post:<id>`.
     */
    async producePlanPost(input: { planId: string; postIndex: number }): Promise<ProducedPlanPost> {
      const plan = await requirePlan(input.planId);
      const item = await findPlanItem(db, input.planId, input.postIndex);
      if (!item) throw nonRetryable(`content plan ${input.planId} has no post ${input.postIndex}`, FailureType.NotFound);
      const userId = plan.user_id;

      if (item.caption === null) {
        const budget = await aiBudgetOf(userId);
        if (!budget.allowed) return { status: 'capped', cap: budget.cap, resetsAt: budget.resetsAt, message: budget.message };
        const own = (await listContentPillars(db, userId)).map((p) => ({
          name: p.pillar_name,
          description: p.description ?? '',
          exampleSubtopics: p.example_subtopics,
        }));
        const pillar = [...own, ...DEFAULT_PILLARS].find((p) => p.name === item.pillar);
        const generation = providers.anthropic.generate({
          system:
            'You write social media posts for a small business. Answer with JSON only: ' +
            '{"caption": "the post text", "hashtags": ["tag"], "visual_suggestion": "what the image should show"}',
          prompt: [
            `Write post ${item.post_index + 1} of ${item.total_posts} for ${plan.month}.`,
            `Open with this hook, in your own words: ${item.hook}`,
            '<content>',
            `${item.pillar}. ${pillar?.description ?? ''}`,
            ...(pillar?.exampleSubtopics ?? []).map((topic) => `${topic}.`),
            item.hook,
            '</content>',
          ].join('\n'),
          maxTokens: 600,
          userId,
          runId: plan.job_id,
          operation: 'content_plan.post',
        });
        const result = await heartbeating(() => unlessCancelled(generation));
        const text = parsePostText(result.text);
        if (await saveWrittenItem(db, { id: item.id, userId, month: plan.month }, text)) await countHookUse(db, userId, item.hook);
        Object.assign(item, { caption: text.caption, hashtags: text.hashtags });
      }
      await raiseAiUsageAlerts(userId);

      const postId = uuidFromName(`content-plan-post:${plan.id}:${item.post_index}`);
      const post = (await findPost(db, postId)) ?? (await placePost(plan, item, postId));
      const scheduledFor = post.scheduled_at!;
      const visibleAfter = new Date(Math.max(Date.now(), scheduledFor.getTime() - plan.review_window_days * DAY_MS));
      await registerRun(db, {
        id: post.run_id!,
        type: POST_JOB_TYPE,
        userId,
        domainId: postId,
        input: { socialAccountId: post.social_account_id, scheduledAt: scheduledFor.toISOString(), contentPlanId: plan.id },
        longLived: true,
      });
      await markItemScheduled(db, item.id, { postId, scheduledFor, visibleAfter });
      await refreshPlanCounters(db, plan.id);
      return {
        status: 'scheduled',
        post: { postId, userId, scheduledAt: scheduledFor.toISOString(), needsApproval: post.needs_approval },
      };
    },

    async recordPlanPostFailed(input: { planId: string; postIndex: number; error: RunError }): Promise<void> {
      await markItemFailed(db, input.planId, input.postIndex, `${input.error.type}: ${input.error.message}`);
      await refreshPlanCounters(db, input.planId);
    },

    async setContentPlanStatus(input: ContentPlanStatusWrite): Promise<void> {
      await setPlanStatus(db, input.planId, input.status, input.pausedUntil ? new Date(input.pausedUntil) : null);
    },

    /** Final counts; the plan is completed (failed posts are listed in its errors). */
    async finishContentPlan(input: { planId: string }): Promise<{ completedPosts: number; failedPosts: number }> {
      const totals = await refreshPlanCounters(db, input.planId);
      await setPlanStatus(db, input.planId, 'completed', null);
      return totals;
    },
  };

  /** Creates the post row in the first free slot of its candidates (a concurrent post taking one moves it to the next). */
  async function placePost(
    plan: Awaited<ReturnType<typeof requirePlan>>,
    item: NonNullable<Awaited<ReturnType<typeof findPlanItem>>>,
    postId: string,
  ) {
    const accounts = await postingAccounts(plan.user_id);
    const account = accounts[item.post_index % Math.max(1, accounts.length)];
    if (!account) throw nonRetryable('no active X, LinkedIn or Facebook account to post to: connect one first', FailureType.InvalidInput);
    const schedule = await findPostingSchedule(db, plan.user_id, account.id);
    if (!schedule) throw nonRetryable('no posting schedule: set one with PUT /v1/posting-schedule', FailureType.InvalidInput);
    const now = Date.now();
    const weekly = { timezone: schedule.timezone, days: schedule.posting_days, times: schedule.posting_times };
    const taken = await takenSlots(db, account.id, new Date(now));
    let attempts = 0;
    for (const slot of slotCandidates(weekly, plan.month, item.post_index, plan.total_posts, now)) {
      if (taken.has(slot)) continue;
      try {
        return await insertPost(db, {
          id: postId,
          runId: postRunId(postId),
          userId: plan.user_id,
          socialAccountId: account.id,
          clipId: null,
          caption: item.caption ?? '',
          hashtags: item.hashtags,
          mentions: [],
          mediaUrls: [],
          mediaType: 'image',
          platformOptions: {},
          scheduledAt: new Date(slot),
          needsApproval: plan.needs_approval,
        });
      } catch (err) {
        if (!(err instanceof SlotTakenError) || ++attempts >= SLOT_ATTEMPTS) throw err;
        taken.add(slot);
      }
    }
    throw nonRetryable('every slot of the posting schedule in the next three months is taken', FailureType.InvalidInput);
  }
}

export type ContentPlanActivities = ReturnType<typeof createContentPlanActivities>;
