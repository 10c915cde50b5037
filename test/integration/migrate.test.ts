import { sql } from 'kysely';
import { createDb } from '../../db/database';
import { migrations } from '../../db/migrations';
import { PLAN_SEEDS } from '../../db/seed/plans';
import { freePort } from '../../lib/runtime/ports';
import { createEmptyDatabase } from '../helpers/database';
import { spawnTs } from '../helpers/processes';

/** `npm run migrate` as a real process: exit code and everything it printed. */
async function migrate(databaseUrl: string): Promise<{ code: number | string; output: string; errorLines: string[] }> {
  const proc = spawnTs('platform/migrate-main.ts', { DATABASE_URL: databaseUrl });
  const code = await proc.exited;
  const output = proc.output();
  return { code, output, errorLines: output.split('\n').filter((line) => line.startsWith('error:')) };
}

describe('npm run migrate', () => {
  let empty: Awaited<ReturnType<typeof createEmptyDatabase>>;
  beforeAll(async () => {
    empty = await createEmptyDatabase();
  });
  afterAll(async () => {
    await empty?.drop();
  });

  it('applies every migration and seeds the reference data on an empty database; a second run applies nothing', async () => {
    const first = await migrate(empty.url);
    expect(first).toMatchObject({ code: 0, errorLines: [] });
    expect(first.output).toContain(`migrations applied: ${Object.keys(migrations).join(', ')}\nreference data seeded\n`);

    const db = createDb(empty.url, 1);
    try {
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
      expect(applied.rows.map((r) => r.name)).toEqual(Object.keys(migrations));
      const plans = await db.selectFrom('subscription_plans').select('slug').execute();
      expect(plans.map((p) => p.slug).sort()).toEqual(PLAN_SEEDS.map((p) => p.slug).sort());
    } finally {
      await db.destroy();
    }

    const second = await migrate(empty.url);
    expect(second).toMatchObject({ code: 0, errorLines: [] });
    expect(second.output).toContain('migrations applied: none (schema up to date)\nreference data seeded\n');
  });

  it('prints one error line and exits 1 without DATABASE_URL', async () => {
    expect(await migrate('')).toMatchObject({ code: 1, errorLines: ['error: DATABASE_URL is required for `npm run migrate`'] });
  });

  it('prints one error line and exits 1 when DATABASE_URL does not answer', async () => {
    const closedPort = await freePort();
    const result = await migrate(`postgres://platform@127.0.0.1:${closedPort}/platform`);
    expect(result.code).toBe(1);
    expect(result.errorLines).toEqual([expect.stringMatching(/^error: PostgreSQL unreachable at DATABASE_URL: .*ECONNREFUSED/)]);
  });
});
