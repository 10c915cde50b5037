import type { DbOrTx } from '../database';

export interface CancellationLogWrite {
  cleanupId: string;
  userId: string;
  stripeSubscriptionId: string;
  /** Why access ended, e.g. `subscription canceled`. */
  reason: string;
  results: Record<string, unknown>;
}

/** One row per clean-up run (cleanup_id): a retried activity leaves the first row as it is. */
export async function insertCancellationLog(db: DbOrTx, log: CancellationLogWrite): Promise<void> {
  await db
    .insertInto('cancellation_logs')
    .values((eb) => ({
      user_id: log.userId,
      cleanup_id: log.cleanupId,
      stripe_subscription_id: log.stripeSubscriptionId,
      email: eb.selectFrom('users').select('email').where('id', '=', log.userId),
      reason: log.reason,
      cleanup_results: JSON.stringify(log.results),
    }))
    .onConflict((oc) => oc.column('cleanup_id').doNothing())
    .execute();
}

export async function listCancellationLogs(db: DbOrTx, userId: string) {
  return db.selectFrom('cancellation_logs').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}
