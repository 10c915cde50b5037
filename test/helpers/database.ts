import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Db } from '../../db/database';
import { migrateToLatest } from '../../db/migrate';
import { seedReferenceData } from '../../db/seed';
import { ensureDatabase } from '../../lib/runtime/postgres';
import { sharedStack, stackValue, type TestStack } from './stack-env';

export interface TestDatabase {
  db: Db;
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function adminQuery(sqlText: string, serverUrl = stackValue('pgServerUrl')): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

/** Creates `name` on the server, migrated and seeded: the template each test file's database is cloned from. */
export async function createTemplateDatabase(pgServerUrl: string, name: string): Promise<void> {
  const db = createDb(await ensureDatabase(pgServerUrl, name), 2);
  try {
    await migrateToLatest(db);
    await seedReferenceData(db);
  } finally {
    await db.destroy();
  }
}

/** A fresh, migrated database for one test file (a clone of the stack's migrated template). */
export async function createTestDatabase(
  { pgServerUrl, templateDb }: Pick<TestStack, 'pgServerUrl' | 'templateDb'> = sharedStack(),
): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name} template ${templateDb}`, pgServerUrl);
  const url = new URL(pgServerUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 5);
  return {
    db,
    url: url.toString(),
    name,
    async drop() {
      await db.destroy();
      await adminQuery(`drop database if exists ${name} with (force)`, pgServerUrl);
    },
  };
}

/** An empty database (no migrations), for migration tests. */
export async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `e_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(stackValue('pgServerUrl'));
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`drop database if exists ${name} with (force)`) };
}
