import { dueCreditLots, expireCreditLot } from '../db/repositories/credits';
import { emitCreditsLowOnCrossing } from './credits';
import type { ActivityDeps } from './deps';
import { inTransactionWithEvents } from './webhook-events';

/** Credit lots whose expiry has come, expired a page at a time (each lot in its own transaction). */
export function createCreditExpiryActivities(deps: Pick<ActivityDeps, 'db' | 'logger' | 'webhookDispatch'>) {
  const { db, logger } = deps;
  return {
    /**
     * Expires up to `limit` due lots: each leaves the balance as one 'expiry' ledger row, once
     * (a retried page finds the lots it already expired closed), with credits.low in the same
     * transaction when it takes the balance below the threshold. `more` says another page is due.
     */
    async expireDueCreditLots(input: { limit: number }): Promise<{ expiredLots: number; expiredCredits: number; more: boolean }> {
      const now = new Date();
      const due = await dueCreditLots(db, now, input.limit);
      let expiredLots = 0;
      let expiredCredits = 0;
      for (const lotId of due) {
        const expired = await inTransactionWithEvents(deps, async (tx, emit) => {
          const expired = await expireCreditLot(tx, lotId, now);
          if (expired?.applied && expired.amount > 0)
            await emitCreditsLowOnCrossing(tx, emit, {
              userId: expired.userId,
              balanceBefore: expired.balanceAfter + expired.amount,
              balanceAfter: expired.balanceAfter,
              debitKey: `credit_expiry:${lotId}`,
              cause: 'expiry',
              reason: `${expired.amount} credits expired`,
            });
          return expired;
        });
        if (!expired?.applied) continue;
        expiredLots += 1;
        expiredCredits += expired.amount;
      }
      if (expiredLots > 0) logger.info({ expiredLots, expiredCredits }, 'credits expired');
      return { expiredLots, expiredCredits, more: due.length === input.limit };
    },
  };
}

export type CreditExpiryActivities = ReturnType<typeof createCreditExpiryActivities>;
