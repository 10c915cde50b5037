import { z } from 'zod';

// ---- Policy -----------------------------------------------------------------------------------

/** The program's money rules; the worker fills them from config (AFFILIATE_* variables). */
export interface AffiliatePolicy {
  /** Days after an invoice is paid during which a refund still claws the commission back. */
  refundWindowDays: number;
  /** An affiliate is paid only when the eligible balance reaches this (smaller balances carry over). */
  minimumPayoutCents: number;
}

export const DEFAULT_AFFILIATE_POLICY: AffiliatePolicy = { refundWindowDays: 30, minimumPayoutCents: 5_000 };

/** 2000 basis points = 20 %, the program's default rate. */
export const DEFAULT_COMMISSION_RATE_BPS = 2_000;

/**
 * Commission in integer cents: invoice cents × rate in basis points / 10,000, rounded half up
 * to the cent (1999 ¢ at 20 % = 399.8 → 400 ¢; 1997 ¢ at 20 % = 399.4 → 399 ¢). Integer
 * arithmetic throughout, so no float error can shift a cent.
 */
export function commissionCents(invoiceCents: number, rateBps: number): number {
  if (!Number.isSafeInteger(invoiceCents) || invoiceCents < 0)
    throw new RangeError(`invoice amount must be whole non-negative cents, got ${invoiceCents}`);
  if (!Number.isInteger(rateBps) || rateBps < 0 || rateBps > 10_000)
    throw new RangeError(`rate must be 0..10000 basis points, got ${rateBps}`);
  return Math.floor((invoiceCents * rateBps + 5_000) / 10_000);
}

// ---- Periods ----------------------------------------------------------------------------------

/** A payout period is a calendar month in UTC, named `YYYY-MM`. */
// Years from 1000: PostgreSQL has no year 0, and a period becomes a date there.
export const PayoutPeriodSchema = z.string().regex(/^[1-9]\d{3}-(0[1-9]|1[0-2])$/, 'a month such as 2026-11');

export interface PayoutPeriod {
  /** `YYYY-MM` */
  period: string;
  /** First day of the month, `YYYY-MM-DD`. */
  periodStart: string;
  /** Last day of the month, `YYYY-MM-DD`. */
  periodEnd: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The month `YYYY-MM` as its first and last day. */
export function payoutPeriod(period: string): PayoutPeriod {
  const [year, month] = period.split('-').map(Number) as [number, number];
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return { period, periodStart: `${period}-01`, periodEnd: `${period}-${pad(lastDay)}` };
}

/** The month an instant falls in (UTC). */
export const periodOf = (at: Date): string => `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}`;

/** The month before the one `at` falls in: what the run on the 1st pays out. */
export function previousPeriod(at: Date): string {
  return periodOf(new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1)));
}

/** Stripe transfer group of a period's transfers, listed again for reconciliation. */
export const payoutTransferGroup = (period: string): string => `payouts:${period}`;

// ---- API --------------------------------------------------------------------------------------

export const ReferralCodeSchema = z.string().regex(/^[A-Za-z0-9_-]{3,50}$/, '3-50 letters, digits, _ or -');

export const ReferralCodeParamSchema = z.object({ code: z.string().max(100) });

/** UTM parameters and the landing page a tracking link may carry. */
export const TrackingQuerySchema = z.object({
  utm_source: z.string().max(255).optional(),
  utm_medium: z.string().max(255).optional(),
  utm_campaign: z.string().max(255).optional(),
  utm_term: z.string().max(255).optional(),
  utm_content: z.string().max(255).optional(),
  to: z.string().max(2_000).optional().describe('a path on the landing site, e.g. /pricing'),
});

/**
 * The tracking query as the OpenAPI document publishes it: a link whose parameters break the
 * limits above still redirects (the tracking is dropped, the click kept), so none is refused.
 */
export const PublishedTrackingQuerySchema = z.object(
  Object.fromEntries(
    Object.entries(TrackingQuerySchema.shape).map(([name, field]) => [
      name,
      z.string().optional().meta({ description: field.description }),
    ]),
  ),
);

export const CreateAffiliateBodySchema = z
  .object({
    referralCode: ReferralCodeSchema.optional().describe('default: generated'),
    stripeConnectedAccountId: z
      .string()
      .regex(/^acct_[A-Za-z0-9]+$/, 'a Stripe connected account id, acct_…')
      .optional()
      .describe('where payouts go; without one, payouts fail and the balance carries over'),
  })
  .strict()
  .meta({ id: 'CreateAffiliateBody' });
export type CreateAffiliateBody = z.infer<typeof CreateAffiliateBodySchema>;

export const AffiliateSchema = z
  .object({
    id: z.uuid(),
    referralCode: z.string(),
    referralUrl: z.string().describe('the tracking link: /r/<code>'),
    commissionRateBps: z.number().int().describe('basis points: 2000 = 20 %'),
    currency: z.string(),
    stripeConnectedAccountId: z.string().nullable(),
    status: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'Affiliate' });
export type AffiliateView = z.infer<typeof AffiliateSchema>;

export const AttributeReferralBodySchema = z
  .object({
    referralCode: ReferralCodeSchema,
    clickId: z.uuid().optional().describe('the `aff_click` cookie set by /r/<code>'),
  })
  .strict()
  .meta({ id: 'AttributeReferralBody' });

export const ReferralSchema = z
  .object({
    id: z.uuid(),
    affiliateId: z.uuid(),
    referralCode: z.string(),
    clickId: z.uuid().nullable(),
    status: z.string(),
    referredAt: z.string(),
  })
  .meta({ id: 'Referral' });

const MoneyTotalsSchema = z.object({
  pendingCents: z.number().int(),
  eligibleCents: z.number().int().describe('includes negative adjustments for refunds of already paid commissions'),
  paidCents: z.number().int(),
  reversedCents: z.number().int(),
});

export const PayoutViewSchema = z
  .object({
    id: z.uuid(),
    period: z.string(),
    periodStart: z.string(),
    periodEnd: z.string(),
    amountCents: z.number().int(),
    currency: z.string(),
    commissionCount: z.number().int(),
    status: z.string(),
    stripeTransferId: z.string().nullable(),
    failureReason: z.string().nullable(),
    paidAt: z.string().nullable(),
  })
  .meta({ id: 'AffiliatePayout' });
export type PayoutView = z.infer<typeof PayoutViewSchema>;

export const CommissionViewSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(['commission', 'adjustment']),
    stripeInvoiceId: z.string(),
    invoiceAmountCents: z.number().int(),
    commissionRateBps: z.number().int(),
    amountCents: z.number().int(),
    currency: z.string(),
    status: z.enum(['pending', 'eligible', 'paid', 'reversed']),
    eligibleAt: z.string(),
    payoutId: z.uuid().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'AffiliateCommission' });
export type CommissionView = z.infer<typeof CommissionViewSchema>;

export const AffiliateReportSchema = z
  .object({
    affiliate: AffiliateSchema,
    clicks: z.number().int(),
    conversions: z.number().int().describe('clicks that led to a sign-up'),
    referrals: z.number().int(),
    totals: MoneyTotalsSchema,
    payouts: z.array(PayoutViewSchema),
  })
  .meta({ id: 'AffiliateReport' });

export const CommissionListSchema = z.object({ commissions: z.array(CommissionViewSchema) }).meta({ id: 'AffiliateCommissionList' });

export const RunPayoutsBodySchema = z
  .object({
    periodEnd: z.iso.date().describe('any day of the month to pay out, usually its last day (YYYY-MM-DD)'),
  })
  .strict()
  .meta({ id: 'RunPayoutsBody' });

export const PayoutPeriodParamSchema = z.object({ period: PayoutPeriodSchema });

export const ReconciliationSchema = z
  .object({
    period: z.string(),
    transferGroup: z.string(),
    transferCount: z.number().int(),
    transfersCents: z.number().int(),
    paidPayoutCount: z.number().int(),
    paidPayoutsCents: z.number().int(),
    matched: z.boolean(),
    /** Payouts without a matching transfer, or transfers without a paid payout. */
    mismatches: z.array(z.object({ payoutId: z.string().nullable(), transferId: z.string().nullable(), reason: z.string() })),
  })
  .meta({ id: 'PayoutReconciliation' });
export type Reconciliation = z.infer<typeof ReconciliationSchema>;

export const PeriodReportSchema = z
  .object({
    period: z.string(),
    runId: z.string(),
    runStatus: z.string().nullable(),
    counts: z.object({ paid: z.number().int(), failed: z.number().int(), processing: z.number().int() }),
    paidCents: z.number().int(),
    failures: z.array(
      z.object({ payoutId: z.uuid(), affiliateId: z.uuid(), amountCents: z.number().int(), reason: z.string().nullable() }),
    ),
    reconciliation: ReconciliationSchema.nullable().describe('from the finished run; null while it runs'),
  })
  .meta({ id: 'PayoutPeriodReport' });
export type PeriodReport = z.infer<typeof PeriodReportSchema>;
