import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { PayAffiliateOutcome } from '../../activities/affiliates';
import { historyLengthsFrom } from '../../lib/workflow-histories';
import type { Reconciliation } from '../../schemas/affiliates';
import { BATCHES_PER_RUN, PAYOUT_BATCH_SIZE, payoutsWorkflowId, type PayoutsResult } from '../../workflows/payouts/contract';
import { testClient, testDataConverter, testNativeConnection, workflowBundle } from '../helpers/temporal';

const AFFILIATES = 10_000;
const HISTORY_LIMIT = 2_000;

/**
 * Issue I: "10,000 affiliates: completes with every run's history under 2,000 events". The real
 * payout workflows with their production page geometry (no `paging` override) on the dev server;
 * the activities are in-memory because a history's shape is decided by the workflow code: one
 * listing per page, one child per page, one payAffiliate per affiliate, whatever they write.
 */
describe('payoutsWorkflow over 10,000 affiliates (dev server, in-memory activities)', () => {
  it('pays every affiliate once with every run, continued-as-new run and child under 2,000 history events', async () => {
    const ids = Array.from({ length: AFFILIATES }, (_, i) => `aff-${String(i).padStart(5, '0')}`);
    const position = new Map(ids.map((id, i) => [id, i]));
    const paid = new Set<string>();
    let payCalls = 0;
    const activities = {
      recordRunStarted: async () => undefined,
      recordRunProgress: async () => undefined,
      recordRunClosed: async () => undefined,
      openPayoutPeriod: async () => ({ cutoff: '2026-11-01T00:00:00.000Z', promoted: AFFILIATES, expected: AFFILIATES }),
      listPayableAffiliates: async (input: { afterId: string | null; limit: number }) => {
        const from = input.afterId === null ? 0 : (position.get(input.afterId) ?? -1) + 1;
        return ids.slice(from, from + input.limit);
      },
      payAffiliate: async (input: { affiliateId: string }): Promise<PayAffiliateOutcome> => {
        payCalls += 1;
        if (paid.has(input.affiliateId)) return { outcome: 'already_paid', payoutId: `po-${input.affiliateId}`, amountCents: 5_000 };
        paid.add(input.affiliateId);
        return { outcome: 'paid', payoutId: `po-${input.affiliateId}`, amountCents: 5_000, transferId: `tr-${input.affiliateId}` };
      },
      reconcilePayoutPeriod: async (): Promise<Reconciliation> => ({
        period: '2026-10',
        transferGroup: 'payouts:2026-10',
        transferCount: paid.size,
        transfersCents: paid.size * 5_000,
        paidPayoutCount: paid.size,
        paidPayoutsCents: paid.size * 5_000,
        matched: true,
        mismatches: [],
      }),
    } as unknown as Activities;

    const [connection, client] = await Promise.all([testNativeConnection(), testClient()]);
    const taskQueue = `payouts-10k-${randomUUID()}`;
    const workflowId = payoutsWorkflowId(`2026-10-10k-${randomUUID().slice(0, 8)}`);
    try {
      const worker = await Worker.create({
        connection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities,
        dataConverter: testDataConverter(),
        maxConcurrentActivityTaskExecutions: 200,
      });
      const handle = await worker.runUntil(async () => {
        const started = await client.workflow.start('payoutsWorkflow', {
          workflowId,
          taskQueue,
          args: [{ period: '2026-10', minimumPayoutCents: 5_000 }],
        });
        const result = (await started.result()) as PayoutsResult;
        expect(result.totals).toEqual({
          paid: AFFILIATES,
          paidCents: AFFILIATES * 5_000,
          failed: 0,
          belowMinimum: 0,
          alreadySettled: 0,
          unresolved: 0,
        });
        return started;
      });
      expect(payCalls).toBe(AFFILIATES);
      expect(paid.size).toBe(AFFILIATES);

      const lengths = await historyLengthsFrom(client, workflowId, handle.firstExecutionRunId);
      const parentRuns = lengths.filter((l) => l.workflowId === workflowId);
      const children = lengths.filter((l) => l.workflowId !== workflowId);
      // 100 pages of 100 at 50 pages per run: two full runs, then one that finds the list empty.
      const pages = AFFILIATES / PAYOUT_BATCH_SIZE;
      expect(children).toHaveLength(pages);
      expect(parentRuns).toHaveLength(Math.floor(pages / BATCHES_PER_RUN) + 1);
      const longest = lengths.reduce((a, b) => (b.events > a.events ? b : a));
      expect(longest.events).toBeLessThan(HISTORY_LIMIT);
      for (const run of lengths) expect(run.events).toBeGreaterThan(0);
      process.stdout.write(
        `payouts over ${AFFILIATES} affiliates: ${parentRuns.length} parent runs (${parentRuns.map((r) => r.events).join(', ')} events), ` +
          `${children.length} children (max ${Math.max(...children.map((c) => c.events))} events)\n`,
      );
    } finally {
      await client.connection.close();
      await connection.close();
    }
  });
});
