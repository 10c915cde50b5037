import type { DbOrTx } from '../database';
import type { PlanSlug } from '../types';

/** Content types each tier unlocks; a tier also has everything the one before it has. */
const FREE_CONTENT = ['transcript', 'summary'];
const BASIC_CONTENT = [...FREE_CONTENT, 'chapters', 'blog_post', 'social_posts', 'quotes', 'newsletter'];
const PREMIUM_CONTENT = [
  ...BASIC_CONTENT,
  'linkedin_article',
  'podcast_script',
  'quiz',
  'study_guide',
  'discussion_guide',
  'group_chat_guide',
];
const CREATOR_CONTENT = [...PREMIUM_CONTENT, 'slide_deck', 'ebook', 'marketing_funnel', 'social_carousel'];

const MB = 1024 * 1024;

interface PlanSeed {
  slug: PlanSlug;
  name: string;
  description: string;
  /** Monthly price in cents; yearly is ten months (two free). Free has no Stripe price. */
  monthlyCents: number | null;
  trialDays: number;
  features: {
    video_limit: number | null;
    allowed_content_types: string[];
    priority_processing: boolean;
    youtube_channel_limit: number;
    youtube_auto_import: boolean;
    api_rate_limit_per_minute: number;
    max_concurrent_jobs: number;
    posts_per_month: number | null;
    clips_per_video: number;
    max_video_duration_seconds: number;
    max_upload_bytes: number;
    social_accounts: number;
    team_members: number;
    storage_limit_gb: number | null;
    monthly_credits: number;
    support_level: 'community' | 'email' | 'priority' | 'dedicated';
    /** Glow Social's monthly AI content plan: posts written a month (0 = not included) and content pillars. */
    monthly_post_limit: number;
    content_pillar_limit: number;
    /** AI spend caps (null = uncapped): tokens per UTC day, micro-USD per UTC month. */
    ai_daily_token_limit: number | null;
    ai_monthly_cost_limit_micro_usd: number | null;
  };
}

export const PLAN_SEEDS: readonly PlanSeed[] = [
  {
    slug: 'free',
    name: 'Free',
    description: 'Try it on one video: transcript and summary.',
    monthlyCents: null,
    trialDays: 0,
    features: {
      // One video in total, tracked by users.free_video_used rather than per period.
      video_limit: 1,
      allowed_content_types: FREE_CONTENT,
      priority_processing: false,
      youtube_channel_limit: 1,
      youtube_auto_import: false,
      api_rate_limit_per_minute: 60,
      max_concurrent_jobs: 2,
      posts_per_month: 10,
      clips_per_video: 3,
      max_video_duration_seconds: 15 * 60,
      max_upload_bytes: 500 * MB,
      social_accounts: 1,
      team_members: 1,
      storage_limit_gb: 1,
      monthly_credits: 0,
      support_level: 'community',
      monthly_post_limit: 0,
      content_pillar_limit: 2,
      ai_daily_token_limit: 20_000,
      ai_monthly_cost_limit_micro_usd: 500_000,
    },
  },
  {
    slug: 'basic',
    name: 'Basic',
    description: 'For new creators: 10 videos a month with the core written formats.',
    monthlyCents: 1900,
    trialDays: 7,
    features: {
      video_limit: 10,
      allowed_content_types: BASIC_CONTENT,
      priority_processing: false,
      youtube_channel_limit: 1,
      youtube_auto_import: false,
      api_rate_limit_per_minute: 120,
      max_concurrent_jobs: 3,
      posts_per_month: 30,
      clips_per_video: 5,
      max_video_duration_seconds: 30 * 60,
      max_upload_bytes: 1024 * MB,
      social_accounts: 3,
      team_members: 1,
      storage_limit_gb: 10,
      monthly_credits: 100,
      support_level: 'email',
      monthly_post_limit: 12,
      content_pillar_limit: 3,
      ai_daily_token_limit: 100_000,
      ai_monthly_cost_limit_micro_usd: 2_000_000,
    },
  },
  {
    slug: 'premium',
    name: 'Premium',
    description: 'For growing channels: 30 videos a month, learning and long-form formats, priority processing.',
    monthlyCents: 4900,
    trialDays: 7,
    features: {
      video_limit: 30,
      allowed_content_types: PREMIUM_CONTENT,
      priority_processing: true,
      youtube_channel_limit: 3,
      youtube_auto_import: true,
      api_rate_limit_per_minute: 300,
      max_concurrent_jobs: 5,
      posts_per_month: 90,
      clips_per_video: 8,
      max_video_duration_seconds: 60 * 60,
      max_upload_bytes: 2048 * MB,
      social_accounts: 5,
      team_members: 3,
      storage_limit_gb: 50,
      monthly_credits: 300,
      support_level: 'email',
      monthly_post_limit: 30,
      content_pillar_limit: 5,
      ai_daily_token_limit: 300_000,
      ai_monthly_cost_limit_micro_usd: 8_000_000,
    },
  },
  {
    slug: 'creator',
    name: 'Creator',
    description: 'For full-time creators: 100 videos a month and every content type.',
    monthlyCents: 9900,
    trialDays: 14,
    features: {
      video_limit: 100,
      allowed_content_types: CREATOR_CONTENT,
      priority_processing: true,
      youtube_channel_limit: 5,
      youtube_auto_import: true,
      api_rate_limit_per_minute: 300,
      max_concurrent_jobs: 5,
      posts_per_month: 300,
      clips_per_video: 10,
      max_video_duration_seconds: 2 * 60 * 60,
      max_upload_bytes: 5120 * MB,
      social_accounts: 10,
      team_members: 5,
      storage_limit_gb: 200,
      monthly_credits: 1000,
      support_level: 'priority',
      monthly_post_limit: 60,
      content_pillar_limit: 8,
      ai_daily_token_limit: 1_000_000,
      ai_monthly_cost_limit_micro_usd: 25_000_000,
    },
  },
  {
    slug: 'enterprise',
    name: 'Enterprise',
    description: 'For teams and agencies: unlimited videos and posts, large uploads, dedicated support.',
    monthlyCents: 29900,
    trialDays: 14,
    features: {
      video_limit: null,
      allowed_content_types: CREATOR_CONTENT,
      priority_processing: true,
      youtube_channel_limit: 25,
      youtube_auto_import: true,
      api_rate_limit_per_minute: 1200,
      max_concurrent_jobs: 20,
      posts_per_month: null,
      clips_per_video: 10,
      max_video_duration_seconds: 4 * 60 * 60,
      max_upload_bytes: 10240 * MB,
      social_accounts: 25,
      team_members: 25,
      storage_limit_gb: null,
      monthly_credits: 5000,
      support_level: 'dedicated',
      monthly_post_limit: 120,
      content_pillar_limit: 12,
      ai_daily_token_limit: null,
      ai_monthly_cost_limit_micro_usd: null,
    },
  },
];

/** Placeholder Stripe price id the Stripe sandbox knows; production sets real ids on these rows. */
export function sandboxPriceId(slug: PlanSlug, period: 'month' | 'year'): string {
  return `price_sandbox_${slug}_${period === 'month' ? 'monthly' : 'yearly'}`;
}

export async function seedPlans(db: DbOrTx): Promise<void> {
  for (const [index, plan] of PLAN_SEEDS.entries()) {
    const planRow = { name: plan.name, description: plan.description, sort_order: index, is_active: true, is_visible: true };
    const { id: planId } = await db
      .insertInto('subscription_plans')
      .values({ slug: plan.slug, ...planRow })
      .onConflict((oc) => oc.column('slug').doUpdateSet(planRow))
      .returning('id')
      .executeTakeFirstOrThrow();

    await db
      .insertInto('subscription_plan_features')
      .values({ plan_id: planId, ...plan.features })
      .onConflict((oc) => oc.column('plan_id').doUpdateSet(plan.features))
      .execute();

    if (plan.monthlyCents === null) continue;
    for (const period of ['month', 'year'] as const) {
      // Prices are seeded once: after that they are business data (a real stripe_price_id set in
      // production, a price change) that a restart must not overwrite. The partial unique index on
      // the default price per plan, period and currency is the natural key.
      await db
        .insertInto('subscription_plan_prices')
        .values({
          plan_id: planId,
          stripe_price_id: sandboxPriceId(plan.slug, period),
          stripe_product_id: `prod_sandbox_${plan.slug}`,
          amount_cents: period === 'month' ? plan.monthlyCents : plan.monthlyCents * 10,
          currency: 'usd',
          billing_period: period,
          trial_period_days: plan.trialDays,
          is_default: true,
        })
        .onConflict((oc) => oc.columns(['plan_id', 'billing_period', 'currency']).where('is_default', '=', true).doNothing())
        .execute();
    }
  }
}
