import { sql, type Kysely } from 'kysely';

/** Adds created_at/updated_at and a trigger keeping updated_at current. */
export async function addTimestamps(db: Kysely<unknown>, table: string): Promise<void> {
  await sql`alter table ${sql.table(table)}
      add column created_at timestamptz not null default now(),
      add column updated_at timestamptz not null default now()`.execute(db);
  await sql`create trigger ${sql.raw(`${table}_touch_updated_at`)} before update on ${sql.table(table)}
      for each row execute function touch_updated_at()`.execute(db);
}

/** `check (column in (...))` for a status/enum column. */
export function checkIn(column: string, values: readonly string[]) {
  return sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}
