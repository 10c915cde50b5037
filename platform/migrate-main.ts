// `npm run migrate`: pending migrations and the reference data against DATABASE_URL, then exit
// (the api and worker do the same at start; a deploy can run it once before them).
import { createDb } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { seedReferenceData } from '../db/seed';
import { ConfigError, loadConfig } from '../lib/config';
import { runMain } from '../lib/runtime/main-runner';
import { pingDb } from '../lib/runtime/postgres';

runMain(async () => {
  const { DATABASE_URL } = loadConfig();
  if (!DATABASE_URL) throw new ConfigError('DATABASE_URL is required for `npm run migrate`');
  await pingDb(DATABASE_URL).catch((err: Error) => {
    throw new ConfigError(`PostgreSQL unreachable at DATABASE_URL: ${err.message}`);
  });
  const db = createDb(DATABASE_URL, 1);
  try {
    const applied = await migrateToLatest(db);
    await seedReferenceData(db);
    process.stdout.write(
      `migrations applied: ${applied.length ? applied.join(', ') : 'none (schema up to date)'}\nreference data seeded\n`,
    );
  } finally {
    await db.destroy();
  }
});
