import type { DbOrTx, Tx } from '../database';
import { sql } from 'kysely';
import type { CreditLotSource, CreditTransaction, CreditTransactionType } from '../types';

/** A debit larger than the balance. Activities map it to a non-retryable failure of this `type`. */
export class InsufficientCreditsError extends Error {
  override name = 'InsufficientCreditsError';
  readonly type = 'InsufficientCredits';
  constructor(
    readonly userId: string,
    readonly balance: number,
    readonly requested: number,
  ) {
    super(`insufficient credits: balance ${balance}, requested ${requested}`);
  }
}

export interface CreditTransactionInput {
  userId: string;
  /** Positive adds credits, negative spends them; a non-zero integer. */
  amount: number;
  type: CreditTransactionType;
  description?: string;
  /** The entity it concerns (run id, invoice id, checkout session id). */
  referenceId?: string;
  /** Derived from the cause, e.g. `subscription_grant:<invoiceId>`: applying it again changes nothing. */
  idempotencyKey?: string;
  stripePaymentId?: string;
  paymentAmountCents?: number;
  currency?: string;
  /**
   * When the credits this entry adds expire (plan credits: the period end). Unset: purchases
   * expire after PURCHASED_CREDITS_VALID_MONTHS, plan grants after one month, others never.
   */
  expiresAt?: Date | string | null;
  /** A refund naming the idempotency key of the debit it gives back restores the lots that debit drew from. */
  refundOf?: string;
}

/** Purchased credit packs stay valid this many months from the purchase. */
export const PURCHASED_CREDITS_VALID_MONTHS = 12;

export interface AppliedCredit {
  transaction: CreditTransaction;
  /** The balance after this call (for a replay: the current balance). */
  balance: number;
  /** False when the idempotency key had already been applied and nothing changed. */
  applied: boolean;
}

/**
 * Applies one ledger entry atomically: the user's balance row is locked (select … for update),
 * a replayed idempotency key returns the earlier entry, an overdraft throws
 * InsufficientCreditsError and writes nothing, otherwise the balance and the journal row (with
 * balance_after) are written together. Runs in the caller's transaction when given one, else in
 * its own. The CHECKs on user_credits.balance and credit_transactions.balance_after back this up.
 */
export async function applyCreditTransaction(db: DbOrTx, input: CreditTransactionInput): Promise<AppliedCredit> {
  if (!Number.isSafeInteger(input.amount) || input.amount === 0)
    throw new RangeError(`credit amount must be a non-zero integer, got ${input.amount}`);
  const apply = (tx: Tx) => applyLocked(tx, input);
  return db.isTransaction ? apply(db as Tx) : db.transaction().execute(apply);
}

async function applyLocked(tx: Tx, input: CreditTransactionInput): Promise<AppliedCredit> {
  await tx
    .insertInto('user_credits')
    .values({ user_id: input.userId })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
  const { balance } = await tx
    .selectFrom('user_credits')
    .select('balance')
    .where('user_id', '=', input.userId)
    .forUpdate()
    .executeTakeFirstOrThrow();

  if (input.idempotencyKey !== undefined) {
    const earlier = await tx
      .selectFrom('credit_transactions')
      .selectAll()
      .where('idempotency_key', '=', input.idempotencyKey)
      .executeTakeFirst();
    if (earlier) {
      if (earlier.user_id !== input.userId) throw new Error(`credit idempotency key ${input.idempotencyKey} belongs to another user`);
      return { transaction: earlier, balance, applied: false };
    }
  }

  const balanceAfter = balance + input.amount;
  if (balanceAfter < 0) throw new InsufficientCreditsError(input.userId, balance, -input.amount);

  const credit = input.amount > 0 ? input.amount : 0;
  const debit = input.amount < 0 ? -input.amount : 0;
  await tx
    .updateTable('user_credits')
    .set((eb) => ({
      balance: balanceAfter,
      total_purchased: input.type === 'purchase' ? eb('total_purchased', '+', credit) : eb.ref('total_purchased'),
      total_granted:
        input.type === 'subscription_grant' || input.type === 'bonus' ? eb('total_granted', '+', credit) : eb.ref('total_granted'),
      // A refund gives back what a usage or reservation took.
      total_used: input.type === 'refund' ? eb.fn('greatest', [eb('total_used', '-', credit), eb.lit(0)]) : eb('total_used', '+', debit),
    }))
    .where('user_id', '=', input.userId)
    .execute();

  const transaction = await tx
    .insertInto('credit_transactions')
    .values({
      user_id: input.userId,
      amount: input.amount,
      transaction_type: input.type,
      balance_after: balanceAfter,
      description: input.description ?? null,
      reference_id: input.referenceId ?? null,
      idempotency_key: input.idempotencyKey ?? null,
      stripe_payment_id: input.stripePaymentId ?? null,
      payment_amount_cents: input.paymentAmountCents ?? null,
      currency: input.currency ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (input.amount > 0) await addToLots(tx, transaction, input);
  else await drawFromLots(tx, transaction, balance, -input.amount);
  return { transaction, balance: balanceAfter, applied: true };
}

// ---- lots: every grant is a lot with its own expiry; debits take the soonest-expiring first ----

const LOT_SOURCE: Partial<Record<CreditTransactionType, CreditLotSource>> = {
  purchase: 'purchase',
  subscription_grant: 'subscription',
  bonus: 'bonus',
  refund: 'refund',
  adjustment: 'adjustment',
};

function addMonths(date: Date, months: number): Date {
  const next = new Date(date);
  next.setUTCMonth(next.getUTCMonth() + months);
  return next;
}

function defaultExpiry(type: CreditTransactionType, grantedAt: Date): Date | null {
  if (type === 'purchase') return addMonths(grantedAt, PURCHASED_CREDITS_VALID_MONTHS);
  if (type === 'subscription_grant') return addMonths(grantedAt, 1);
  return null;
}

/** A credit becomes a lot; a refund of a named debit goes back into the lots it came from instead. */
async function addToLots(tx: Tx, transaction: CreditTransaction, input: CreditTransactionInput): Promise<void> {
  let left = input.amount;
  if (input.type === 'refund' && input.refundOf !== undefined) {
    const usages = await tx
      .selectFrom('credit_lot_usages as u')
      .innerJoin('credit_transactions as t', 't.id', 'u.transaction_id')
      .innerJoin('credit_lots as l', 'l.id', 'u.lot_id')
      .select(['u.lot_id', 'u.amount', 'l.expired_at'])
      .where('t.idempotency_key', '=', input.refundOf)
      .where('t.user_id', '=', input.userId)
      .orderBy('l.expires_at', (ob) => ob.desc().nullsFirst())
      .execute();
    // Credits of a lot that has expired meanwhile come back as a new lot below: they were paid for, not expired unused.
    for (const usage of usages) {
      if (left === 0 || usage.expired_at !== null) continue;
      const back = Math.min(left, usage.amount);
      await tx
        .updateTable('credit_lots')
        .set((eb) => ({ remaining: eb('remaining', '+', back) }))
        .where('id', '=', usage.lot_id)
        .execute();
      left -= back;
    }
  }
  if (left === 0) return;
  const expiresAt = input.expiresAt === undefined ? defaultExpiry(input.type, transaction.created_at) : input.expiresAt;
  await tx
    .insertInto('credit_lots')
    .values({
      user_id: input.userId,
      source_transaction_id: transaction.id,
      source: LOT_SOURCE[input.type] ?? 'adjustment',
      amount: left,
      remaining: left,
      expires_at: expiresAt,
    })
    .execute();
}

/**
 * Takes `amount` from the live lots, soonest expiry first (never-expiring last), recording each
 * draw. A balance older than the lots (or written around this ledger) is drawn as a legacy lot.
 */
async function drawFromLots(tx: Tx, transaction: CreditTransaction, balanceBefore: number, amount: number): Promise<void> {
  const lots = await tx
    .selectFrom('credit_lots')
    .select(['id', 'remaining'])
    .where('user_id', '=', transaction.user_id)
    .where('remaining', '>', 0)
    .where('expired_at', 'is', null)
    .orderBy(sql`expires_at asc nulls last`)
    .orderBy('created_at')
    .orderBy('id')
    .forUpdate()
    .execute();
  const lotted = lots.reduce((sum, lot) => sum + lot.remaining, 0);
  if (lotted < balanceBefore) {
    const legacy = await tx
      .insertInto('credit_lots')
      .values({ user_id: transaction.user_id, source: 'legacy', amount: balanceBefore - lotted, remaining: balanceBefore - lotted })
      .returning(['id', 'remaining'])
      .executeTakeFirstOrThrow();
    lots.push(legacy);
  }
  let left = amount;
  for (const lot of lots) {
    if (left === 0) break;
    const take = Math.min(left, lot.remaining);
    await tx
      .updateTable('credit_lots')
      .set((eb) => ({ remaining: eb('remaining', '-', take) }))
      .where('id', '=', lot.id)
      .execute();
    await tx.insertInto('credit_lot_usages').values({ transaction_id: transaction.id, lot_id: lot.id, amount: take }).execute();
    left -= take;
  }
}

export interface ExpiredLot {
  lotId: string;
  userId: string;
  amount: number;
  /** The balance once the lot's credits left it. */
  balanceAfter: number;
  applied: boolean;
}

/**
 * Expires one lot whose time has come: what is left of it leaves the balance as an 'expiry'
 * ledger row (idempotent by `credit_expiry:<lotId>`) and the lot is closed. A lot already
 * expired, or not due, changes nothing.
 */
export async function expireCreditLot(db: DbOrTx, lotId: string, now: Date = new Date()): Promise<ExpiredLot | undefined> {
  const run = async (tx: Tx): Promise<ExpiredLot | undefined> => {
    const probe = await tx.selectFrom('credit_lots').select('user_id').where('id', '=', lotId).executeTakeFirst();
    if (!probe) return undefined;
    // The balance row first, as every ledger write does, so lots and balance change together.
    const { balance } = await tx
      .selectFrom('user_credits')
      .select('balance')
      .where('user_id', '=', probe.user_id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const lot = await tx.selectFrom('credit_lots').selectAll().where('id', '=', lotId).forUpdate().executeTakeFirstOrThrow();
    if (lot.expired_at !== null || lot.expires_at === null || lot.expires_at > now) return undefined;
    const amount = Math.min(lot.remaining, balance);
    await tx.updateTable('credit_lots').set({ remaining: 0, expired_at: now }).where('id', '=', lotId).execute();
    if (amount === 0) return { lotId, userId: lot.user_id, amount: 0, balanceAfter: balance, applied: true };
    const balanceAfter = balance - amount;
    await tx.updateTable('user_credits').set({ balance: balanceAfter }).where('user_id', '=', lot.user_id).execute();
    const transaction = await tx
      .insertInto('credit_transactions')
      .values({
        user_id: lot.user_id,
        amount: -amount,
        transaction_type: 'expiry',
        balance_after: balanceAfter,
        description: `${amount} credits expired (granted ${lot.created_at.toISOString().slice(0, 10)})`,
        reference_id: lotId,
        idempotency_key: `credit_expiry:${lotId}`,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx.insertInto('credit_lot_usages').values({ transaction_id: transaction.id, lot_id: lotId, amount }).execute();
    return { lotId, userId: lot.user_id, amount, balanceAfter, applied: true };
  };
  return db.isTransaction ? run(db as Tx) : db.transaction().execute(run);
}

/** Lots due to expire at `now` (oldest first), a page at a time for the expiry sweep. */
export async function dueCreditLots(db: DbOrTx, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('credit_lots')
    .select('id')
    .where('remaining', '>', 0)
    .where('expired_at', 'is', null)
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export interface ExpiringCredits {
  expiresAt: Date;
  amount: number;
}

/** Live credits that will expire, grouped by expiry instant, soonest first. */
export async function expiringCredits(db: DbOrTx, userId: string): Promise<ExpiringCredits[]> {
  const rows = await db
    .selectFrom('credit_lots')
    .select(['expires_at', (eb) => eb.fn.sum<number>('remaining').as('amount')])
    .where('user_id', '=', userId)
    .where('remaining', '>', 0)
    .where('expired_at', 'is', null)
    .where('expires_at', 'is not', null)
    .groupBy('expires_at')
    .orderBy('expires_at')
    .execute();
  return rows.map((r) => ({ expiresAt: r.expires_at!, amount: Number(r.amount) }));
}

export interface CreditBalance {
  balance: number;
  totalPurchased: number;
  totalGranted: number;
  totalUsed: number;
}

/** The user's credit balance and totals; zeros for a user who never had credits. */
export async function getCreditBalance(db: DbOrTx, userId: string): Promise<CreditBalance> {
  const row = await db.selectFrom('user_credits').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return {
    balance: row?.balance ?? 0,
    totalPurchased: row?.total_purchased ?? 0,
    totalGranted: row?.total_granted ?? 0,
    totalUsed: row?.total_used ?? 0,
  };
}

/** Ledger rows newest first; `before` is the (created_at, id) of the last row of the previous page. */
export async function creditHistory(db: DbOrTx, userId: string, limit: number, before?: { createdAt: Date; id: string }) {
  let query = db
    .selectFrom('credit_transactions')
    .select(['id', 'amount', 'transaction_type', 'balance_after', 'description', 'created_at'])
    .where('user_id', '=', userId);
  if (before) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(before.createdAt, before.id)));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

// ---- reservations: reserve → commit | refund ------------------------------------------------

/** A reservation used the wrong way; activities map it to a non-retryable failure of this `type`. */
export class CreditReservationError extends Error {
  override name = 'CreditReservationError';
  constructor(
    readonly type: 'NotFound' | 'InvalidInput' | 'ReservationCommitted' | 'ReservationRefunded',
    message: string,
  ) {
    super(message);
  }
}

export type ReservationState = 'reserved' | 'committed' | 'refunded';

export interface CreditReservation {
  reservationId: string;
  userId: string;
  amount: number;
  state: ReservationState;
  /** The user's balance after this call. */
  balance: number;
  /** False when the call repeated one already applied (nothing changed). */
  applied: boolean;
}

const reservationKey = (reservationId: string) => `credit_reservation:${reservationId}`;
const refundKey = (reservationId: string) => `credit_refund:${reservationId}`;

/** Locks the reservation's user balance and reads where the reservation stands. */
async function lockReservation(tx: Tx, reservationId: string) {
  const reservation = await tx
    .selectFrom('credit_transactions')
    .selectAll()
    .where('idempotency_key', '=', reservationKey(reservationId))
    .executeTakeFirst();
  if (!reservation) throw new CreditReservationError('NotFound', `credit reservation ${reservationId} does not exist`);
  const { balance } = await tx
    .selectFrom('user_credits')
    .select('balance')
    .where('user_id', '=', reservation.user_id)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const refund = await tx
    .selectFrom('credit_transactions')
    .select('id')
    .where('idempotency_key', '=', refundKey(reservationId))
    .executeTakeFirst();
  const state: ReservationState = refund ? 'refunded' : reservation.transaction_type === 'usage' ? 'committed' : 'reserved';
  return { reservation, balance, state };
}

/**
 * Takes `amount` credits off the balance as a 'reservation' row (idempotent by reservationId).
 * The balance row lock serializes concurrent reserves; one that would overdraw throws
 * InsufficientCreditsError and writes nothing.
 */
export async function reserveCredits(
  db: DbOrTx,
  input: { userId: string; amount: number; reservationId: string; reason: string },
): Promise<CreditReservation> {
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0)
    throw new CreditReservationError('InvalidInput', `a reservation needs a positive whole amount, got ${input.amount}`);
  const run = async (tx: Tx): Promise<CreditReservation> => {
    const result = await applyCreditTransaction(tx, {
      userId: input.userId,
      amount: -input.amount,
      type: 'reservation',
      idempotencyKey: reservationKey(input.reservationId),
      referenceId: input.reservationId,
      description: input.reason,
    });
    if (result.applied)
      return {
        reservationId: input.reservationId,
        userId: input.userId,
        amount: input.amount,
        state: 'reserved',
        balance: result.balance,
        applied: true,
      };
    if (result.transaction.amount !== -input.amount)
      throw new CreditReservationError(
        'InvalidInput',
        `reservation ${input.reservationId} was made for ${-result.transaction.amount} credits, not ${input.amount}`,
      );
    const { state, balance } = await lockReservation(tx, input.reservationId);
    return { reservationId: input.reservationId, userId: input.userId, amount: input.amount, state, balance, applied: false };
  };
  return db.isTransaction ? run(db as Tx) : db.transaction().execute(run);
}

/** The reserved credits are spent: the reservation row becomes a 'usage' row (no balance change). */
export async function commitCreditReservation(db: DbOrTx, reservationId: string): Promise<CreditReservation> {
  const run = async (tx: Tx): Promise<CreditReservation> => {
    const { reservation, balance, state } = await lockReservation(tx, reservationId);
    const view = { reservationId, userId: reservation.user_id, amount: -reservation.amount, balance };
    if (state === 'refunded')
      throw new CreditReservationError('ReservationRefunded', `credit reservation ${reservationId} was refunded and cannot be committed`);
    if (state === 'committed') return { ...view, state, applied: false };
    await tx.updateTable('credit_transactions').set({ transaction_type: 'usage' }).where('id', '=', reservation.id).execute();
    return { ...view, state: 'committed', applied: true };
  };
  return db.isTransaction ? run(db as Tx) : db.transaction().execute(run);
}

/** The reserved credits go back to the balance, once (a 'refund' row); a committed reservation cannot be refunded. */
export async function refundCreditReservation(db: DbOrTx, reservationId: string, reason: string): Promise<CreditReservation> {
  const run = async (tx: Tx): Promise<CreditReservation> => {
    const { reservation, balance, state } = await lockReservation(tx, reservationId);
    const view = { reservationId, userId: reservation.user_id, amount: -reservation.amount };
    if (state === 'committed')
      throw new CreditReservationError('ReservationCommitted', `credit reservation ${reservationId} was committed and cannot be refunded`);
    if (state === 'refunded') return { ...view, state, balance, applied: false };
    const refund = await applyCreditTransaction(tx, {
      userId: reservation.user_id,
      amount: -reservation.amount,
      type: 'refund',
      idempotencyKey: refundKey(reservationId),
      refundOf: reservationKey(reservationId),
      referenceId: reservationId,
      description: reason,
    });
    return { ...view, state: 'refunded', balance: refund.balance, applied: true };
  };
  return db.isTransaction ? run(db as Tx) : db.transaction().execute(run);
}
