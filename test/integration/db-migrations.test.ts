import { sql } from 'kysely';
import { createDb, type Db } from '../../db/database';
import { migrateToLatest } from '../../db/migrate';
import { migrations } from '../../db/migrations';
import { seedReferenceData } from '../../db/seed';
import { CONTENT_TYPE_SEEDS } from '../../db/seed/content-types';
import { CREDIT_PACK_SEEDS } from '../../db/seed/credit-packs';
import { PLAN_SEEDS } from '../../db/seed/plans';
import { THUMBNAIL_CATEGORY_SEEDS, THUMBNAIL_EXPRESSION_SEEDS, THUMBNAIL_STYLE_SEEDS } from '../../db/seed/thumbnails';
import { createEmptyDatabase } from '../helpers/database';

const SEEDED_TABLES = [
  'subscription_plans',
  'subscription_plan_features',
  'subscription_plan_prices',
  'credit_packs',
  'content_types',
  'ai_prompts',
  'thumbnail_styles',
  'thumbnail_expressions',
  'thumbnail_content_categories',
  'thumbnail_tier_limits',
] as const;

async function rowCounts(db: Db): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of SEEDED_TABLES) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db);
    counts[table] = rows[0]!.n;
  }
  return counts;
}

describe('migrations and reference seeds on an empty database', () => {
  let empty: Awaited<ReturnType<typeof createEmptyDatabase>>;
  let db: Db;
  beforeAll(async () => {
    empty = await createEmptyDatabase();
    db = createDb(empty.url, 2);
  });
  afterAll(async () => {
    await db?.destroy();
    await empty?.drop();
  });

  it('applies every migration once; a second run applies nothing and fails nothing', async () => {
    expect(await migrateToLatest(db)).toEqual(Object.keys(migrations));
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('seeds twice without error or duplicate rows, with the expected reference data', async () => {
    await seedReferenceData(db);
    const first = await rowCounts(db);
    await seedReferenceData(db);
    expect(await rowCounts(db)).toEqual(first);

    const paidPlans = PLAN_SEEDS.filter((p) => p.monthlyCents !== null).length;
    expect(first).toEqual({
      subscription_plans: 5,
      subscription_plan_features: 5,
      subscription_plan_prices: paidPlans * 2,
      credit_packs: CREDIT_PACK_SEEDS.length,
      content_types: 17,
      ai_prompts: CONTENT_TYPE_SEEDS.filter((t) => t.prompt).length,
      thumbnail_styles: THUMBNAIL_STYLE_SEEDS.length,
      thumbnail_expressions: THUMBNAIL_EXPRESSION_SEEDS.length,
      thumbnail_content_categories: THUMBNAIL_CATEGORY_SEEDS.length,
      thumbnail_tier_limits: 5,
    });
  });

  it('seeds the five plans with a placeholder Stripe price per paid plan and period', async () => {
    const plans = await db.selectFrom('subscription_plans').select('slug').orderBy('sort_order').execute();
    expect(plans.map((p) => p.slug)).toEqual(['free', 'basic', 'premium', 'creator', 'enterprise']);
    const prices = await db.selectFrom('subscription_plan_prices').select('stripe_price_id').orderBy('stripe_price_id').execute();
    expect(prices.map((p) => p.stripe_price_id)).toContain('price_sandbox_basic_monthly');
    expect(prices.map((p) => p.stripe_price_id)).toContain('price_sandbox_enterprise_yearly');
  });

  it('names only existing content types in plan features, and every AI content type has one active prompt', async () => {
    const keys = new Set((await db.selectFrom('content_types').select('key').execute()).map((r) => r.key));
    const features = await db.selectFrom('subscription_plan_features').select('allowed_content_types').execute();
    for (const f of features) for (const key of f.allowed_content_types) expect(keys).toContain(key);

    const { rows } = await sql<{ key: string; prompts: number }>`
      select t.key, count(p.id)::int as prompts from content_types t
      left join ai_prompts p on p.content_type_id = t.id and p.is_active
      where t.requires_ai group by t.key`.execute(db);
    expect(rows).toHaveLength(16);
    for (const row of rows) expect(row).toEqual({ key: row.key, prompts: 1 });
  });

  it('leaves a price changed after seeding alone on the next seed (prices are business data)', async () => {
    await db
      .updateTable('subscription_plan_prices')
      .set({ amount_cents: 2500 })
      .where('stripe_price_id', '=', 'price_sandbox_basic_monthly')
      .execute();
    await seedReferenceData(db);
    const price = await db
      .selectFrom('subscription_plan_prices')
      .select('amount_cents')
      .where('stripe_price_id', '=', 'price_sandbox_basic_monthly')
      .executeTakeFirstOrThrow();
    expect(price.amount_cents).toBe(2500);
  });
});
