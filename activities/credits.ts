import { ApplicationFailure } from '@temporalio/common';
import {
  commitCreditReservation,
  CreditReservationError,
  InsufficientCreditsError,
  refundCreditReservation,
  reserveCredits,
  type CreditReservation,
} from '../db/repositories/credits';
import type { DbOrTx } from '../db/database';
import { getPlanForUser } from '../db/repositories/plans';
import type { WebhookEventData } from '../schemas/webhooks';
import type { ActivityDeps } from './deps';
import { inTransactionWithEvents, type EmitWebhookEvent } from './webhook-events';

/** A balance is low below this many credits, or below CREDITS_LOW_SHARE of the plan's monthly credits when that is more. */
export const CREDITS_LOW_MINIMUM = 10;
export const CREDITS_LOW_SHARE = 0.1;

export interface CreditDebit {
  userId: string;
  balanceBefore: number;
  balanceAfter: number;
  /** The debit's own key (its ledger idempotency key): one crossing, one event. */
  debitKey: string;
  cause: WebhookEventData<'credits.low'>['cause'];
  reason: string | null;
}

/**
 * credits.low when this debit took the balance from at or above the user's threshold to below it:
 * once per crossing (the next debits below it send nothing; after a top-up, the next crossing
 * sends again). Call in the debit's transaction, with the balance row locked by the ledger write.
 */
export async function emitCreditsLowOnCrossing(tx: DbOrTx, emit: EmitWebhookEvent, debit: CreditDebit): Promise<void> {
  // Below the smallest threshold already, or not a debit: no plan can make this a crossing.
  if (debit.balanceBefore < CREDITS_LOW_MINIMUM || debit.balanceAfter >= debit.balanceBefore) return;
  const plan = await getPlanForUser(tx, debit.userId);
  const threshold = Math.max(CREDITS_LOW_MINIMUM, Math.ceil((plan?.features.monthlyCredits ?? 0) * CREDITS_LOW_SHARE));
  if (debit.balanceBefore < threshold || debit.balanceAfter >= threshold) return;
  await emit({
    type: 'credits.low',
    userId: debit.userId,
    factKey: debit.debitKey,
    data: {
      balance: debit.balanceAfter,
      previousBalance: debit.balanceBefore,
      threshold,
      cause: debit.cause,
      reason: debit.reason,
    },
  });
}

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

/** A reservation just applied, as the debit it is. */
export const reservationDebit = (reservation: CreditReservation, reason: string): CreditDebit => ({
  userId: reservation.userId,
  balanceBefore: reservation.balance + reservation.amount,
  balanceAfter: reservation.balance,
  debitKey: `reservation:${reservation.reservationId}`,
  cause: 'reservation',
  reason,
});

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
      const reservation = await classified(() =>
        inTransactionWithEvents(deps, async (tx, emit) => {
          const reservation = await reserveCredits(tx, input);
          if (reservation.applied) await emitCreditsLowOnCrossing(tx, emit, reservationDebit(reservation, input.reason));
          return reservation;
        }),
      );
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
