import { join } from 'node:path';
import pg from 'pg';
import { ConfigError, type Config } from '../config';
import { startEmbeddedPostgres } from './embedded-postgres';
import { stopStalePostgres } from './pid-files';

export interface ResolvedPostgres {
  databaseUrl: string;
  embedded: boolean;
  /** The embedded postmaster's pid. */
  pid?: number;
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

/** Resolves when PostgreSQL answers; rejects with a one-line reason otherwise. */
export async function pingDb(connectionString: string, timeoutMs = 5000): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * DATABASE_URL when set (must answer), else embedded PostgreSQL under DATA_DIR/pg with fsync on.
 * A server a crashed start left running on that directory is stopped first: the caller owns DATA_DIR.
 */
export async function resolvePostgres(config: Config, log?: (line: string) => void): Promise<ResolvedPostgres> {
  if (config.DATABASE_URL) {
    try {
      await pingDb(config.DATABASE_URL);
    } catch (err) {
      throw new ConfigError(`PostgreSQL unreachable at DATABASE_URL: ${(err as Error).message}`);
    }
    return { databaseUrl: config.DATABASE_URL, embedded: false, stop: async () => undefined };
  }
  const dir = join(config.dataDir, 'pg');
  await stopStalePostgres(dir);
  const server = await startEmbeddedPostgres(dir, config.PG_PORT, { log, durable: true });
  try {
    const databaseUrl = await ensureDatabase(server.url, APP_DATABASE);
    return { databaseUrl, embedded: true, pid: server.pid, stop: () => server.stop() };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
