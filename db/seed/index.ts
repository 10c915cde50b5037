import type { Db } from '../database';

/** Idempotent reference data (plans, content types, prompts, thumbnail styles...): safe to run on every start. */
export async function seedReferenceData(_db: Db): Promise<void> {
  // Filled by the data layer: each seed upserts by natural key.
}
