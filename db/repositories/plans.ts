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

/**
 * The plan a user gets right now: their subscription tier, raised by active admin grants
 * (seed 000's rule: a grant wins). A full_access grant without a tier override means enterprise;
 * unlimited_videos lifts the video limit; video_limit_override replaces it (the largest wins).
 * Undefined when the user does not exist.
 */
export async function getPlanForUser(db: DbOrTx, userId: string, now: Date = new Date()): Promise<UserPlan | undefined> {
  const user = await db.selectFrom('users').select('subscription_tier').where('id', '=', userId).executeTakeFirst();
  if (!user) return undefined;
  const grants = await db
    .selectFrom('admin_subscription_grants')
    .select(['id', 'grant_type', 'tier_override', 'video_limit_override', 'expires_at'])
    .where('user_id', '=', userId)
    .where('is_active', '=', true)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at')
    .execute();

  const plans = await listPlans(db);
  const rank = (slug: string) => plans.findIndex((p) => p.slug === slug);
  const subscribedSlug = user.subscription_tier as PlanSlug;
  let effective = plans.find((p) => p.slug === subscribedSlug);
  if (!effective) throw new Error(`user ${userId} has tier ${subscribedSlug}, which has no seeded plan`);
  for (const grant of grants) {
    const tier = grant.tier_override ?? (grant.grant_type === 'full_access' ? 'enterprise' : null);
    const granted = tier === null ? undefined : plans.find((p) => p.slug === tier);
    if (granted && rank(granted.slug) > rank(effective.slug)) effective = granted;
  }

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
