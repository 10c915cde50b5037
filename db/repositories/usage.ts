import { sql } from 'kysely';
import type { DbOrTx, Tx } from '../database';
import type { UsageKind } from '../types';
import { getPlanForUser } from './plans';

/**
 * The user's usage row covering `now`: the subscription's current period, else the calendar month
 * (UTC); created with the plan's video limit snapshot when missing.
 */
export async function currentUsageRow(db: DbOrTx, userId: string, limit: number | null, now: Date): Promise<string> {
  const covering = await db
    .selectFrom('subscription_usage')
    .select('id')
    .where('user_id', '=', userId)
    .where('period_start', '<=', now)
    .where('period_end', '>', now)
    .orderBy('period_start', 'desc')
    .executeTakeFirst();
  if (covering) return covering.id;
  const subscription = await db
    .selectFrom('user_subscriptions')
    .select(['id', 'current_period_start', 'current_period_end'])
    .where('user_id', '=', userId)
    .where('status', 'in', ['active', 'trialing', 'past_due'])
    .where('current_period_start', '<=', now)
    .where('current_period_end', '>', now)
    .orderBy('current_period_start', 'desc')
    .executeTakeFirst();
  const periodStart = subscription?.current_period_start ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const periodEnd = subscription?.current_period_end ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  await db
    .insertInto('subscription_usage')
    .values({
      user_id: userId,
      user_subscription_id: subscription?.id ?? null,
      period_start: periodStart,
      period_end: periodEnd,
      usage_limit: limit,
    })
    .onConflict((oc) => oc.columns(['user_id', 'period_start']).doNothing())
    .execute();
  const row = await db
    .selectFrom('subscription_usage')
    .select('id')
    .where('user_id', '=', userId)
    .where('period_start', '=', periodStart)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Runs `work` in the caller's transaction, or in a new one. */
export const inTransaction = <T>(db: DbOrTx, work: (tx: Tx) => Promise<T>): Promise<T> =>
  db.isTransaction ? work(db as Tx) : db.transaction().execute(work);

/** The usage row covering `now`, created when missing (its video limit from the user's plan then). */
async function usagePeriodRow(db: DbOrTx, userId: string, now: Date): Promise<{ id: string; period_start: Date; period_end: Date }> {
  const covering = () =>
    db
      .selectFrom('subscription_usage')
      .select(['id', 'period_start', 'period_end'])
      .where('user_id', '=', userId)
      .where('period_start', '<=', now)
      .where('period_end', '>', now)
      .orderBy('period_start', 'desc')
      .executeTakeFirst();
  const found = await covering();
  if (found) return found;
  const plan = await getPlanForUser(db, userId, now);
  const id = await currentUsageRow(db, userId, plan?.features.videoLimit ?? null, now);
  return db.selectFrom('subscription_usage').select(['id', 'period_start', 'period_end']).where('id', '=', id).executeTakeFirstOrThrow();
}

/** subscription_usage counters kept by counted facts; storage is recomputed from the ledger (MB stored in the period). */
const COUNTER_OF: Partial<Record<UsageKind, 'content_generated' | 'clips_generated' | 'posts_published'>> = {
  content_generated: 'content_generated',
  clips_generated: 'clips_generated',
  posts_published: 'posts_published',
};

export interface UsageFact {
  userId: string;
  kind: UsageKind;
  /** Derived from the fact (`content:<videoContentId>`), so counting it again adds nothing. */
  factKey: string;
  quantity: number;
  runId?: string | null;
  now?: Date;
}

/**
 * Counts a fact once: its usage_events row is inserted if absent and, only then, the period's
 * subscription_usage counter moves. Call it in the transaction that records the fact itself.
 */
export async function countUsage(db: DbOrTx, fact: UsageFact): Promise<boolean> {
  const inserted = await db
    .insertInto('usage_events')
    .values({ user_id: fact.userId, kind: fact.kind, fact_key: fact.factKey, quantity: fact.quantity, run_id: fact.runId ?? null })
    .onConflict((oc) => oc.constraint('usage_events_kind_fact_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return false;
  const counter = COUNTER_OF[fact.kind];
  if (!counter && fact.kind !== 'storage_bytes') return true;
  const period = await usagePeriodRow(db, fact.userId, fact.now ?? new Date());
  if (counter) {
    await db
      .updateTable('subscription_usage')
      .set({ [counter]: sql`${sql.ref(counter)} + ${fact.quantity}` })
      .where('id', '=', period.id)
      .execute();
  } else {
    await db
      .updateTable('subscription_usage')
      .set({
        storage_used_mb: sql<number>`(select ceil(coalesce(sum(quantity), 0) / 1048576)::int from usage_events
          where user_id = ${fact.userId} and kind = 'storage_bytes'
            and created_at >= ${period.period_start} and created_at < ${period.period_end})`,
      })
      .where('id', '=', period.id)
      .execute();
  }
  return true;
}

/** Adds answered API requests to the period's api_calls_made (the API batches them per key). */
export async function countApiCalls(db: DbOrTx, userId: string, calls: number, now = new Date()): Promise<void> {
  const period = await usagePeriodRow(db, userId, now);
  await db
    .updateTable('subscription_usage')
    .set({ api_calls_made: sql`api_calls_made + ${calls}` })
    .where('id', '=', period.id)
    .execute();
}

export interface MeteredFact {
  kind: Extract<UsageKind, 'ffmpeg_cpu_seconds' | 'youtube_units' | 'storage_bytes'>;
  quantity: number;
  factKey: string;
}

/**
 * What one activity attempt metered (ffmpeg CPU, YouTube units, stored files), for the owner of
 * its workflow's job_runs row (runs without one — sweeps, grid children — are not a tenant's cost).
 */
export async function recordMeteredUsage(db: DbOrTx, runId: string, facts: MeteredFact[]): Promise<void> {
  await inTransaction(db, async (tx) => {
    const run = await tx.selectFrom('job_runs').select('user_id').where('id', '=', runId).executeTakeFirst();
    if (!run?.user_id) return;
    for (const fact of facts) await countUsage(tx, { userId: run.user_id, runId, ...fact });
  });
}

export interface PeriodCost {
  periodStart: Date;
  periodEnd: Date;
  counters: {
    videos_processed: number;
    content_generated: number;
    clips_generated: number;
    posts_published: number;
    api_calls_made: number;
    storage_used_mb: number;
    processing_minutes: number;
  };
  runs: { type: string; status: string; count: number }[];
  ai: { requests: number; inputTokens: number; outputTokens: number; tokens: number; costMicroUsd: number };
  metered: Record<MeteredFact['kind'], number>;
}

/** A tenant's usage in the period covering `now`: counters, runs started by type and status, AI spend, metered usage. */
export async function periodCostOf(db: DbOrTx, userId: string, now = new Date()): Promise<PeriodCost> {
  const period = await usagePeriodRow(db, userId, now);
  const from = period.period_start;
  const to = period.period_end;
  const [counters, runs, ai, metered] = await Promise.all([
    db
      .selectFrom('subscription_usage')
      .select([
        'videos_processed',
        'content_generated',
        'clips_generated',
        'posts_published',
        'api_calls_made',
        'storage_used_mb',
        sql<number>`processing_minutes::float8`.as('processing_minutes'),
      ])
      .where('id', '=', period.id)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('job_runs')
      .select(['type', 'status', sql<number>`count(*)::int`.as('count')])
      .where('user_id', '=', userId)
      .where('started_at', '>=', from)
      .where('started_at', '<', to)
      .groupBy(['type', 'status'])
      .orderBy('type')
      .orderBy('status')
      .execute(),
    db
      .selectFrom('ai_usage_analytics')
      .select([
        sql<number>`coalesce(sum(request_count), 0)::float8`.as('requests'),
        sql<number>`coalesce(sum(input_tokens), 0)::float8`.as('inputTokens'),
        sql<number>`coalesce(sum(output_tokens), 0)::float8`.as('outputTokens'),
        sql<number>`coalesce(sum(total_tokens), 0)::float8`.as('tokens'),
        sql<number>`coalesce(sum(cost_micro_usd), 0)::float8`.as('costMicroUsd'),
      ])
      .where('user_id', '=', userId)
      // Daily totals (UTC days) of the days the period covers.
      .where('date', '>=', sql<Date>`(${from}::timestamptz at time zone 'UTC')::date`)
      .where('date', '<', sql<Date>`(${to}::timestamptz at time zone 'UTC')::date`)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('usage_events')
      .select(['kind', sql<number>`sum(quantity)::float8`.as('quantity')])
      .where('user_id', '=', userId)
      .where('kind', 'in', ['ffmpeg_cpu_seconds', 'youtube_units', 'storage_bytes'])
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .groupBy('kind')
      .execute(),
  ]);
  const sums = { ffmpeg_cpu_seconds: 0, youtube_units: 0, storage_bytes: 0 };
  for (const row of metered) sums[row.kind as MeteredFact['kind']] = row.quantity;
  return { periodStart: from, periodEnd: to, counters, runs, ai, metered: sums };
}
