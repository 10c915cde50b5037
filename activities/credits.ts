import { ApplicationFailure } from '@temporalio/common';
import {
  commitCreditReservation,
  CreditReservationError,
  InsufficientCreditsError,
  refundCreditReservation,
  reserveCredits,
  type CreditReservation,
} from '../db/repositories/credits';
import type { ActivityDeps } from './deps';

/** Ledger errors become non-retryable failures whose type names the cause (InsufficientCredits, NotFound, …). */
async function classified<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof InsufficientCreditsError)
      throw ApplicationFailure.nonRetryable(err.message, err.type, { balance: err.balance, requested: err.requested });
    if (err instanceof CreditReservationError) throw ApplicationFailure.nonRetryable(err.message, err.type);
    throw err;
  }
}

/**
 * Credits for other workflows: reserve before paid work, then commit when it succeeded or
 * refund when it failed. Every call is idempotent by reservationId, so a retried activity never
 * debits or refunds twice; each ledger row carries balance_after and the balance never goes
 * below zero (a reserve that would is InsufficientCredits, non-retryable).
 */
export function createCreditActivities(deps: ActivityDeps) {
  const { db, logger } = deps;
  return {
    async reserveCredits(input: { userId: string; amount: number; reservationId: string; reason: string }): Promise<CreditReservation> {
      const reservation = await classified(() => reserveCredits(db, input));
      if (reservation.applied)
        logger.info(
          { userId: input.userId, reservationId: input.reservationId, amount: input.amount, balance: reservation.balance },
          'credits reserved',
        );
      return reservation;
    },

    async commitCredits(input: { reservationId: string }): Promise<CreditReservation> {
      return classified(() => commitCreditReservation(db, input.reservationId));
    },

    async refundCredits(input: { reservationId: string; reason: string }): Promise<CreditReservation> {
      const reservation = await classified(() => refundCreditReservation(db, input.reservationId, input.reason));
      if (reservation.applied)
        logger.info({ userId: reservation.userId, reservationId: input.reservationId, amount: reservation.amount }, 'credits refunded');
      return reservation;
    },
  };
}

export type CreditActivities = ReturnType<typeof createCreditActivities>;
