import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../db/database';
import { findStripeEvent, markStripeEvent } from '../db/repositories/billing';
import {
  completePayout,
  failPayout,
  findPayoutWithOwner,
  listPayableAffiliateIds,
  listPeriodPayouts,
  preparePayout,
  promoteEligibleCommissions,
  recordCommissionForInvoice,
  reverseCommissionForInvoice,
  type PaidInvoiceForCommission,
  type ReversalOutcome,
} from '../db/repositories/affiliates';
import { DEFAULT_AFFILIATE_POLICY, payoutPeriod, payoutTransferGroup, type Reconciliation } from '../schemas/affiliates';
import type { ActivityDeps } from './deps';
import { inTransactionWithEvents, isoOrNull } from './webhook-events';
import { FailureType } from '../schemas/failures';
import type { StripeTransferSnapshot } from '../providers/stripe';

export type PayAffiliateOutcome =
  | { outcome: 'paid'; payoutId: string; amountCents: number; transferId: string }
  | { outcome: 'failed'; payoutId: string; amountCents: number; reason: string }
  | { outcome: 'already_paid' | 'already_failed'; payoutId: string; amountCents: number }
  | { outcome: 'below_minimum'; balanceCents: number };

/** What a lost dispute did to its invoice's commission; `no_invoice` for a charge no invoice paid (a top-up). */
export type DisputeReversalOutcome = ReversalOutcome | 'no_invoice';

/**
 * A payout row older than this may have outlived Stripe's idempotency memory (~24 h): before
 * creating its transfer again, look for one carrying its payout id in the period's group.
 */
const IDEMPOTENCY_MEMORY_MS = 12 * 3_600_000;

/** The run's cut-off instant: the end of the period, or now if the period has not ended yet. */
export function payoutCutoff(period: string, now: Date): Date {
  const { periodEnd } = payoutPeriod(period);
  const endOfPeriod = new Date(`${periodEnd}T00:00:00.000Z`).getTime() + 86_400_000;
  return new Date(Math.min(endOfPeriod, now.getTime()));
}

async function reconcile(db: Db, transfers: StripeTransferSnapshot[], period: string): Promise<Reconciliation> {
  const { periodStart } = payoutPeriod(period);
  const paid = (await listPeriodPayouts(db, periodStart)).filter((p) => p.status === 'paid');
  const byTransfer = new Map(transfers.map((t) => [t.id, t]));
  const mismatches: Reconciliation['mismatches'] = [];
  for (const payout of paid) {
    const transfer = payout.stripe_transfer_id ? byTransfer.get(payout.stripe_transfer_id) : undefined;
    if (!transfer)
      mismatches.push({
        payoutId: payout.id,
        transferId: payout.stripe_transfer_id,
        reason: 'paid payout without a transfer in the period group',
      });
    else if (transfer.amount !== payout.amount_cents)
      mismatches.push({
        payoutId: payout.id,
        transferId: transfer.id,
        reason: `transfer amount ${transfer.amount} ≠ payout amount ${payout.amount_cents}`,
      });
  }
  const paidTransferIds = new Set(paid.map((p) => p.stripe_transfer_id));
  for (const transfer of transfers) {
    if (!paidTransferIds.has(transfer.id))
      mismatches.push({ payoutId: transfer.metadata.payout_id ?? null, transferId: transfer.id, reason: 'transfer without a paid payout' });
  }
  const transfersCents = transfers.reduce((sum, t) => sum + t.amount, 0);
  const paidPayoutsCents = paid.reduce((sum, p) => sum + p.amount_cents, 0);
  return {
    period,
    transferGroup: payoutTransferGroup(period),
    transferCount: transfers.length,
    transfersCents,
    paidPayoutCount: paid.length,
    paidPayoutsCents,
    matched: mismatches.length === 0 && transfersCents === paidPayoutsCents,
    mismatches,
  };
}

/** Affiliate program I/O: commissions from billing events, and the steps of a monthly payout. */
export function createAffiliateActivities(deps: ActivityDeps) {
  const { db, logger } = deps;
  const stripe = () => deps.providers.stripe;

  return {
    /** The period's cut-off, eligible commissions promoted up to it, and how many affiliates to visit. */
    async openPayoutPeriod(input: {
      period: string;
      minimumPayoutCents: number;
    }): Promise<{ cutoff: string; promoted: number; expected: number }> {
      const cutoff = payoutCutoff(input.period, new Date());
      const promoted = await promoteEligibleCommissions(db, cutoff);
      const { periodStart } = payoutPeriod(input.period);
      let expected = 0;
      let afterId: string | null = null;
      for (;;) {
        const page = await listPayableAffiliateIds(db, {
          periodStart,
          cutoff,
          minimumPayoutCents: input.minimumPayoutCents,
          afterId,
          limit: 5_000,
        });
        expected += page.length;
        if (page.length < 5_000) break;
        afterId = page[page.length - 1] ?? null;
      }
      return { cutoff: cutoff.toISOString(), promoted, expected };
    },

    async listPayableAffiliates(input: {
      period: string;
      cutoff: string;
      minimumPayoutCents: number;
      afterId: string | null;
      limit: number;
    }): Promise<string[]> {
      const { periodStart } = payoutPeriod(input.period);
      return listPayableAffiliateIds(db, {
        periodStart,
        cutoff: new Date(input.cutoff),
        minimumPayoutCents: input.minimumPayoutCents,
        afterId: input.afterId,
        limit: input.limit,
      });
    },

    /**
     * Pays one affiliate for one period, safe to run any number of times: the payout row
     * (unique per affiliate and period) is written before Stripe is called, the transfer's
     * idempotency key is the payout id, and the row is marked paid only with the transfer id.
     * A worker killed between the transfer and the last write repeats the same request and
     * gets the same transfer back.
     */
    async payAffiliate(input: {
      affiliateId: string;
      period: string;
      cutoff: string;
      minimumPayoutCents: number;
      runId: string;
    }): Promise<PayAffiliateOutcome> {
      const { periodStart, periodEnd } = payoutPeriod(input.period);
      const prepared = await db.transaction().execute((tx) =>
        preparePayout(tx, {
          affiliateId: input.affiliateId,
          periodStart,
          periodEnd,
          cutoff: new Date(input.cutoff),
          minimumPayoutCents: input.minimumPayoutCents,
          runId: input.runId,
        }),
      );
      if (prepared.kind === 'below_minimum') return { outcome: 'below_minimum', balanceCents: prepared.balanceCents };
      const { payout, destination } = prepared;
      if (payout.status === 'paid') return { outcome: 'already_paid', payoutId: payout.id, amountCents: payout.amount_cents };
      if (payout.status === 'failed' || payout.status === 'canceled')
        return { outcome: 'already_failed', payoutId: payout.id, amountCents: payout.amount_cents };

      const fail = async (reason: string): Promise<PayAffiliateOutcome> => {
        await db.transaction().execute((tx) => failPayout(tx, payout.id, reason));
        logger.warn({ payoutId: payout.id, affiliateId: input.affiliateId, reason }, 'affiliate payout failed; balance carried forward');
        return { outcome: 'failed', payoutId: payout.id, amountCents: payout.amount_cents, reason };
      };
      if (!destination) return fail('the affiliate has no Stripe connected account');

      const transferGroup = payoutTransferGroup(input.period);
      let transfer: StripeTransferSnapshot | undefined;
      if (prepared.kind === 'existing' && Date.now() - payout.created_at.getTime() > IDEMPOTENCY_MEMORY_MS) {
        transfer = (await stripe().listTransfers(transferGroup)).find((t) => t.metadata.payout_id === payout.id);
      }
      try {
        transfer ??= await stripe().createTransfer({
          payoutId: payout.id,
          amount: payout.amount_cents,
          currency: payout.currency,
          destination,
          transferGroup,
          description: `Affiliate commissions ${input.period}`,
        });
      } catch (err) {
        // Refusals (bad account, insufficient platform balance) will not heal by retrying; outages will.
        if (err instanceof ApplicationFailure && err.nonRetryable) return fail(`Stripe refused the transfer: ${err.message}`);
        throw err;
      }
      await inTransactionWithEvents(deps, async (tx, emit) => {
        await completePayout(tx, payout.id, transfer.id);
        const paid = await findPayoutWithOwner(tx, payout.id);
        if (paid?.status !== 'paid') return;
        // One payout is paid once: its id is the fact key.
        await emit({
          type: 'payout.paid',
          userId: paid.user_id,
          factKey: paid.id,
          data: {
            payoutId: paid.id,
            affiliateId: paid.affiliate_id,
            period: input.period,
            amountCents: paid.amount_cents,
            currency: paid.currency,
            transferId: transfer.id,
            paidAt: isoOrNull(paid.paid_at),
          },
        });
      });
      return { outcome: 'paid', payoutId: payout.id, amountCents: payout.amount_cents, transferId: transfer.id };
    },

    /** The period's transfers in Stripe against its paid payout rows; mismatches are listed. */
    async reconcilePayoutPeriod(input: { period: string }): Promise<Reconciliation> {
      const result = await reconcile(db, await stripe().listTransfers(payoutTransferGroup(input.period)), input.period);
      if (!result.matched)
        logger.error({ period: input.period, mismatches: result.mismatches }, 'affiliate payouts do not reconcile with Stripe transfers');
      return result;
    },

    /**
     * invoice.paid of a referred customer → its commission, pending for the refund window.
     * Idempotent per invoice; nothing for customers nobody referred.
     */
    async recordAffiliateCommission(input: Omit<PaidInvoiceForCommission, 'refundWindowDays'>): Promise<{ commissionId: string | null }> {
      const refundWindowDays = deps.affiliatePolicy?.refundWindowDays ?? DEFAULT_AFFILIATE_POLICY.refundWindowDays;
      const commission = await db.transaction().execute((tx) => recordCommissionForInvoice(tx, { ...input, refundWindowDays }));
      return { commissionId: commission?.id ?? null };
    },

    /** charge.refunded or a lost dispute of an invoice: the commission reversed, or clawed back from the next payout. */
    async reverseAffiliateCommission(input: {
      stripeInvoiceId: string;
      stripeChargeId?: string | null;
      reason: string;
    }): Promise<{ outcome: ReversalOutcome }> {
      return { outcome: await db.transaction().execute((tx) => reverseCommissionForInvoice(tx, input)) };
    },

    /**
     * charge.dispute.closed with status lost: the disputed invoice's commission goes the same way
     * as on charge.refunded (reversed, or a negative adjustment if already paid). Idempotent:
     * the reversal is unique per invoice, so a refund and a lost dispute take it back once.
     */
    async reverseCommissionForLostDispute(input: { eventId: string }): Promise<{ outcome: DisputeReversalOutcome }> {
      const event = await findStripeEvent(db, input.eventId);
      // The webhook commits the row before it starts this workflow; a missing row is a racing commit.
      if (!event) throw ApplicationFailure.retryable(`Stripe event ${input.eventId} is not stored yet`, 'EventNotStored');
      const dispute = event.object;
      if (event.type !== 'charge.dispute.closed' || dispute.status !== 'lost')
        throw ApplicationFailure.nonRetryable(
          `event ${event.id} is not a lost dispute (${event.type}, ${String(dispute.status)})`,
          FailureType.InvalidInput,
        );
      const chargeId = typeof dispute.charge === 'string' ? dispute.charge : null;
      const paymentIntentId =
        typeof dispute.payment_intent === 'string'
          ? dispute.payment_intent
          : chargeId
            ? (await stripe().retrieveCharge(chargeId)).paymentIntentId
            : null;
      const invoiceId = paymentIntentId ? await stripe().invoiceIdForPaymentIntent(paymentIntentId) : null;
      const outcome: DisputeReversalOutcome = invoiceId
        ? await db
            .transaction()
            .execute((tx) =>
              reverseCommissionForInvoice(tx, { stripeInvoiceId: invoiceId, stripeChargeId: chargeId, reason: 'charge.dispute.lost' }),
            )
        : 'no_invoice';
      await markStripeEvent(db, event.id, { status: outcome === 'no_invoice' ? 'ignored' : 'processed' });
      logger.info({ eventId: event.id, disputeId: dispute.id, invoiceId, outcome }, 'lost dispute applied to affiliate commission');
      return { outcome };
    },
  };
}

export type AffiliateActivities = ReturnType<typeof createAffiliateActivities>;
