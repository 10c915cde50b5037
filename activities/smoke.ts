import { sql } from 'kysely';
import type { ActivityDeps } from './deps';

export function createSmokeActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** Reads the server clock from PostgreSQL so the smoke run proves the database path too. */
    async composeGreeting(name: string): Promise<string> {
      const { rows } = await sql<{ now: Date }>`select now() as now`.execute(db);
      return `hello, ${name} (database time ${rows[0]?.now.toISOString()})`;
    },
  };
}

export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
