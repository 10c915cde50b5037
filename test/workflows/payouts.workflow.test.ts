import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import type { PayAffiliateOutcome } from '../../activities/affiliates';
import { historyLengthsFrom } from '../../lib/workflow-histories';
import { previousPeriod, type Reconciliation } from '../../schemas/affiliates';
import { payoutsWorkflowId, type MonthlyPayoutsResult, type PayoutsResult } from '../../workflows/payouts/contract';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities, workerRunner } from '../helpers/workflow-tests';

/** The payout orchestration with mocked activities: paging into child batches, continueAsNew, failures, the monthly launcher. */
describe('payoutsWorkflow (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  /** An in-memory program: ids in order, each paid once; `refuse` affiliates fail at Stripe. */
  function fakeProgram(count: number, options: { broken?: Set<string>; refuse?: Set<string> } = {}) {
    const ids = Array.from({ length: count }, (_, i) => `aff-${String(i).padStart(4, '0')}`);
    const paid = new Map<string, number>();
    const reconciliation: Reconciliation = {
      period: '2026-10',
      transferGroup: 'payouts:2026-10',
      transferCount: 0,
      transfersCents: 0,
      paidPayoutCount: 0,
      paidPayoutsCents: 0,
      matched: true,
      mismatches: [],
    };
    const { activities, named } = recordingActivities({
      recordRunStarted: async () => undefined,
      recordRunProgress: async () => undefined,
      recordRunClosed: async () => undefined,
      openPayoutPeriod: async () => ({ cutoff: '2026-11-01T00:00:00.000Z', promoted: 0, expected: count }),
      listPayableAffiliates: async (input: { afterId: string | null; limit: number }) =>
        ids.filter((id) => (input.afterId === null || id > input.afterId) && !paid.has(id)).slice(0, input.limit),
      payAffiliate: async (input: { affiliateId: string }): Promise<PayAffiliateOutcome> => {
        if (options.broken?.has(input.affiliateId)) throw ApplicationFailure.nonRetryable('database exploded', 'Internal');
        if (options.refuse?.has(input.affiliateId))
          return { outcome: 'failed', payoutId: `po-${input.affiliateId}`, amountCents: 5_000, reason: 'Stripe refused' };
        if (paid.has(input.affiliateId)) return { outcome: 'already_paid', payoutId: `po-${input.affiliateId}`, amountCents: 5_000 };
        paid.set(input.affiliateId, 5_000);
        return { outcome: 'paid', payoutId: `po-${input.affiliateId}`, amountCents: 5_000, transferId: `tr-${input.affiliateId}` };
      },
      reconcilePayoutPeriod: async () => ({
        ...reconciliation,
        transferCount: paid.size,
        transfersCents: paid.size * 5_000,
        paidPayoutCount: paid.size,
        paidPayoutsCents: paid.size * 5_000,
      }),
    });
    /** Every payAffiliate call's affiliate, in call order. */
    const payCalls = () => named('payAffiliate').map((c) => c.input.affiliateId as string);
    return { activities, paid, payCalls };
  }

  const withWorker = workerRunner(() => env, 'payouts-wf');

  it('pays every affiliate once through child batches, continuing as new, each run with a short history', async () => {
    const program = fakeProgram(23);
    const workflowId = payoutsWorkflowId(`2026-10-${randomUUID().slice(0, 8)}`);
    const { result, lengths } = await withWorker(program.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start('payoutsWorkflow', {
        workflowId,
        taskQueue,
        args: [{ period: '2026-10', minimumPayoutCents: 5_000, paging: { batchSize: 5, batchesPerRun: 2 } }],
      });
      const result = (await handle.result()) as PayoutsResult;
      return { result, lengths: await historyLengthsFrom(env.client, workflowId, handle.firstExecutionRunId) };
    });
    expect(result.totals).toEqual({ paid: 23, paidCents: 115_000, failed: 0, belowMinimum: 0, alreadySettled: 0, unresolved: 0 });
    expect(program.payCalls()).toHaveLength(23);
    expect(new Set(program.payCalls()).size).toBe(23);
    expect(result.reconciliation).toMatchObject({ matched: true, transfersCents: 115_000 });
    // 5 pages of 5 at 2 pages per run: three runs chained by continueAsNew and a child per page, none with a long history.
    expect(lengths.filter((l) => l.workflowId === workflowId)).toHaveLength(3);
    expect(lengths.filter((l) => l.workflowId !== workflowId)).toHaveLength(5);
    for (const { events } of lengths) expect(events).toBeLessThan(200);
  });

  it('counts a refused transfer as failed and an affiliate whose retries ran out as unresolved, paying the rest', async () => {
    const program = fakeProgram(6, { refuse: new Set(['aff-0001']), broken: new Set(['aff-0003']) });
    const result = (await withWorker(program.activities, (taskQueue) =>
      env.client.workflow.execute('payoutsWorkflow', {
        workflowId: payoutsWorkflowId(`fail-${randomUUID().slice(0, 8)}`),
        taskQueue,
        args: [{ period: '2026-10', minimumPayoutCents: 5_000 }],
      }),
    )) as PayoutsResult;
    expect(result.totals).toEqual({ paid: 4, paidCents: 20_000, failed: 1, belowMinimum: 0, alreadySettled: 0, unresolved: 1 });
    expect([...program.paid.keys()].sort()).toEqual(['aff-0000', 'aff-0002', 'aff-0004', 'aff-0005']);
  });

  it('the monthly launcher pays out the month before its start; launching it again pays nobody twice', async () => {
    const program = fakeProgram(3);
    await withWorker(program.activities, async (taskQueue) => {
      const launcher = await env.client.workflow.start('monthlyPayoutsWorkflow', {
        workflowId: `monthly-${randomUUID()}`,
        taskQueue,
        args: [{ minimumPayoutCents: 5_000 }],
      });
      const period = previousPeriod((await launcher.describe()).startTime);
      const first = (await launcher.result()) as MonthlyPayoutsResult;
      expect(first).toMatchObject({ period, started: true, result: { period, totals: { paid: 3 } } });
      const again = (await env.client.workflow.execute('monthlyPayoutsWorkflow', {
        workflowId: `monthly-${randomUUID()}`,
        taskQueue,
        args: [{}],
      })) as MonthlyPayoutsResult;
      // The dev server refuses the completed id (started: false); the time-skipping server reruns it: either way nobody is paid again.
      if (again.started) expect(again.result?.totals).toMatchObject({ paid: 0, paidCents: 0 });
    });
    expect(program.payCalls()).toHaveLength(3);
  });
});
