import { sql } from 'kysely';
import type { Db } from '../database';
import { seedContentTypes } from './content-types';
import { seedCreditPacks } from './credit-packs';
import { seedPlans } from './plans';
import { seedThumbnailReferenceData } from './thumbnails';

/** Arbitrary constant: processes starting together (API and worker) seed one after the other. */
const SEED_LOCK_KEY = 7_240_311;

/**
 * Idempotent reference data (plans with features and prices, credit packs, content types and prompts, thumbnail
 * styles/expressions/categories/tier limits): every row is upserted by its natural key, so this
 * runs on every start. All or nothing, in one transaction.
 */
export async function seedReferenceData(db: Db): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${SEED_LOCK_KEY})`.execute(tx);
    await seedPlans(tx);
    await seedCreditPacks(tx);
    await seedContentTypes(tx);
    await seedThumbnailReferenceData(tx);
  });
}
