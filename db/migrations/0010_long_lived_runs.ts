import type { Kysely } from 'kysely';

/**
 * Runs that live for days (scheduled posts, subscriptions) are listed with the user's other runs
 * but never take one of the plan's concurrent-job slots.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('job_runs')
    .addColumn('long_lived', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
