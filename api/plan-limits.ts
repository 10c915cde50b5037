import { sql } from 'kysely';
import type { DbOrTx } from '../db/database';

export interface PlanLimits {
  plan: string;
  /** Requests per minute per API key (a key's own rate_limit may only lower it). */
  apiRateLimitPerMinute: number;
  /** Runs of one user that may be `running` at once. */
  maxConcurrentJobs: number;
  /** Runs start with a higher Temporal priority. */
  priorityProcessing: boolean;
}

/**
 * Used when the plan tables are absent or have no row for the tier. The data layer's
 * subscription_plan_features (joined through subscription_plans.slug = users.subscription_tier)
 * is the source of truth once seeded.
 */
export const FALLBACK_PLAN_LIMITS: Record<string, Omit<PlanLimits, 'plan'>> = {
  free: { apiRateLimitPerMinute: 60, maxConcurrentJobs: 2, priorityProcessing: false },
  basic: { apiRateLimitPerMinute: 120, maxConcurrentJobs: 3, priorityProcessing: false },
  premium: { apiRateLimitPerMinute: 300, maxConcurrentJobs: 5, priorityProcessing: true },
  creator: { apiRateLimitPerMinute: 300, maxConcurrentJobs: 5, priorityProcessing: true },
  enterprise: { apiRateLimitPerMinute: 1200, maxConcurrentJobs: 20, priorityProcessing: true },
};

const UNDEFINED_TABLE = '42P01';
const UNDEFINED_COLUMN = '42703';

interface PlanFeaturesRow {
  api_rate_limit_per_minute: number | null;
  max_concurrent_jobs: number | null;
  priority_processing: boolean | null;
}

/** The user's plan limits: plan features from PostgreSQL when present, the fallback table otherwise. */
export async function getPlanLimits(db: DbOrTx, userId: string): Promise<PlanLimits> {
  const user = await db.selectFrom('users').select('subscription_tier').where('id', '=', userId).executeTakeFirst();
  const plan = user?.subscription_tier ?? 'free';
  const fallback = FALLBACK_PLAN_LIMITS[plan] ?? FALLBACK_PLAN_LIMITS.free!;
  let features: PlanFeaturesRow | undefined;
  try {
    const { rows } = await sql<PlanFeaturesRow>`
      select f.api_rate_limit_per_minute, f.max_concurrent_jobs, f.priority_processing
      from subscription_plans p join subscription_plan_features f on f.plan_id = p.id
      where p.slug = ${plan} limit 1`.execute(db);
    features = rows[0];
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== UNDEFINED_TABLE && code !== UNDEFINED_COLUMN) throw err;
  }
  return {
    plan,
    apiRateLimitPerMinute: features?.api_rate_limit_per_minute ?? fallback.apiRateLimitPerMinute,
    maxConcurrentJobs: features?.max_concurrent_jobs ?? fallback.maxConcurrentJobs,
    priorityProcessing: features?.priority_processing ?? fallback.priorityProcessing,
  };
}
