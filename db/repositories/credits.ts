import type { DbOrTx, Tx } from '../database';
import type { CreditTransaction, CreditTransactionType } from '../types';

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
}

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
  return { transaction, balance: balanceAfter, applied: true };
}

/** 0 for a user who never had credits. */
export async function getCreditBalance(db: DbOrTx, userId: string): Promise<number> {
  const row = await db.selectFrom('user_credits').select('balance').where('user_id', '=', userId).executeTakeFirst();
  return row?.balance ?? 0;
}

/** Newest first. */
export async function listCreditTransactions(db: DbOrTx, userId: string, limit = 50): Promise<CreditTransaction[]> {
  return db
    .selectFrom('credit_transactions')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}
