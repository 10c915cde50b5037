import {
  CancellationScope,
  isCancellation,
  continueAsNew,
  executeChild,
  log,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  TemporalFailure,
  WorkflowIdReusePolicy,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { AffiliateActivities } from '../../activities/affiliates';
import type { RunActivities } from '../../activities/runs';
import { DEFAULT_AFFILIATE_POLICY, previousPeriod } from '../../schemas/affiliates';
import { describeFailure } from '../common/failures';
import { RunTracker } from '../common/run-tracking';
import {
  addTotals,
  BATCHES_PER_RUN,
  emptyTotals,
  PARALLEL_BATCHES,
  PAYMENTS_PER_BATCH_IN_FLIGHT,
  PAYOUT_BATCH_SIZE,
  PAYOUTS_JOB_TYPE,
  payoutBatchWorkflowId,
  payoutsWorkflowId,
  type CommissionDisputeInput,
  type CommissionDisputeResult,
  type MonthlyPayoutsInput,
  type MonthlyPayoutsResult,
  type PayoutBatchInput,
  type PayoutsCarried,
  type PayoutsInput,
  type PayoutsResult,
  type PayoutTotals,
} from './contract';
import { databaseWrites } from '../common/activity-options';

const affiliates = proxyActivities<AffiliateActivities>({
  // PostgreSQL and one Stripe call: a dead worker's payout is picked up again within seconds.
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 8 },
});

// Each payment is one short PostgreSQL + Stripe step, idempotent by its payout id, so it runs as
// a local activity: one marker event and no server round trip per affiliate. A worker that dies
// mid-payment lets the workflow task time out; the next worker repeats it with the same key.
const payments = proxyLocalActivities<AffiliateActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 8 },
});

const runs = proxyActivities<RunActivities>(databaseWrites());

/**
 * One page of affiliates (`payouts:<period>:batch-…`): each is paid through one idempotent
 * local activity, a few at a time. An affiliate whose retries run out is counted `unresolved`: its
 * payout row stays `processing` and the next run of the period resumes it.
 */
export async function payoutBatchWorkflow(input: PayoutBatchInput): Promise<PayoutTotals> {
  const totals = emptyTotals();
  const queue = [...input.affiliateIds];
  const worker = async () => {
    for (let affiliateId = queue.shift(); affiliateId !== undefined; affiliateId = queue.shift()) {
      try {
        const paid = await payments.payAffiliate({
          affiliateId,
          period: input.period,
          cutoff: input.cutoff,
          minimumPayoutCents: input.minimumPayoutCents,
          runId: input.runId,
        });
        if (paid.outcome === 'paid') {
          totals.paid += 1;
          totals.paidCents += paid.amountCents;
        } else if (paid.outcome === 'failed') totals.failed += 1;
        else if (paid.outcome === 'below_minimum') totals.belowMinimum += 1;
        else totals.alreadySettled += 1;
      } catch (err) {
        // A local activity's last failure arrives unwrapped (not as an ActivityFailure).
        if (isCancellation(err) || !(err instanceof TemporalFailure)) throw err;
        log.error('affiliate payout unresolved after retries', {
          affiliateId,
          period: input.period,
          error: err.cause?.message ?? err.message,
        });
        totals.unresolved += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PAYMENTS_PER_BATCH_IN_FLIGHT, queue.length) }, worker));
  return totals;
}

/**
 * Pays every affiliate whose eligible balance reaches the minimum for one month
 * (`payouts:<YYYY-MM>`): pages of affiliates go to child workflows, a few in parallel, and the
 * run continues as new every BATCHES_PER_RUN pages so no history grows with the number of
 * affiliates. Ends with a reconciliation of Stripe's transfers against the paid payout rows.
 * Running a period again pays nobody twice: payout rows are unique per affiliate and period.
 */
export async function payoutsWorkflow(input: PayoutsInput): Promise<PayoutsResult> {
  const { workflowId } = workflowInfo();
  const minimumPayoutCents = input.minimumPayoutCents ?? DEFAULT_AFFILIATE_POLICY.minimumPayoutCents;
  const { batchSize, batchesPerRun } = input.paging ?? { batchSize: PAYOUT_BATCH_SIZE, batchesPerRun: BATCHES_PER_RUN };
  // Not trackRun: the job_runs row opens in the first run and closes in the last, across continueAsNew.
  const tracker = new RunTracker();
  let outcome: { next: PayoutsInput } | { result: PayoutsResult };
  try {
    let state: PayoutsCarried;
    if (input.carried) state = input.carried;
    else {
      await runs.recordRunStarted({ id: workflowId, type: PAYOUTS_JOB_TYPE, userId: null, domainId: input.period });
      const opened = await affiliates.openPayoutPeriod({ period: input.period, minimumPayoutCents });
      state = { cutoff: opened.cutoff, cursor: null, generation: 0, batches: 0, expected: opened.expected, totals: emptyTotals() };
      await tracker.stage('paying', 1, { expected: opened.expected, promoted: opened.promoted });
    }
    const visited = () => {
      const t = state.totals;
      return t.paid + t.failed + t.belowMinimum + t.alreadySettled + t.unresolved;
    };
    const inFlight = new Map<number, Promise<void>>();
    const collect = (batch: number, child: ChildWorkflowHandle<typeof payoutBatchWorkflow>) =>
      child.result().then(async (totals) => {
        state.totals = addTotals(state.totals, totals);
        inFlight.delete(batch);
        await tracker.stage('paying', state.expected > 0 ? (95 * visited()) / state.expected : 95, { ...state.totals });
      });

    let batchesThisRun = 0;
    let exhausted = false;
    while (!exhausted && batchesThisRun < batchesPerRun) {
      const page = await affiliates.listPayableAffiliates({
        period: input.period,
        cutoff: state.cutoff,
        minimumPayoutCents,
        afterId: state.cursor,
        limit: batchSize,
      });
      exhausted = page.length < batchSize;
      if (page.length === 0) break;
      state.cursor = page[page.length - 1] ?? state.cursor;
      const batch = state.batches;
      state.batches += 1;
      batchesThisRun += 1;
      const child = await startChild(payoutBatchWorkflow, {
        workflowId: payoutBatchWorkflowId(input.period, state.generation, batch),
        args: [{ period: input.period, cutoff: state.cutoff, minimumPayoutCents, affiliateIds: page, runId: workflowId }],
      });
      inFlight.set(batch, collect(batch, child));
      if (inFlight.size >= PARALLEL_BATCHES) await Promise.race(inFlight.values());
    }
    await Promise.all(inFlight.values());

    if (!exhausted) {
      outcome = {
        next: { period: input.period, minimumPayoutCents, paging: input.paging, carried: { ...state, generation: state.generation + 1 } },
      };
    } else {
      await tracker.stage('reconciling', 96, { ...state.totals });
      const reconciliation = await affiliates.reconcilePayoutPeriod({ period: input.period });
      if (!reconciliation.matched)
        log.warn('payouts do not reconcile with Stripe', { period: input.period, mismatches: reconciliation.mismatches.length });
      const result: PayoutsResult = { period: input.period, cutoff: state.cutoff, totals: state.totals, reconciliation };
      await runs.recordRunClosed(workflowId, { status: 'completed', stage: 'done', result });
      outcome = { result };
    }
  } catch (err) {
    const status = isCancellation(err) ? 'canceled' : 'failed';
    await CancellationScope.nonCancellable(() =>
      runs.recordRunClosed(workflowId, { status, stage: tracker.current.stage, error: describeFailure(err) }),
    );
    throw err;
  }
  // Outside the try: continueAsNew ends this run by throwing, which is not a failure to record.
  if ('next' in outcome) return continueAsNew<typeof payoutsWorkflow>(outcome.next);
  return outcome.result;
}

/**
 * What the `affiliate-payouts` schedule starts on the 1st of each month: pays out the month
 * that just ended under its own id `payouts:<YYYY-MM>`. A month already run (by the API or an
 * earlier firing) is left alone.
 */
export async function monthlyPayoutsWorkflow(input: MonthlyPayoutsInput = {}): Promise<MonthlyPayoutsResult> {
  const period = previousPeriod(workflowInfo().startTime);
  try {
    const result = await executeChild(payoutsWorkflow, {
      workflowId: payoutsWorkflowId(period),
      args: [{ period, minimumPayoutCents: input.minimumPayoutCents }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      // The payout run outlives this launcher if someone terminates it.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { period, started: true, result };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { period, started: false, result: null };
    throw err;
  }
}

/**
 * A lost dispute of a referred customer's payment (`commission-dispute:<eventId>`): its
 * commission is reversed, or clawed back from the next payout if it was already paid.
 */
export async function commissionDisputeWorkflow(input: CommissionDisputeInput): Promise<CommissionDisputeResult> {
  const { outcome } = await affiliates.reverseCommissionForLostDispute({ eventId: input.eventId });
  return { eventId: input.eventId, outcome };
}
