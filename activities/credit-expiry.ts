import { dueCreditLots, expireCreditLot } from '../db/repositories/credits';
import type { ActivityDeps } from './deps';

/** Credit lots whose expiry has come, expired a page at a time (each lot in its own transaction). */
export function createCreditExpiryActivities({ db, logger }: Pick<ActivityDeps, 'db' | 'logger'>) {
  return {
    /**
     * Expires up to `limit` due lots: each leaves the balance as one 'expiry' ledger row, once
     * (a retried page finds the lots it already expired closed). `more` says another page is due.
     */
    async expireDueCreditLots(input: { limit: number }): Promise<{ expiredLots: number; expiredCredits: number; more: boolean }> {
      const now = new Date();
      const due = await dueCreditLots(db, now, input.limit);
      let expiredLots = 0;
      let expiredCredits = 0;
      for (const lotId of due) {
        const expired = await expireCreditLot(db, lotId, now);
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
