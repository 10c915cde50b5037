import { databaseNow } from '../db/repositories/health';
import type { ActivityDeps } from './deps';

export function createSmokeActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** Reads the server clock from PostgreSQL so the smoke run proves the database path too. */
    async composeGreeting(name: string): Promise<string> {
      return `hello, ${name} (database time ${(await databaseNow(db)).toISOString()})`;
    },
  };
}

export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
