import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createAffiliateActivities, type AffiliateActivities } from '../activities/affiliates';
import type { Providers } from '../providers';
import { providerCall } from '../providers/call';
import { ProviderLimiter } from '../providers/rate-limit';
import { createStripeClient, StripeAdapter } from '../providers/stripe';
import { createRunActivities } from '../activities/runs';
import type { Db } from '../db/database';
import { createLogger } from '../lib/logger';
import { historyLengthsFrom } from '../lib/workflow-histories';
import { startStripeSandbox } from '../sandbox/stripe';
import { previousPeriod } from '../schemas/affiliates';
import {
  PARALLEL_BATCHES,
  PAYMENTS_PER_BATCH_IN_FLIGHT,
  PAYOUT_BATCH_SIZE,
  PAYOUTS_WORKFLOW_TYPE,
  payoutsWorkflowId,
  type PayoutsInput,
  type PayoutsResult,
} from '../workflows/payouts/contract';
import { absolute, atMostTimes, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult } from './lib/result';
import { runWorkerDuring, type BenchStack } from './lib/stack';
import { timed } from './lib/stats';

const SIZES = { quick: { referrals: 2_000 }, full: { referrals: 100_000 } };
/** Ten paid referrals of $50 at 20% per affiliate: $100 each, above the $50 minimum. */
const REFERRALS_PER_AFFILIATE = 10;
const INVOICE_CENTS = 5_000;
const RATE_BPS = 2_000;
const COMMISSION_CENTS = (INVOICE_CENTS * RATE_BPS) / 10_000;
const MINIMUM_PAYOUT_CENTS = 5_000;
const HISTORY_LIMIT = 2_000;
/** What the workflow keeps in flight (parallel child batches × payments per batch); the script gets the same. */
const IN_FLIGHT = PARALLEL_BATCHES * PAYMENTS_PER_BATCH_IN_FLIGHT;

interface PhaseOutcome {
  wallMs: number;
  paid: number;
  paidCents: number;
  transfers: number;
  reconciled: boolean;
}

/** Affiliates with connected accounts, their referred users and one eligible commission per referral, in bulk SQL. */
async function seed(db: Db, referrals: number, tag: string): Promise<number> {
  const affiliates = Math.ceil(referrals / REFERRALS_PER_AFFILIATE);
  await sql`insert into users (email) select ${`b6-${tag}-aff-`} || i || '@bench.test' from generate_series(1, ${affiliates}::int) i`.execute(
    db,
  );
  await sql`insert into users (email) select ${`b6-${tag}-ref-`} || i || '@bench.test' from generate_series(1, ${referrals}::int) i`.execute(
    db,
  );
  await sql`
    insert into affiliates (user_id, referral_code, stripe_connected_account_id, status)
    select id, 'b6-' || replace(id::text, '-', ''), 'acct_' || replace(id::text, '-', ''), 'active'
    from users where email like ${`b6-${tag}-aff-%`}`.execute(db);
  await sql`
    insert into affiliate_referrals (affiliate_id, referred_user_id, referral_code, status, converted_at)
    select a.id, u.id, a.referral_code, 'converted', now()
    from (select id, row_number() over (order by id) - 1 as n from users where email like ${`b6-${tag}-ref-%`}) u
    join (select id, referral_code, row_number() over (order by id) - 1 as n from affiliates where referral_code like 'b6-%') a
      on a.n = u.n % ${affiliates}::int`.execute(db);
  await sql`
    insert into affiliate_commissions (affiliate_id, referral_id, kind, stripe_invoice_id, invoice_amount_cents, commission_rate_bps, amount_cents, status, eligible_at)
    select affiliate_id, id, 'commission', 'in_b6_' || replace(id::text, '-', ''), ${INVOICE_CENTS}::int, ${RATE_BPS}::int, ${COMMISSION_CENTS}::int, 'eligible', now() - interval '40 days'
    from affiliate_referrals where referral_code like 'b6-%'`.execute(db);
  await sql`vacuum analyze`.execute(db);
  return affiliates;
}

/** Back to the seeded state, so both phases do the same writes on the same rows. */
async function resetPayouts(db: Db): Promise<void> {
  await sql`update affiliate_commissions set status = 'eligible', payout_id = null, paid_at = null where stripe_invoice_id like 'in_b6_%'`.execute(
    db,
  );
  await sql`delete from affiliate_payouts`.execute(db);
  await sql`update affiliates set last_payout_at = null`.execute(db);
  await sql`vacuum analyze`.execute(db);
}

/** A fresh Stripe sandbox (zero latency) and the production affiliate activities pointed at it. */
async function withStripe<T>(db: Db, body: (activities: AffiliateActivities, transfers: () => number) => Promise<T>): Promise<T> {
  const sandbox = await startStripeSandbox({ webhookSecret: 'whsec_bench_b6', port: 0 });
  try {
    const stripe = new StripeAdapter(
      createStripeClient('sk_test_bench_b6', sandbox.url),
      providerCall(new ProviderLimiter('stripe', { maxConcurrent: IN_FLIGHT })),
    );
    const activities = createAffiliateActivities({ db, logger: createLogger('silent'), providers: { stripe } as unknown as Providers });
    return await body(activities, () => sandbox.state.transfers.size);
  } finally {
    await sandbox.stop();
  }
}

/**
 * The baseline: a plain paged script over the same activity functions (so the same SQL and
 * Stripe calls), keyset pages of PAYOUT_BATCH_SIZE feeding IN_FLIGHT lanes, no orchestration.
 */
async function pagedScript(activities: AffiliateActivities, period: string): Promise<Omit<PhaseOutcome, 'wallMs' | 'transfers'>> {
  const opened = await activities.openPayoutPeriod({ period, minimumPayoutCents: MINIMUM_PAYOUT_CENTS });
  const queue: string[] = [];
  let cursor: string | null = null;
  let exhausted = false;
  let fetching: Promise<void> | null = null;
  const nextAffiliate = async (): Promise<string | undefined> => {
    while (queue.length === 0 && !exhausted) {
      fetching ??= activities
        .listPayableAffiliates({
          period,
          cutoff: opened.cutoff,
          minimumPayoutCents: MINIMUM_PAYOUT_CENTS,
          afterId: cursor,
          limit: PAYOUT_BATCH_SIZE,
        })
        .then((page) => {
          queue.push(...page);
          cursor = page.at(-1) ?? cursor;
          exhausted = page.length < PAYOUT_BATCH_SIZE;
        })
        .finally(() => (fetching = null));
      await fetching;
    }
    return queue.shift();
  };
  let paid = 0;
  let paidCents = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let affiliateId = await nextAffiliate(); affiliateId; affiliateId = await nextAffiliate()) {
        const outcome = await activities.payAffiliate({
          affiliateId,
          period,
          cutoff: opened.cutoff,
          minimumPayoutCents: MINIMUM_PAYOUT_CENTS,
          runId: 'bench-script',
        });
        if (outcome.outcome === 'paid') {
          paid += 1;
          paidCents += outcome.amountCents;
        }
      }
    }),
  );
  const reconciliation = await activities.reconcilePayoutPeriod({ period });
  return { paid, paidCents, reconciled: reconciliation.matched };
}

/**
 * B6: the monthly payout over N referrals (N/10 affiliates, each owed $100): the payouts workflow
 * (child batches, continueAsNew) on a production-like worker against a plain paged script
 * calling the same activities, both transferring through the Stripe sandbox. Also reads every
 * run's history (parent runs and children) and checks the longest stays under 2,000 events.
 */
export function payoutsBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B6',
    title: 'Payouts over N referrals vs a plain paged script doing the same writes',
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      const tag = randomBytes(3).toString('hex');
      context.log(`B6 seeding ${size.referrals} referrals`);
      const seedMs = await timed(async () => void (await seed(s.db, size.referrals, tag)));
      const affiliates = Math.ceil(size.referrals / REFERRALS_PER_AFFILIATE);
      const period = previousPeriod(new Date());
      const expectedCents = affiliates * REFERRALS_PER_AFFILIATE * COMMISSION_CENTS;

      context.log(`B6 ours: payouts workflow over ${affiliates} affiliates`);
      const taskQueue = `bench-b6-${tag}`;
      const workflowId = payoutsWorkflowId(`${period}-${tag}`);
      const productionBundle = await s.productionBundle();
      const ours = await withStripe(s.db, (activities, transfers) =>
        runWorkerDuring(s, taskQueue, productionBundle, { ...activities, ...createRunActivities({ db: s.db }) }, async () => {
          let result: PayoutsResult | undefined;
          let firstRunId = '';
          const wallMs = await timed(async () => {
            const handle = await s.client.workflow.start(PAYOUTS_WORKFLOW_TYPE, {
              taskQueue,
              workflowId,
              args: [{ period, minimumPayoutCents: MINIMUM_PAYOUT_CENTS } satisfies PayoutsInput],
            });
            firstRunId = handle.firstExecutionRunId;
            result = (await handle.result()) as PayoutsResult;
          });
          const outcome: PhaseOutcome = {
            wallMs,
            paid: result?.totals.paid ?? 0,
            paidCents: result?.totals.paidCents ?? 0,
            transfers: transfers(),
            reconciled: result?.reconciliation.matched ?? false,
          };
          return { outcome, histories: await historyLengthsFrom(s.client, workflowId, firstRunId) };
        }),
      );

      await resetPayouts(s.db);
      context.log(`B6 baseline: paged script over ${affiliates} affiliates, ${IN_FLIGHT} in flight`);
      const baseline = await withStripe(s.db, async (activities, transfers) => {
        let done: Omit<PhaseOutcome, 'wallMs' | 'transfers'> | undefined;
        const wallMs = await timed(async () => void (done = await pagedScript(activities, period)));
        return {
          wallMs,
          transfers: transfers(),
          paid: done?.paid ?? 0,
          paidCents: done?.paidCents ?? 0,
          reconciled: done?.reconciled ?? false,
        };
      });

      const parentRuns = ours.histories.filter((h) => h.workflowId === workflowId);
      const children = ours.histories.filter((h) => h.workflowId !== workflowId);
      const longest = Math.max(...ours.histories.map((h) => h.events));
      const errors = (o: PhaseOutcome) =>
        o.paid === affiliates && o.paidCents === expectedCents && o.transfers === affiliates && o.reconciled ? 0 : 1;
      return {
        id: 'B6',
        title: this.title,
        status: 'measured',
        n: size.referrals,
        warmup: 0,
        concurrency: IN_FLIGHT,
        series: [
          {
            label: `payouts workflow, ${affiliates} affiliates`,
            role: 'ours',
            throughputPerSec: (affiliates * 1000) / ours.outcome.wallMs,
            errors: errors(ours.outcome),
          },
          {
            label: 'paged script, same activity functions',
            role: 'baseline',
            throughputPerSec: (affiliates * 1000) / baseline.wallMs,
            errors: errors(baseline),
          },
        ],
        checks: [
          atMostTimes('wall time', ours.outcome.wallMs, baseline.wallMs, 1.5), // issue 26's goal
          absolute('longest run history (events)', longest, Number.NaN, `< ${HISTORY_LIMIT}`, longest < HISTORY_LIMIT, 'count'),
        ],
        notes: [
          `N = referrals (one eligible $${COMMISSION_CENTS / 100} commission each), ${REFERRALS_PER_AFFILIATE} per affiliate: ${affiliates} payouts, each a payout row, a Stripe transfer (sandbox, zero latency) and its commissions marked paid; seeding took ${Math.round(seedMs)} ms (bulk SQL, not timed).`,
          `Ours: ${parentRuns.length} parent runs (${parentRuns.map((r) => r.events).join(', ')} events) and ${children.length} child batches (longest ${Math.max(0, ...children.map((c) => c.events))} events). Throughput columns are payouts per second.`,
          `Both sides call the same activity functions with ${IN_FLIGHT} payments in flight (the workflow's ${PARALLEL_BATCHES} batches × ${PAYMENTS_PER_BATCH_IN_FLIGHT}); the script runs second, on warm caches, after the payout rows are reset.`,
          `Ours paid ${ours.outcome.paid} (${ours.outcome.transfers} transfers, reconciled: ${ours.outcome.reconciled}); the script paid ${baseline.paid} (${baseline.transfers} transfers, reconciled: ${baseline.reconciled}).`,
        ],
      };
    },
  };
}
