import { sql, type Kysely } from 'kysely';
import { addTimestamps } from './helpers';

/**
 * One-time credit packs: what each Stripe price buys. A paid top-up checkout grants the credits of
 * the prices Stripe says were sold, never a number carried in the event or its metadata.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('credit_packs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slug', 'varchar(50)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('credits', 'integer', (c) => c.notNull().check(sql`credits > 0`))
    .addColumn('stripe_price_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('amount_cents', 'integer', (c) => c.notNull().check(sql`amount_cents >= 0`))
    .addColumn('currency', 'varchar(3)', (c) => c.notNull().defaultTo('usd'))
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
  await addTimestamps(db, 'credit_packs');
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
