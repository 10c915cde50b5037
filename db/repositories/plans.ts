import type { DbOrTx } from '../database';
import type { AdminGrantType, PlanSlug, SubscriptionPlanFeatures } from '../types';

export interface PlanFeatures {
  /** null = unlimited */
  videoLimit: number | null;
  /** content_types.key values the plan may generate */
  allowedContentTypes: string[];
  priorityProcessing: boolean;
  youtubeChannelLimit: number;
  youtubeAutoImport: boolean;
  apiRateLimitPerMinute: number;
  maxConcurrentJobs: number;
  /** null = unlimited */
  postsPerMonth: number | null;
  clipsPerVideo: number;
  maxVideoDurationSeconds: number;
  maxUploadBytes: number;
  socialAccounts: number;
  teamMembers: number;
  /** null = unlimited */
  storageLimitGb: number | null;
  monthlyCredits: number;
  supportLevel: SubscriptionPlanFeatures['support_level'];
  /** AI-written posts of the monthly content plan; 0 = the plan has none. */
  monthlyPostLimit: number;
  contentPillarLimit: number;
  /** null = uncapped */
  aiDailyTokenLimit: number | null;
  /** null = uncapped */
  aiMonthlyCostLimitMicroUsd: number | null;
}

export interface Plan {
  id: string;
  slug: PlanSlug;
  name: string;
  features: PlanFeatures;
}

export interface ActiveAdminGrant {
  id: string;
  grantType: AdminGrantType;
  tierOverride: PlanSlug | null;
  videoLimitOverride: number | null;
  expiresAt: Date | null;
}

export interface UserPlan extends Plan {
  /** The user's own tier (users.subscription_tier), before any admin grant. */
  subscribedSlug: PlanSlug;
  /** Active, unexpired admin grants; their overrides are already applied to slug and features. */
  adminGrants: ActiveAdminGrant[];
}

function toFeatures(row: SubscriptionPlanFeatures): PlanFeatures {
  return {
    videoLimit: row.video_limit,
    allowedContentTypes: row.allowed_content_types,
    priorityProcessing: row.priority_processing,
    youtubeChannelLimit: row.youtube_channel_limit,
    youtubeAutoImport: row.youtube_auto_import,
    apiRateLimitPerMinute: row.api_rate_limit_per_minute,
    maxConcurrentJobs: row.max_concurrent_jobs,
    postsPerMonth: row.posts_per_month,
    clipsPerVideo: row.clips_per_video,
    maxVideoDurationSeconds: row.max_video_duration_seconds,
    maxUploadBytes: row.max_upload_bytes,
    socialAccounts: row.social_accounts,
    teamMembers: row.team_members,
    storageLimitGb: row.storage_limit_gb,
    monthlyCredits: row.monthly_credits,
    supportLevel: row.support_level,
    monthlyPostLimit: row.monthly_post_limit,
    contentPillarLimit: row.content_pillar_limit,
    aiDailyTokenLimit: row.ai_daily_token_limit,
    aiMonthlyCostLimitMicroUsd: row.ai_monthly_cost_limit_micro_usd,
  };
}

/** Every active plan with its features, cheapest first. */
export async function listPlans(db: DbOrTx): Promise<Plan[]> {
  const rows = await db
    .selectFrom('subscription_plans as p')
    .innerJoin('subscription_plan_features as f', 'f.plan_id', 'p.id')
    .select(['p.id as plan_row_id', 'p.slug', 'p.name'])
    .selectAll('f')
    .where('p.is_active', '=', true)
    .orderBy('p.sort_order')
    .execute();
  return rows.map((r) => ({ id: r.plan_row_id, slug: r.slug, name: r.name, features: toFeatures(r) }));
}

export async function getPlanBySlug(db: DbOrTx, slug: PlanSlug): Promise<Plan | undefined> {
  return (await listPlans(db)).find((p) => p.slug === slug);
}

/** Active, unrevoked, unexpired admin grants of the user, oldest first. */
async function activeGrantRows(db: DbOrTx, userId: string, now: Date) {
  return db
    .selectFrom('admin_subscription_grants')
    .select(['id', 'grant_type', 'tier_override', 'video_limit_override', 'expires_at'])
    .where('user_id', '=', userId)
    .where('is_active', '=', true)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at')
    .execute();
}

/** The plan of `slug`, raised to the highest tier a grant gives (full_access without an override: enterprise); never lowered. */
function raisedByGrants(
  plans: Plan[],
  slug: PlanSlug,
  grants: Array<{ grant_type: AdminGrantType; tier_override: PlanSlug | null }>,
): Plan {
  const rank = (s: string) => plans.findIndex((p) => p.slug === s);
  let effective = plans.find((p) => p.slug === slug);
  if (!effective) throw new Error(`tier ${slug} has no seeded plan`);
  for (const grant of grants) {
    const tier = grant.tier_override ?? (grant.grant_type === 'full_access' ? 'enterprise' : null);
    const granted = tier === null ? undefined : plans.find((p) => p.slug === tier);
    if (granted && rank(granted.slug) > rank(effective.slug)) effective = granted;
  }
  return effective;
}

/** The tier a subscription's `subscriptionTier` gives the user once their active admin grants raise it (the rule of getPlanForUser). */
export async function tierWithGrants(db: DbOrTx, userId: string, subscriptionTier: PlanSlug, now: Date = new Date()): Promise<PlanSlug> {
  return raisedByGrants(await listPlans(db), subscriptionTier, await activeGrantRows(db, userId, now)).slug;
}

/**
 * The one entitlement resolver (API, activities and repositories all ask it): the plan a user
 * gets right now is their subscription tier, raised by active admin grants (seed 000's rule: a
 * grant wins; it never lowers the tier). A full_access grant without a tier override means
 * enterprise; unlimited_videos lifts the video limit; video_limit_override replaces it (the
 * largest wins). Undefined when the user does not exist.
 */
export async function getPlanForUser(db: DbOrTx, userId: string, now: Date = new Date()): Promise<UserPlan | undefined> {
  const user = await db.selectFrom('users').select('subscription_tier').where('id', '=', userId).executeTakeFirst();
  if (!user) return undefined;
  const grants = await activeGrantRows(db, userId, now);
  const plans = await listPlans(db);
  const subscribedSlug = user.subscription_tier as PlanSlug;
  const effective = raisedByGrants(plans, subscribedSlug, grants);

  const features = { ...effective.features };
  if (grants.some((g) => g.grant_type === 'unlimited_videos')) features.videoLimit = null;
  else {
    const overrides = grants.flatMap((g) =>
      g.grant_type === 'video_limit_override' && g.video_limit_override !== null ? [g.video_limit_override] : [],
    );
    if (overrides.length > 0 && features.videoLimit !== null) features.videoLimit = Math.max(...overrides);
  }

  return {
    ...effective,
    features,
    subscribedSlug,
    adminGrants: grants.map((g) => ({
      id: g.id,
      grantType: g.grant_type,
      tierOverride: g.tier_override,
      videoLimitOverride: g.video_limit_override,
      expiresAt: g.expires_at,
    })),
  };
}

export interface PlanLimits {
  /** The effective plan's slug (admin grants applied). */
  plan: PlanSlug;
  /** Requests per minute per API key (a key's own rate_limit may only lower it). */
  apiRateLimitPerMinute: number;
  /** Runs of one user that may be `running` at once. */
  maxConcurrentJobs: number;
  /** Runs start with a higher Temporal priority. */
  priorityProcessing: boolean;
}

/** The request-time limits of the user's effective plan; a user who does not exist gets the free plan's. */
export async function getPlanLimits(db: DbOrTx, userId: string): Promise<PlanLimits> {
  const plan = (await getPlanForUser(db, userId)) ?? (await getPlanBySlug(db, 'free'));
  if (!plan) throw new Error('the free plan is not seeded');
  const { apiRateLimitPerMinute, maxConcurrentJobs, priorityProcessing } = plan.features;
  return { plan: plan.slug, apiRateLimitPerMinute, maxConcurrentJobs, priorityProcessing };
}
