import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { ApiKey } from '../types';
import { countApiCalls, inTransaction } from './usage';

/**
 * Keys look like `cjp_<12 hex>_<43 base64url>`: the `cjp_<12 hex>` part is the public lookup
 * handle stored in key_prefix; only a SHA-256 of the whole key is stored. The secret part has
 * 256 bits of entropy, so a plain hash (no slow KDF) cannot be brute-forced.
 */
const KEY_PATTERN = /^(cjp_[0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export function generateApiKey(): string {
  return `cjp_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(plaintext: string): string {
  return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}

/**
 * The lookup handle of a presented key. Operator-chosen keys (DEV_API_KEY may be any string)
 * get a handle derived from their hash, so every key is found with one indexed lookup.
 */
export function apiKeyLookupPrefix(plaintext: string): string {
  return KEY_PATTERN.exec(plaintext)?.[1] ?? `h_${hashApiKey(plaintext).slice(0, 24)}`;
}

export function apiKeyHashMatches(plaintext: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(plaintext), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

export interface NewApiKeyInput {
  userId: string;
  name: string;
  scopes: readonly string[];
  expiresAt?: Date | null;
  rateLimit?: number | null;
  /** A chosen plaintext (dev seeds); a random key otherwise. */
  plaintext?: string;
}

/** Stores a key and returns its row plus the plaintext, which is never stored. */
export async function createApiKey(db: DbOrTx, input: NewApiKeyInput): Promise<{ key: ApiKey; plaintext: string }> {
  const plaintext = input.plaintext ?? generateApiKey();
  const key = await db
    .insertInto('api_keys')
    .values({
      user_id: input.userId,
      name: input.name,
      key_prefix: apiKeyLookupPrefix(plaintext),
      key_hash: hashApiKey(plaintext),
      scopes: sql<string[]>`${sql.val([...input.scopes])}::text[]`,
      expires_at: input.expiresAt ?? null,
      rate_limit: input.rateLimit ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { key, plaintext };
}

/** Makes exactly this plaintext a live key of the user (dev seeds, run on every start). */
export async function ensureApiKey(db: DbOrTx, input: NewApiKeyInput & { plaintext: string }): Promise<ApiKey> {
  return db
    .insertInto('api_keys')
    .values({
      user_id: input.userId,
      name: input.name,
      key_prefix: apiKeyLookupPrefix(input.plaintext),
      key_hash: hashApiKey(input.plaintext),
      scopes: sql<string[]>`${sql.val([...input.scopes])}::text[]`,
    })
    .onConflict((oc) =>
      oc.column('key_prefix').doUpdateSet((eb) => ({
        user_id: eb.ref('excluded.user_id'),
        key_hash: eb.ref('excluded.key_hash'),
        scopes: eb.ref('excluded.scopes'),
        revoked_at: null,
        expires_at: null,
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface ApiKeyOwner {
  key: ApiKey;
  role: 'user' | 'admin';
  plan: string;
  userStatus: string;
}

const keysWithOwner = (db: DbOrTx) =>
  db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .selectAll('api_keys')
    .select(['users.role as owner_role', 'users.subscription_tier as owner_plan', 'users.status as owner_status']);

type KeyWithOwnerRow = NonNullable<Awaited<ReturnType<ReturnType<typeof keysWithOwner>['executeTakeFirst']>>>;

function liveOwner(row: KeyWithOwnerRow | undefined, now: Date): ApiKeyOwner | undefined {
  if (!row || row.revoked_at || (row.expires_at && row.expires_at <= now) || row.owner_status !== 'active') return undefined;
  const { owner_role, owner_plan, owner_status, ...key } = row;
  return { key, role: owner_role, plan: owner_plan, userStatus: owner_status };
}

/** The live key matching the plaintext, with its owner; undefined for unknown, revoked or expired keys. */
export async function findLiveApiKey(db: DbOrTx, plaintext: string, now = new Date()): Promise<ApiKeyOwner | undefined> {
  const row = await keysWithOwner(db).where('api_keys.key_prefix', '=', apiKeyLookupPrefix(plaintext)).executeTakeFirst();
  if (!row || !apiKeyHashMatches(plaintext, row.key_hash)) return undefined;
  return liveOwner(row, now);
}

/** Same checks as findLiveApiKey, by id (short-lived stream tokens name the key they came from). */
export async function findLiveApiKeyById(db: DbOrTx, id: string, now = new Date()): Promise<ApiKeyOwner | undefined> {
  return liveOwner(await keysWithOwner(db).where('api_keys.id', '=', id).executeTakeFirst(), now);
}

/**
 * Adds `uses` to the key's usage counter and stamps last_used_at (the API batches uses per key),
 * and the same calls to its owner's api_calls_made of the period, in one transaction.
 */
export async function recordApiKeyUse(db: DbOrTx, id: string, uses = 1): Promise<void> {
  await inTransaction(db, async (tx) => {
    const key = await tx
      .updateTable('api_keys')
      .set({ last_used_at: sql`now()`, usage_count: sql`usage_count + ${uses}` })
      .where('id', '=', id)
      .returning('user_id')
      .executeTakeFirst();
    if (key) await countApiCalls(tx, key.user_id, uses);
  });
}

/**
 * The user's live keys, counted under a lock on the user row: inside a transaction, concurrent
 * key creations of one user wait for each other, so a per-user cap cannot be raced past.
 */
export async function countLiveApiKeysLocked(db: DbOrTx, userId: string): Promise<number> {
  await db.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
  const { count } = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .executeTakeFirstOrThrow();
  return Number(count);
}

export async function listApiKeys(db: DbOrTx, userId: string): Promise<ApiKey[]> {
  return db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id').execute();
}

/** Revokes the user's key; false when the id is not one of the user's keys. */
export async function revokeApiKey(db: DbOrTx, userId: string, id: string): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: sql`coalesce(revoked_at, now())` })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
