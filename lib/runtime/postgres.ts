import { join } from 'node:path';
import pg from 'pg';
import { pingDb } from '../../db/database';
import { ConfigError, type Config } from '../config';
import { startEmbeddedPostgres } from './embedded-postgres';

export interface ResolvedPostgres {
  databaseUrl: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export const APP_DATABASE = 'platform';

/** Creates `name` on the server unless it exists (CREATE DATABASE has no IF NOT EXISTS). */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** DATABASE_URL when set (must answer), else embedded PostgreSQL under DATA_DIR/pg. */
export async function resolvePostgres(config: Config, log?: (line: string) => void): Promise<ResolvedPostgres> {
  if (config.DATABASE_URL) {
    try {
      await pingDb(config.DATABASE_URL);
    } catch (err) {
      throw new ConfigError(`PostgreSQL unreachable at DATABASE_URL: ${(err as Error).message}`);
    }
    return { databaseUrl: config.DATABASE_URL, embedded: false, stop: async () => undefined };
  }
  const server = await startEmbeddedPostgres(join(config.dataDir, 'pg'), config.PG_PORT, log);
  try {
    const databaseUrl = await ensureDatabase(server.url, APP_DATABASE);
    return { databaseUrl, embedded: true, stop: () => server.stop() };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
