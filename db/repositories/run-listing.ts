import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { JobRun, RunStatus } from '../types';

/** The run if it belongs to the user; someone else's run is indistinguishable from a missing one. */
export async function findUserRun(db: DbOrTx, userId: string, id: string): Promise<JobRun | undefined> {
  return db.selectFrom('job_runs').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

export interface RunListFilter {
  type?: string;
  status?: RunStatus;
  /** Position after which to continue: the last row of the previous page. */
  after?: { startedAt: string; id: string };
  limit: number;
}

export type ListedRun = JobRun & { started_at_exact: string };

/**
 * The user's runs, newest first, keyset-paginated on (started_at, id). `started_at_exact` keeps
 * the microseconds a JS Date would drop, so a cursor built from it never skips or repeats a row.
 */
export async function listUserRuns(db: DbOrTx, userId: string, filter: RunListFilter): Promise<ListedRun[]> {
  let query = db
    .selectFrom('job_runs')
    .selectAll()
    .select(sql<string>`to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('started_at_exact'))
    .where('user_id', '=', userId);
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.after) {
    const { startedAt, id } = filter.after;
    query = query.where(sql<boolean>`(started_at, id) < (${startedAt}::timestamptz, ${id})`);
  }
  return query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

/** The user's running runs that hold a concurrency slot: long-lived ones (posts, subscriptions) never do. */
export async function listSlotHoldingRunIds(db: DbOrTx, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('job_runs')
    .select('id')
    .where('user_id', '=', userId)
    .where('status', '=', 'running')
    .where('long_lived', '=', false)
    .execute();
  return rows.map((r) => r.id);
}

/** Serialises run starts of one user inside a transaction, so two requests cannot both pass the cap. */
export async function lockUserRunStarts(tx: DbOrTx, userId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`run-starts:${userId}`}))`.execute(tx);
}
