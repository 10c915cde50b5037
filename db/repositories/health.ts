import { sql } from 'kysely';
import type { DbOrTx } from '../database';

/** Resolves when PostgreSQL answers a query on this pool (readiness). */
export async function probeDatabase(db: DbOrTx): Promise<void> {
  await sql`select 1`.execute(db);
}

/** The database server's clock. */
export async function databaseNow(db: DbOrTx): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`select now() as now`.execute(db);
  return rows[0]!.now;
}
