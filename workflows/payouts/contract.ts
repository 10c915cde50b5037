import type { DisputeReversalOutcome } from '../../activities/affiliates';
import type { Reconciliation } from '../../schemas/affiliates';
import { defineRun } from '../common/run-definition';
import type { commissionDisputeWorkflow, monthlyPayoutsWorkflow, payoutsWorkflow } from './workflow';

/** Monthly affiliate payouts (AmplifyContent.ai, Glow Social): names shared by the API, worker and tests. */
export const PAYOUTS_WORKFLOW_TYPE = 'payoutsWorkflow';
export const PAYOUT_BATCH_WORKFLOW_TYPE = 'payoutBatchWorkflow';
export const MONTHLY_PAYOUTS_WORKFLOW_TYPE = 'monthlyPayoutsWorkflow';
export const PAYOUTS_JOB_TYPE = 'payouts';
export const MONTHLY_PAYOUTS_JOB_TYPE = 'monthly-payouts';

/** One run per month: the API, the schedule and an operator all land on the same id. */
export const payoutsWorkflowId = (period: string): string => `payouts:${period}`;
/** A child per page of affiliates; `generation` counts continueAsNew hand-overs. */
export const payoutBatchWorkflowId = (period: string, generation: number, batch: number): string =>
  `payouts:${period}:batch-${generation}-${batch}`;

/** The Temporal Schedule (per task-queue prefix, so parallel stacks never share one). */
export const affiliatePayoutsScheduleId = (prefix = ''): string => `${prefix}affiliate-payouts`;

/** Affiliates per child workflow: one local-activity marker (plus workflow tasks) each keeps a child far below 2,000 events. */
export const PAYOUT_BATCH_SIZE = 100;
/** Children per parent run before it continues as new (Temporal allows 2,000 pending; we stay far below). */
export const BATCHES_PER_RUN = 50;
export const PARALLEL_BATCHES = 4;
/** Transfers in flight per batch: Stripe's rate limit is the ceiling, not our CPU. */
export const PAYMENTS_PER_BATCH_IN_FLIGHT = 10;

export interface PayoutTotals {
  paid: number;
  paidCents: number;
  failed: number;
  /** Visited but below the minimum by the time it was their turn (a refund landed meanwhile). */
  belowMinimum: number;
  /** Already paid or failed earlier in this period (a re-run). */
  alreadySettled: number;
  /** Retries exhausted: the payout row stays `processing`; a re-run of the period resumes it. */
  unresolved: number;
}

export const emptyTotals = (): PayoutTotals => ({ paid: 0, paidCents: 0, failed: 0, belowMinimum: 0, alreadySettled: 0, unresolved: 0 });

export function addTotals(a: PayoutTotals, b: PayoutTotals): PayoutTotals {
  return {
    paid: a.paid + b.paid,
    paidCents: a.paidCents + b.paidCents,
    failed: a.failed + b.failed,
    belowMinimum: a.belowMinimum + b.belowMinimum,
    alreadySettled: a.alreadySettled + b.alreadySettled,
    unresolved: a.unresolved + b.unresolved,
  };
}

/** What a run hands to the next one through continueAsNew. */
export interface PayoutsCarried {
  cutoff: string;
  cursor: string | null;
  generation: number;
  batches: number;
  /** Affiliates to visit, counted when the period started (for progress). */
  expected: number;
  totals: PayoutTotals;
}

export interface PayoutsInput {
  /** `YYYY-MM` */
  period: string;
  minimumPayoutCents?: number;
  /** Page geometry; the defaults above unless a test wants many pages from few affiliates. */
  paging?: { batchSize: number; batchesPerRun: number };
  carried?: PayoutsCarried;
}

export interface PayoutsResult {
  period: string;
  cutoff: string;
  totals: PayoutTotals;
  reconciliation: Reconciliation;
}

export interface PayoutBatchInput {
  period: string;
  cutoff: string;
  minimumPayoutCents: number;
  affiliateIds: string[];
  /** The parent's workflow id, stored on each payout row. */
  runId: string;
}

/**
 * A lost dispute (`charge.dispute.closed`, status lost) takes back the disputed invoice's
 * commission the way a refund does; one run per Stripe event.
 */
export const COMMISSION_DISPUTE_WORKFLOW_TYPE = 'commissionDisputeWorkflow';
export const COMMISSION_DISPUTE_JOB_TYPE = 'commission-dispute';
export const commissionDisputeWorkflowId = (stripeEventId: string): string => `commission-dispute:${stripeEventId}`;

export interface CommissionDisputeInput {
  /** The stored `charge.dispute.closed` event. */
  eventId: string;
}

export interface CommissionDisputeResult {
  eventId: string;
  outcome: DisputeReversalOutcome;
}

export interface MonthlyPayoutsInput {
  minimumPayoutCents?: number;
}

export interface MonthlyPayoutsResult {
  period: string;
  /** False when the month had already been run (by the API or an earlier firing). */
  started: boolean;
  result: PayoutsResult | null;
}

/** Ops runs: no owner, so no plan priority and no concurrency cap. */
const opsRun = {
  taskQueue: 'main',
  idConflictPolicy: 'USE_EXISTING',
  idReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  longLived: false,
  planPriority: false,
} as const;

/** Started by an admin (POST /v1/admin/payouts/run) or as the schedule's child; its row is kept by the API and by the workflow itself. */
export const payoutsRun = defineRun<typeof payoutsWorkflow>({
  workflowType: PAYOUTS_WORKFLOW_TYPE,
  jobType: PAYOUTS_JOB_TYPE,
  keysOf: (input) => ({ userId: null, domainId: input.period }),
  registersJobRun: true,
  ...opsRun,
});

/** The `affiliate-payouts` schedule's action; the payout run it starts keeps the job_runs row. */
export const monthlyPayoutsRun = defineRun<typeof monthlyPayoutsWorkflow>({
  workflowType: MONTHLY_PAYOUTS_WORKFLOW_TYPE,
  jobType: MONTHLY_PAYOUTS_JOB_TYPE,
  keysOf: () => ({ userId: null }),
  registersJobRun: false,
  ...opsRun,
});

/** Started by the Stripe webhook, once per event. */
export const commissionDisputeRun = defineRun<typeof commissionDisputeWorkflow>({
  workflowType: COMMISSION_DISPUTE_WORKFLOW_TYPE,
  jobType: COMMISSION_DISPUTE_JOB_TYPE,
  keysOf: (input) => ({ userId: null, domainId: input.eventId }),
  registersJobRun: false,
  ...opsRun,
});
