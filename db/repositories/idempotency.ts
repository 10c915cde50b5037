import type { Selectable } from 'kysely';
import type { DbOrTx } from '../database';
import type { IdempotencyKeysTable } from '../types';

/** Claims (user, key) for a request with this body fingerprint; false when the key is already taken. */
export async function claimIdempotencyKey(db: DbOrTx, userId: string, key: string, requestHash: string): Promise<boolean> {
  const claimed = await db
    .insertInto('idempotency_keys')
    .values({ user_id: userId, key, request_hash: requestHash })
    .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  return claimed !== undefined;
}

/** The claimed key's row: its body fingerprint and, once the first request finished, its response. */
export async function getIdempotencyKey(db: DbOrTx, userId: string, key: string): Promise<Selectable<IdempotencyKeysTable>> {
  return db.selectFrom('idempotency_keys').selectAll().where('user_id', '=', userId).where('key', '=', key).executeTakeFirstOrThrow();
}

/** Gives the key back (the request failed), so the client may retry with it. */
export async function releaseIdempotencyKey(db: DbOrTx, userId: string, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('user_id', '=', userId).where('key', '=', key).execute();
}

/** Stores the response every retry with the key gets. */
export async function storeIdempotentResponse(
  db: DbOrTx,
  userId: string,
  key: string,
  response: { status: number; body: unknown },
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ response_status: response.status, response_body: JSON.stringify(response.body) })
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .execute();
}
