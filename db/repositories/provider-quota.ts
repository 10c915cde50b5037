import { sql } from 'kysely';
import type { DbOrTx } from '../database';

export interface QuotaReservation {
  provider: string;
  projectKey: string;
  /** The provider's quota day, `YYYY-MM-DD` in the provider's reset time zone. */
  periodDate: string;
  units: number;
  budget: number;
}

export interface QuotaReservationResult {
  reserved: boolean;
  /** Units used in the period after this call (including the reservation when it succeeded). */
  unitsUsed: number;
}

/**
 * Reserves `units` of the period's budget in one statement: concurrent workers can never
 * together overspend, because the row lock serialises the `units_used + N <= budget` check.
 */
export async function reserveQuotaUnits(db: DbOrTx, r: QuotaReservation): Promise<QuotaReservationResult> {
  const { rows } = await sql<{ units_used: number }>`
    insert into provider_quota_usage (provider, project_key, period_date, units_used)
    select ${r.provider}, ${r.projectKey}, ${r.periodDate}::date, ${r.units}
    where ${r.units}::int <= ${r.budget}::int
    on conflict (provider, project_key, period_date) do update
      set units_used = provider_quota_usage.units_used + excluded.units_used
      where provider_quota_usage.units_used + excluded.units_used <= ${r.budget}::int
    returning units_used`.execute(db);
  if (rows[0]) return { reserved: true, unitsUsed: rows[0].units_used };
  return { reserved: false, unitsUsed: await quotaUnitsUsed(db, r) };
}

export async function quotaUnitsUsed(db: DbOrTx, key: Pick<QuotaReservation, 'provider' | 'projectKey' | 'periodDate'>): Promise<number> {
  const { rows } = await sql<{ units_used: number }>`
    select units_used from provider_quota_usage
    where provider = ${key.provider} and project_key = ${key.projectKey} and period_date = ${key.periodDate}::date`.execute(db);
  return rows[0]?.units_used ?? 0;
}

/**
 * Records that the provider itself reported the quota spent (our count drifted, or another
 * client shares the project): the rest of the period is treated as used up.
 */
export async function markQuotaExhausted(
  db: DbOrTx,
  key: Pick<QuotaReservation, 'provider' | 'projectKey' | 'periodDate' | 'budget'>,
): Promise<void> {
  await sql`
    insert into provider_quota_usage (provider, project_key, period_date, units_used)
    values (${key.provider}, ${key.projectKey}, ${key.periodDate}::date, ${key.budget}::int)
    on conflict (provider, project_key, period_date) do update
      set units_used = greatest(provider_quota_usage.units_used, excluded.units_used)`.execute(db);
}
