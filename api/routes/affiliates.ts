import { createHash, randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router, type Request } from 'express';
import { z } from 'zod';
import {
  affiliateStats,
  attributeReferral,
  createAffiliate,
  findActiveAffiliateByCode,
  findAffiliateByUser,
  listAffiliateCommissions,
  listAffiliatePayouts,
  listPeriodPayouts,
  recordClick,
  type Affiliate,
  type AffiliateCommission,
  type AffiliatePayout,
  type AffiliateReferral,
  type NewClick,
} from '../../db/repositories/affiliates';
import { findRun } from '../../db/repositories/runs';
import {
  AffiliateReportSchema,
  AffiliateSchema,
  AttributeReferralBodySchema,
  CommissionListSchema,
  CreateAffiliateBodySchema,
  PayoutPeriodParamSchema,
  PeriodReportSchema,
  PublishedTrackingQuerySchema,
  ReconciliationSchema,
  ReferralCodeParamSchema,
  ReferralSchema,
  RunPayoutsBodySchema,
  TrackingQuerySchema,
  payoutPeriod,
  type AffiliateView,
  type CommissionView,
  type PayoutView,
  type PeriodReport,
} from '../../schemas/affiliates';
import { RunStartedSchema } from '../../schemas/api-runs';
import { payoutsRun, payoutsWorkflowId, type PayoutsInput } from '../../workflows/payouts/contract';
import { caller, requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpProblem, notFound } from '../problem';
import { TokenBucketLimiter } from '../rate-limit';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';
import { isoOrNull } from '../dates';

const UNIQUE_VIOLATION = '23505';
/** How long the referral cookies set by /r/<code> last: the attribution window. */
const ATTRIBUTION_COOKIE_MS = 30 * 86_400_000;
const PLACEHOLDER_ORIGIN = 'http://landing.invalid';
/** Clicks recorded per client IP and affiliate code per minute. */
export const CLICKS_PER_VISITOR_PER_MINUTE = 5;

/**
 * The visitor's address, truncated to its network (/24 for IPv4, /48 for IPv6) and hashed:
 * enough to count unique visitors and spot click fraud, never enough to identify a person.
 */
export function hashVisitorIp(ip: string | undefined): string | null {
  if (!ip) return null;
  const address = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  const network = isIPv4(address) ? `${address.split('.').slice(0, 3).join('.')}.0/24` : `${address.split(':').slice(0, 3).join(':')}::/48`;
  return createHash('sha256').update(`affiliate-click:${network}`).digest('hex');
}

export function deviceTypeOf(userAgent: string | undefined): NewClick['deviceType'] {
  if (!userAgent) return 'unknown';
  if (/bot|crawl|spider|slurp|preview|facebookexternalhit|curl|wget/i.test(userAgent)) return 'bot';
  if (/ipad|tablet|kindle|silk/i.test(userAgent)) return 'tablet';
  if (/mobi|iphone|ipod|android|blackberry|opera mini/i.test(userAgent)) return 'mobile';
  return 'desktop';
}

/**
 * `to` resolved against the landing URL, kept only when it stays on the landing's origin with a
 * path that cannot read as another host (`//host`, `/\host`). Checked after resolving, because
 * the URL parser drops tabs and newlines and folds `/./` and backslashes: `/%09/evil.example` and
 * `/.%2F/evil.example` pass a check on the raw text and still land off-site.
 */
function sameSiteTarget(to: string, base: URL): URL | undefined {
  let target: URL;
  try {
    target = new URL(to, base);
  } catch {
    return undefined;
  }
  return target.origin === base.origin && !/^[/\\]{2}/.test(target.pathname) ? target : undefined;
}

/** The landing URL (absolute or a path on this host), optionally a same-site path under it, with the parameters added. */
function landingTarget(landing: string, to: string | undefined, params: Record<string, string>): string {
  const base = new URL(landing, PLACEHOLDER_ORIGIN);
  const target = (to === undefined ? undefined : sameSiteTarget(to, base)) ?? base;
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  return target.origin === PLACEHOLDER_ORIGIN ? `${target.pathname}${target.search}${target.hash}` : target.toString();
}

function affiliateView(a: Affiliate): AffiliateView {
  return {
    id: a.id,
    referralCode: a.referral_code,
    referralUrl: `/r/${encodeURIComponent(a.referral_code)}`,
    commissionRateBps: a.commission_rate_bps,
    currency: a.currency,
    stripeConnectedAccountId: a.stripe_connected_account_id,
    status: a.status,
    createdAt: a.created_at.toISOString(),
  };
}

function payoutView(p: AffiliatePayout): PayoutView {
  return {
    id: p.id,
    period: p.period_start.slice(0, 7),
    periodStart: p.period_start,
    periodEnd: p.period_end,
    amountCents: p.amount_cents,
    currency: p.currency,
    commissionCount: p.commission_count,
    status: p.status,
    stripeTransferId: p.stripe_transfer_id,
    failureReason: p.failure_reason,
    paidAt: isoOrNull(p.paid_at),
  };
}

function commissionView(c: AffiliateCommission): CommissionView {
  return {
    id: c.id,
    kind: c.kind,
    stripeInvoiceId: c.stripe_invoice_id,
    invoiceAmountCents: c.invoice_amount_cents,
    commissionRateBps: c.commission_rate_bps,
    amountCents: c.amount_cents,
    currency: c.currency,
    status: c.status,
    eligibleAt: c.eligible_at.toISOString(),
    payoutId: c.payout_id,
    createdAt: c.created_at.toISOString(),
  };
}

const referralView = (r: AffiliateReferral) => ({
  id: r.id,
  affiliateId: r.affiliate_id,
  referralCode: r.referral_code,
  clickId: r.click_id,
  status: r.status,
  referredAt: r.referred_at.toISOString(),
});

const header = (req: Request, name: string) => req.header(name)?.slice(0, 2_000) ?? null;

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;
  const clickLimiter = new TokenBucketLimiter();

  const requireAffiliate = async (userId: string) => {
    const affiliate = await findAffiliateByUser(db, userId);
    if (!affiliate) throw notFound('affiliate account');
    return affiliate;
  };

  // Public: a tracking link is followed by visitors without an API key.
  r.get('/r/:code', async (req, res) => {
    const { code } = ReferralCodeParamSchema.parse(req.params);
    const query = TrackingQuerySchema.safeParse(req.query);
    const tracking = query.success ? query.data : {};
    const affiliate = await findActiveAffiliateByCode(db, code);
    if (!affiliate) {
      res.redirect(302, landingTarget(deps.config.AFFILIATE_LANDING_URL, tracking.to, {}));
      return;
    }
    // Reloads and click fraud beyond a few clicks a minute still redirect, but record nothing (the first clicks set the cookies).
    if (!clickLimiter.take(`${req.ip ?? req.socket.remoteAddress}|${affiliate.id}`, CLICKS_PER_VISITOR_PER_MINUTE).allowed) {
      res.redirect(302, landingTarget(deps.config.AFFILIATE_LANDING_URL, tracking.to, { ref: affiliate.referral_code }));
      return;
    }
    const clickId = await recordClick(db, {
      affiliateId: affiliate.id,
      referralCode: affiliate.referral_code,
      ipHash: hashVisitorIp(req.ip ?? req.socket.remoteAddress),
      userAgent: header(req, 'user-agent'),
      referrerUrl: header(req, 'referer'),
      landingPage: tracking.to ?? null,
      deviceType: deviceTypeOf(req.header('user-agent')),
      utm: {
        source: tracking.utm_source,
        medium: tracking.utm_medium,
        campaign: tracking.utm_campaign,
        term: tracking.utm_term,
        content: tracking.utm_content,
      },
    });
    // Readable by the sign-up page, which sends both back with POST /v1/referrals.
    // Secure whenever the visitor came over https (req.secure trusts X-Forwarded-Proto only from TRUST_PROXY hops).
    const cookie = { maxAge: ATTRIBUTION_COOKIE_MS, sameSite: 'lax' as const, path: '/', secure: req.secure };
    res.cookie('aff_ref', affiliate.referral_code, cookie);
    res.cookie('aff_click', clickId, cookie);
    res.redirect(302, landingTarget(deps.config.AFFILIATE_LANDING_URL, tracking.to, { ref: affiliate.referral_code, aff_click: clickId }));
  });

  r.post('/v1/affiliates', requireScope('billing'), async (req, res) => {
    const body = CreateAffiliateBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    if (await findAffiliateByUser(db, userId)) throw new HttpProblem(409, 'conflict', 'Conflict', 'you are already an affiliate');
    const affiliate = await createAffiliate(db, {
      userId,
      referralCode: body.referralCode ?? randomBytes(6).toString('base64url'),
      stripeConnectedAccountId: body.stripeConnectedAccountId ?? null,
    }).catch((err: unknown) => {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        const constraint = (err as { constraint?: string }).constraint ?? '';
        const field = constraint.includes('stripe') ? 'stripeConnectedAccountId' : constraint.includes('user') ? 'user' : 'referralCode';
        throw new HttpProblem(409, 'conflict', 'Conflict', `${field} is already taken`, { errors: [{ field, message: 'already taken' }] });
      }
      throw err;
    });
    res.status(201).json(affiliateView(affiliate));
  });

  r.get('/v1/affiliates/me', requireScope('billing'), async (_req, res) => {
    const affiliate = await requireAffiliate(caller(res).userId);
    const [stats, payouts] = await Promise.all([affiliateStats(db, affiliate.id), listAffiliatePayouts(db, affiliate.id)]);
    res.json({
      affiliate: affiliateView(affiliate),
      clicks: stats.clicks,
      conversions: stats.conversions,
      referrals: stats.referrals,
      totals: {
        pendingCents: stats.pendingCents,
        eligibleCents: stats.eligibleCents,
        paidCents: stats.paidCents,
        reversedCents: stats.reversedCents,
      },
      payouts: payouts.map(payoutView),
    });
  });

  r.get('/v1/affiliates/me/commissions', requireScope('billing'), async (_req, res) => {
    const affiliate = await requireAffiliate(caller(res).userId);
    res.json({ commissions: (await listAffiliateCommissions(db, affiliate.id)).map(commissionView) });
  });

  r.post('/v1/referrals', requireScope('billing'), async (req, res) => {
    const body = AttributeReferralBodySchema.parse(req.body ?? {});
    const attribution = await db
      .transaction()
      .execute((tx) => attributeReferral(tx, { userId: caller(res).userId, referralCode: body.referralCode, clickId: body.clickId }));
    switch (attribution.outcome) {
      case 'attributed':
        res.status(201).json(referralView(attribution.referral));
        return;
      case 'already_attributed':
        res.status(200).json(referralView(attribution.referral));
        return;
      case 'unknown_code':
        throw notFound('referral code');
      case 'self_referral':
        throw new HttpProblem(422, 'self-referral', 'Self Referral', 'you cannot be referred by your own code', {
          errors: [{ field: 'referralCode', message: 'your own code' }],
        });
      case 'already_paying':
        throw new HttpProblem(
          409,
          'already-customer',
          'Already A Customer',
          'referrals are attributed at sign-up, before the first payment',
        );
    }
  });

  r.post('/v1/admin/payouts/run', requireScope('admin'), async (req, res) => {
    const body = RunPayoutsBodySchema.parse(req.body ?? {});
    const period = body.periodEnd.slice(0, 7);
    const workflowId = payoutsWorkflowId(period);
    const previous = await findRun(db, workflowId);
    // A finished month is not paid again: answer with its run instead.
    if (previous?.status === 'completed') {
      res.status(200).json({ ...runStartedBody(workflowId), period, alreadyCompleted: true });
      return;
    }
    const input: PayoutsInput = { period, minimumPayoutCents: deps.config.AFFILIATE_MIN_PAYOUT_CENTS };
    const { runId } = await startRun(deps, payoutsRun, {
      workflowId,
      args: [input],
      input,
    });
    res.status(202).json({ ...runStartedBody(runId), period, alreadyCompleted: false });
  });

  r.get('/v1/admin/payouts/:period', requireScope('admin'), async (req, res) => {
    const { period } = PayoutPeriodParamSchema.parse(req.params);
    const runId = payoutsWorkflowId(period);
    const [payouts, run] = await Promise.all([listPeriodPayouts(db, payoutPeriod(period).periodStart), findRun(db, runId)]);
    if (payouts.length === 0 && !run) throw notFound('payout period');
    const reconciliation = ReconciliationSchema.safeParse((run?.result as { reconciliation?: unknown } | null)?.reconciliation);
    const report: PeriodReport = {
      period,
      runId,
      runStatus: run?.status ?? null,
      counts: {
        paid: payouts.filter((p) => p.status === 'paid').length,
        failed: payouts.filter((p) => p.status === 'failed').length,
        processing: payouts.filter((p) => p.status === 'processing' || p.status === 'pending').length,
      },
      paidCents: payouts.filter((p) => p.status === 'paid').reduce((sum, p) => sum + p.amount_cents, 0),
      failures: payouts
        .filter((p) => p.status === 'failed')
        .map((p) => ({ payoutId: p.id, affiliateId: p.affiliate_id, amountCents: p.amount_cents, reason: p.failure_reason })),
      reconciliation: reconciliation.success ? reconciliation.data : null,
    };
    res.json(report);
  });

  return r;
}

const RunPayoutsResponseSchema = RunStartedSchema.extend({ period: z.string(), alreadyCompleted: z.boolean() }).meta({
  id: 'PayoutRunStarted',
});

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/r/{code}',
    tags: ['Affiliates'],
    summary:
      'Tracking link: records the click (IP truncated and hashed) and redirects to the landing page with the code (?ref= and cookies)',
    request: { params: ReferralCodeParamSchema, query: PublishedTrackingQuerySchema },
    responses: {
      '302': { description: 'Redirect to the landing page; an unknown code redirects without attribution' },
      ...problems(400, 429),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/affiliates',
    tags: ['Affiliates'],
    summary: 'Become an affiliate (referral code, 20 % commission, payouts to a Stripe connected account)',
    security: bearer(),
    request: { body: { required: false, content: { 'application/json': { schema: CreateAffiliateBodySchema } } } },
    responses: { '201': json(AffiliateSchema, 'The affiliate account'), ...problems(400, 401, 403, 409, 413, 415, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/affiliates/me',
    tags: ['Affiliates'],
    summary: "The caller's clicks, conversions, pending/eligible/paid totals and payouts",
    security: bearer(),
    responses: { '200': json(AffiliateReportSchema, 'Affiliate report'), ...problems(401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/affiliates/me/commissions',
    tags: ['Affiliates'],
    summary: "The caller's commissions and adjustments, newest first (100)",
    security: bearer(),
    responses: { '200': json(CommissionListSchema, 'Commissions'), ...problems(401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/referrals',
    tags: ['Affiliates'],
    summary: 'Sign-up attribution: the caller was referred by this code (once per user, before the first payment)',
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: AttributeReferralBodySchema } } } },
    responses: {
      '201': json(ReferralSchema, 'Attributed'),
      '200': json(ReferralSchema, 'Already attributed (the first attribution stands)'),
      ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/admin/payouts/run',
    tags: ['Admin'],
    summary: 'Pay out the month containing periodEnd now (run payouts:<YYYY-MM>); a finished month is not paid again',
    security: bearer(),
    request: { body: { required: true, content: { 'application/json': { schema: RunPayoutsBodySchema } } } },
    responses: {
      '202': json(RunPayoutsResponseSchema, 'The payout run started (or was already running)'),
      '200': json(RunPayoutsResponseSchema, 'The month was already paid out'),
      ...problems(400, 401, 403, 413, 415, 429),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/admin/payouts/{period}',
    tags: ['Admin'],
    summary: "A month's payouts: counts, sums, failures and the reconciliation with Stripe transfers",
    security: bearer(),
    request: { params: PayoutPeriodParamSchema },
    responses: { '200': json(PeriodReportSchema, 'Period report'), ...problems(400, 401, 403, 404, 429) },
  });
}

export const affiliateRoutes: RouteModule = { router, document };
