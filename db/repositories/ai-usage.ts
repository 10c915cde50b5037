import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { AiUsageAlertType } from '../types';

export interface AiUsageEntry {
  userId: string | null;
  runId: string | null;
  provider: string;
  model: string;
  operation: string;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  latencyMs: number;
  metadata?: Record<string, unknown>;
}

/**
 * One model call: its ai_usage_logs row and its share of the day's roll-up (ai_usage_analytics,
 * per UTC day, user, provider and model) in one statement, so caps never read a roll-up that
 * misses a logged call.
 */
export async function recordAiUsage(db: DbOrTx, entry: AiUsageEntry): Promise<void> {
  const metadata = entry.metadata === undefined ? null : JSON.stringify(entry.metadata);
  await sql`
    with logged as (
      insert into ai_usage_logs (user_id, run_id, provider, model, operation, input_tokens, output_tokens, cost_micro_usd, latency_ms, metadata)
      values (${entry.userId}, ${entry.runId}, ${entry.provider}, ${entry.model}, ${entry.operation}, ${entry.inputTokens},
              ${entry.outputTokens}, ${entry.costMicroUsd}, ${entry.latencyMs}, ${metadata}::jsonb)
      returning created_at, user_id, provider, model, input_tokens, output_tokens, cost_micro_usd
    )
    insert into ai_usage_analytics (date, user_id, provider, model, request_count, input_tokens, output_tokens, total_tokens, cost_micro_usd)
    select (created_at at time zone 'UTC')::date, user_id, provider, model, 1, input_tokens, output_tokens,
           input_tokens + output_tokens, cost_micro_usd
    from logged
    on conflict (date, user_id, provider, model) do update set
      request_count = ai_usage_analytics.request_count + 1,
      input_tokens = ai_usage_analytics.input_tokens + excluded.input_tokens,
      output_tokens = ai_usage_analytics.output_tokens + excluded.output_tokens,
      total_tokens = ai_usage_analytics.total_tokens + excluded.total_tokens,
      cost_micro_usd = ai_usage_analytics.cost_micro_usd + excluded.cost_micro_usd`.execute(db);
}

export interface AiSpend {
  /** UTC day `YYYY-MM-DD` and month `YYYY-MM` the totals cover. */
  day: string;
  month: string;
  tokensToday: number;
  costTodayMicroUsd: number;
  requestsToday: number;
  tokensThisMonth: number;
  costThisMonthMicroUsd: number;
  requestsThisMonth: number;
}

/** The user's AI spend of the UTC day and month containing `now`, from the roll-up. */
export async function aiSpendOf(db: DbOrTx, userId: string, now: Date): Promise<AiSpend> {
  const day = now.toISOString().slice(0, 10);
  const month = day.slice(0, 7);
  const row = await db
    .selectFrom('ai_usage_analytics')
    .select([
      sql<number>`coalesce(sum(total_tokens) filter (where date = ${day}::date), 0)::int8`.as('tokens_today'),
      sql<number>`coalesce(sum(cost_micro_usd) filter (where date = ${day}::date), 0)::int8`.as('cost_today'),
      sql<number>`coalesce(sum(request_count) filter (where date = ${day}::date), 0)::int8`.as('requests_today'),
      sql<number>`coalesce(sum(total_tokens), 0)::int8`.as('tokens_month'),
      sql<number>`coalesce(sum(cost_micro_usd), 0)::int8`.as('cost_month'),
      sql<number>`coalesce(sum(request_count), 0)::int8`.as('requests_month'),
    ])
    .where('user_id', '=', userId)
    .where('date', '>=', sql<Date>`${`${month}-01`}::date`)
    .where('date', '<=', sql<Date>`${day}::date`)
    .executeTakeFirstOrThrow();
  return {
    day,
    month,
    tokensToday: row.tokens_today,
    costTodayMicroUsd: row.cost_today,
    requestsToday: row.requests_today,
    tokensThisMonth: row.tokens_month,
    costThisMonthMicroUsd: row.cost_month,
    requestsThisMonth: row.requests_month,
  };
}

export interface NewAiUsageAlert {
  userId: string;
  alertType: AiUsageAlertType;
  thresholdPercent: 80 | 100;
  period: string;
  message: string;
  thresholdValue: number;
  actualValue: number;
}

/** Records the alert once per user, cap, threshold and period; a second crossing adds nothing. */
export async function recordAiUsageAlert(db: DbOrTx, alert: NewAiUsageAlert): Promise<void> {
  await db
    .insertInto('ai_usage_alerts')
    .values({
      user_id: alert.userId,
      alert_type: alert.alertType,
      threshold_percent: alert.thresholdPercent,
      period: alert.period,
      message: alert.message,
      threshold_value: alert.thresholdValue,
      actual_value: alert.actualValue,
    })
    .onConflict((oc) => oc.columns(['user_id', 'alert_type', 'threshold_percent', 'period']).doNothing())
    .execute();
}

/** Alerts of the user whose email has not gone out yet (a retried activity finds the one it recorded). */
export async function listUnsentAiUsageAlerts(db: DbOrTx, userId: string) {
  return db
    .selectFrom('ai_usage_alerts')
    .select(['id', 'alert_type', 'threshold_percent', 'period', 'message'])
    .where('user_id', '=', userId)
    .where('email_sent_at', 'is', null)
    .orderBy('created_at')
    .execute();
}

export async function markAiUsageAlertEmailed(db: DbOrTx, alertId: string): Promise<void> {
  await db.updateTable('ai_usage_alerts').set({ email_sent_at: new Date() }).where('id', '=', alertId).execute();
}

export async function listAiUsageAlerts(db: DbOrTx, userId: string, limit = 20) {
  return db
    .selectFrom('ai_usage_alerts')
    .select(['alert_type', 'threshold_percent', 'period', 'message', 'threshold_value', 'actual_value', 'email_sent_at', 'created_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}
