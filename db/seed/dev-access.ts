import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_SCOPES, USER_SCOPES } from '../../schemas/api-keys';
import type { Db } from '../database';
import { ensureApiKey, generateApiKey } from '../repositories/api-keys';
import { upsertUserByEmail } from '../repositories/users';

export const DEMO_USER_EMAIL = 'demo@creator-jobs.local';
export const DEV_ADMIN_EMAIL = 'admin@creator-jobs.local';
export const DEMO_KEY_FILE = 'demo-api-key';

/** The settings it reads (lib/config's Config has them; db/ does not import lib/). */
export interface DevAccessSettings {
  NODE_ENV: 'development' | 'test' | 'production';
  DEV_API_KEY?: string;
  DEV_ADMIN_KEY?: string;
  dataDir: string;
}

export interface DevAccess {
  /** The demo user's key, to print at start; undefined when no demo access was seeded. */
  demoApiKey?: string;
  demoKeySource?: 'DEV_API_KEY' | 'generated';
}

/** In development without DEV_API_KEY: one generated key, kept under DATA_DIR across restarts. */
function persistedDemoKey(dataDir: string): string {
  const file = join(dataDir, DEMO_KEY_FILE);
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (saved) return saved;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = generateApiKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/**
 * Seeds the demo user (creator plan) with DEV_API_KEY, or in development a generated key, and
 * the admin user with DEV_ADMIN_KEY when set. Idempotent: safe on every start.
 */
export async function seedDevAccess(db: Db, config: DevAccessSettings): Promise<DevAccess> {
  const access: DevAccess = {};
  const demoKey = config.DEV_API_KEY ?? (config.NODE_ENV === 'development' ? persistedDemoKey(config.dataDir) : undefined);
  if (demoKey) {
    const demo = await upsertUserByEmail(db, { email: DEMO_USER_EMAIL, plan: 'creator', role: 'user' });
    await ensureApiKey(db, { userId: demo.id, name: 'demo key', scopes: USER_SCOPES, plaintext: demoKey });
    access.demoApiKey = demoKey;
    access.demoKeySource = config.DEV_API_KEY ? 'DEV_API_KEY' : 'generated';
  }
  if (config.DEV_ADMIN_KEY) {
    const admin = await upsertUserByEmail(db, { email: DEV_ADMIN_EMAIL, plan: 'enterprise', role: 'admin' });
    await ensureApiKey(db, { userId: admin.id, name: 'dev admin key', scopes: ADMIN_SCOPES, plaintext: config.DEV_ADMIN_KEY });
  }
  return access;
}
