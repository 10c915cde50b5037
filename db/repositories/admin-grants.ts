import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { AdminGrantType } from '../types';
import type { PlanSlug } from '../../schemas/billing';

export interface NewAdminGrant {
  userId: string;
  grantedById: string | null;
  grantType: AdminGrantType;
  tierOverride: Exclude<PlanSlug, 'free'> | null;
  videoLimitOverride: number | null;
  reason: string;
  expiresAt: Date | null;
}

export async function insertAdminGrant(db: DbOrTx, grant: NewAdminGrant) {
  return db
    .insertInto('admin_subscription_grants')
    .values({
      user_id: grant.userId,
      granted_by_id: grant.grantedById,
      grant_type: grant.grantType,
      tier_override: grant.tierOverride,
      video_limit_override: grant.videoLimitOverride,
      reason: grant.reason,
      expires_at: grant.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAdminGrant(db: DbOrTx, grantId: string) {
  return db.selectFrom('admin_subscription_grants').selectAll().where('id', '=', grantId).executeTakeFirst();
}

/** Ends an active grant (revoked_at set when an admin ended it early); false when it had already ended. */
export async function deactivateAdminGrant(db: DbOrTx, grantId: string, revoked: boolean): Promise<boolean> {
  const result = await db
    .updateTable('admin_subscription_grants')
    .set({ is_active: false, revoked_at: revoked ? sql`now()` : null, updated_at: sql`now()` })
    .where('id', '=', grantId)
    .where('is_active', '=', true)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
