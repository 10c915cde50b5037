import type { Db } from '../db/database';
import { findLiveApiKey, hashApiKey, recordApiKeyUse, type ApiKeyOwner } from '../db/repositories/api-keys';

/**
 * How long a looked-up key is trusted without asking PostgreSQL again. A key revoked through this
 * API process is forgotten at once; revoked elsewhere (another API replica, SQL), or its owner
 * suspended or demoted, it keeps working here for at most this long.
 */
export const API_KEY_CACHE_TTL_MS = 5_000;
/** How long a key's usage counter may lag: uses are added up in memory and written once per key per interval. */
export const API_KEY_USAGE_FLUSH_MS = 5_000;
/** Cached keys per process; past it the cache starts over (only live keys are cached, so guessing cannot fill it). */
const MAX_CACHED_KEYS = 10_000;

/**
 * The API-key hot path of one API process: live keys cached briefly by the SHA-256 of their
 * plaintext, and usage counted in memory and written in batches, so an authenticated GET costs no
 * PostgreSQL round trip in the common case (issue 26, B8).
 */
export class ApiKeyLookups {
  private readonly cached = new Map<string, { owner: ApiKeyOwner; until: number }>();
  private readonly pendingUses = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db) {}

  /** The live key and its owner; undefined for unknown, revoked or expired keys. */
  async find(plaintext: string): Promise<ApiKeyOwner | undefined> {
    const hash = hashApiKey(plaintext);
    const now = Date.now();
    const hit = this.cached.get(hash);
    if (hit && hit.until > now) return hit.owner;
    const owner = await findLiveApiKey(this.db, plaintext);
    if (!owner) {
      this.cached.delete(hash);
      return undefined;
    }
    if (this.cached.size >= MAX_CACHED_KEYS) this.cached.clear();
    // An expiring key leaves the cache when it expires.
    const expiresAt = owner.key.expires_at?.getTime() ?? Infinity;
    this.cached.set(hash, { owner, until: Math.min(now + API_KEY_CACHE_TTL_MS, expiresAt) });
    return owner;
  }

  /** Drops a key from the cache (it was revoked through this process). */
  forget(keyId: string): void {
    for (const [hash, entry] of this.cached) if (entry.owner.key.id === keyId) this.cached.delete(hash);
  }

  /** Counts one use of the key; the counter and last_used_at are written within API_KEY_USAGE_FLUSH_MS. */
  recordUse(keyId: string): void {
    this.pendingUses.set(keyId, (this.pendingUses.get(keyId) ?? 0) + 1);
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(), API_KEY_USAGE_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Writes the counted uses now (also on a timer). A failed write drops those counts: usage is informational. */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const uses = [...this.pendingUses];
    this.pendingUses.clear();
    await Promise.all(uses.map(([keyId, count]) => recordApiKeyUse(this.db, keyId, count).catch(() => undefined)));
  }
}

const perDb = new WeakMap<Db, ApiKeyLookups>();

/** The process's lookups for this database (one per app: authenticate and the revoke route share it). */
export function apiKeyLookupsOf(db: Db): ApiKeyLookups {
  let lookups = perDb.get(db);
  if (!lookups) perDb.set(db, (lookups = new ApiKeyLookups(db)));
  return lookups;
}
