import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { GoogleService, OAuthStatePurpose, SocialPlatform } from '../types';

export async function insertOAuthState(
  db: DbOrTx,
  state: {
    userId: string;
    platform: SocialPlatform;
    purpose: OAuthStatePurpose;
    stateHash: string;
    redirectUri: string;
    expiresAt: Date;
    services?: GoogleService[];
  },
): Promise<void> {
  await db
    .insertInto('social_oauth_states')
    .values({
      user_id: state.userId,
      platform: state.platform,
      purpose: state.purpose,
      services: state.services ?? null,
      state_hash: state.stateHash,
      redirect_uri: state.redirectUri,
      expires_at: state.expiresAt,
    })
    .execute();
}

/**
 * Marks the caller's state used and returns it, in one statement: of two concurrent callbacks with
 * the same state exactly one gets the row. Unknown, someone else's, another flow's, used and
 * expired states give undefined.
 */
export async function consumeOAuthState(db: DbOrTx, userId: string, stateHash: string, purpose: OAuthStatePurpose) {
  return db
    .updateTable('social_oauth_states')
    .set({ used_at: sql`now()` })
    .where('state_hash', '=', stateHash)
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .returning(['platform', 'redirect_uri', 'services'])
    .executeTakeFirst();
}

/** Why a state was refused, for the error message. */
export async function findOAuthState(db: DbOrTx, userId: string, stateHash: string, purpose: OAuthStatePurpose) {
  return db
    .selectFrom('social_oauth_states')
    .select(['used_at', 'expires_at'])
    .where('state_hash', '=', stateHash)
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .executeTakeFirst();
}
