import { Context } from '@temporalio/activity';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import type { SubscriptionSummary } from '../../workflows/subscription/contract';
import { stripeEventSignal, subscriptionStateQuery, subscriptionWorkflowId } from '../../workflows/subscription/contract';
import { adminGrantWorkflowId, revokeAdminGrantSignal, type AdminGrantWorkflowResult } from '../../workflows/admin-grant/contract';
import type { adminGrantWorkflow } from '../../workflows/admin-grant/workflow';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities, workerRunner } from '../helpers/workflow-tests';

const DAY = 86_400_000;

/** The admin grant's durable expiry timer, on the time-skipping server with mocked activities. */
describe('adminGrantWorkflow (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  /** A grant of `days` days (null: no expiry) from the moment the workflow first reads it; `subscriptionId` makes the user a subscriber. */
  function fakeActivities(opts: { days: number | null; subscriptionId?: string }) {
    let expiresAt: string | null | undefined;
    const summary: SubscriptionSummary = {
      userId: 'user-1',
      planSlug: 'basic',
      status: 'active',
      currentPeriodStart: null,
      currentPeriodEnd: null,
      trialEnd: null,
      cancelAtPeriodEnd: false,
      latestInvoiceId: null,
      everPaid: true,
    };
    return recordingActivities({
      loadAdminGrant: () => {
        expiresAt ??=
          opts.days === null ? null : new Date(Context.current().info.currentAttemptScheduledTimestampMs + opts.days * DAY).toISOString();
        return { userId: 'user-1', active: true, expiresAt };
      },
      deactivateAdminGrant: () => ({ changed: true }),
      applyAdminGrantAccess: ({ ignoreSubscription }: { ignoreSubscription?: boolean }) =>
        opts.subscriptionId && !ignoreSubscription
          ? { stripeSubscriptionId: opts.subscriptionId, tier: null }
          : { stripeSubscriptionId: null, tier: 'free' },
      // The subscription workflow's side, for the refresh signal.
      syncStripeSubscription: () => ({ applied: true, subscription: summary }),
      applySubscriptionAccess: ({ tier }: { tier: string }) => ({ tier }),
      markStripeEventHandled: () => undefined,
    });
  }

  const withWorker = workerRunner(() => env, 'admin-grant-wf');

  const start = (taskQueue: string, grantId: string) =>
    env.client.workflow.start<typeof adminGrantWorkflow>('adminGrantWorkflow', {
      workflowId: adminGrantWorkflowId(grantId),
      taskQueue,
      args: [{ grantId, fallbackTier: 'basic' }],
    });

  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  }

  it('ends the grant exactly at expires_at and restores the tier (durable timer)', async () => {
    const fake = fakeActivities({ days: 30 });
    const result = await withWorker(fake.activities, async (tq) => (await start(tq, 'grant-expiry')).result());
    expect(result).toEqual<AdminGrantWorkflowResult>({ grantId: 'grant-expiry', outcome: 'expired' });
    expect(fake.calls.map((c) => c.name)).toEqual([
      'loadAdminGrant',
      'applyAdminGrantAccess',
      'deactivateAdminGrant',
      'applyAdminGrantAccess',
    ]);
    const loadedAt = fake.named('loadAdminGrant')[0]!.at;
    const endedAt = fake.named('deactivateAdminGrant')[0]!.at;
    expect(endedAt - loadedAt).toBeGreaterThanOrEqual(30 * DAY);
    expect(endedAt - loadedAt).toBeLessThan(30 * DAY + 60_000);
    expect(fake.named('deactivateAdminGrant')[0]!.input).toEqual({ grantId: 'grant-expiry', revoked: false });
    expect(fake.named('applyAdminGrantAccess').map((c) => c.input)).toEqual([
      { userId: 'user-1', fallbackTier: 'basic' },
      { userId: 'user-1', fallbackTier: 'basic' },
    ]);
  });

  it('revoking early cancels the timer: the grant ends at the revoke, days before expiry', async () => {
    const fake = fakeActivities({ days: 30 });
    const result = await withWorker(fake.activities, async (tq) => {
      const handle = await start(tq, 'grant-revoke');
      await until(() => fake.named('applyAdminGrantAccess').length === 1, 'grant applied');
      await env.sleep(2 * DAY);
      await handle.signal(revokeAdminGrantSignal);
      return handle.result();
    });
    expect(result).toEqual({ grantId: 'grant-revoke', outcome: 'revoked' });
    const loadedAt = fake.named('loadAdminGrant')[0]!.at;
    const endedAt = fake.named('deactivateAdminGrant')[0]!.at;
    expect(fake.named('deactivateAdminGrant')[0]!.input).toEqual({ grantId: 'grant-revoke', revoked: true });
    expect(endedAt - loadedAt).toBeGreaterThanOrEqual(2 * DAY);
    expect(endedAt - loadedAt).toBeLessThan(3 * DAY);
  });

  it('a grant without expiry waits for its revoke however long it takes', async () => {
    const fake = fakeActivities({ days: null });
    const result = await withWorker(fake.activities, async (tq) => {
      const handle = await start(tq, 'grant-open');
      await until(() => fake.named('applyAdminGrantAccess').length === 1, 'grant applied');
      await env.sleep(400 * DAY);
      expect(fake.named('deactivateAdminGrant')).toHaveLength(0);
      await handle.signal(revokeAdminGrantSignal);
      return handle.result();
    });
    expect(result.outcome).toBe('revoked');
  });

  it("for a subscriber, asks the subscription workflow to re-apply the user's tier when the grant ends", async () => {
    const fake = fakeActivities({ days: 5, subscriptionId: 'sub_granted' });
    await withWorker(fake.activities, async (tq) => {
      const subscription = await env.client.workflow.signalWithStart('subscriptionWorkflow', {
        workflowId: subscriptionWorkflowId('sub_granted'),
        taskQueue: tq,
        args: [{ stripeSubscriptionId: 'sub_granted' }],
        signal: stripeEventSignal,
        signalArgs: [{ eventId: 'evt_1', type: 'customer.subscription.created', createdAt: new Date(0).toISOString() }],
      });
      await until(() => fake.named('applySubscriptionAccess').length === 1, 'subscription access applied');
      expect(await (await start(tq, 'grant-subscriber')).result()).toEqual({ grantId: 'grant-subscriber', outcome: 'expired' });
      // Once when the grant began, once when it ended: each a fresh write of the subscription's own tier.
      await until(() => fake.named('applySubscriptionAccess').length === 3, 'access re-applied twice');
      expect((await subscription.query(subscriptionStateQuery)).accessTier).toBe('basic');
      await subscription.terminate();
    });
    expect(fake.named('applySubscriptionAccess').map((c) => c.input.tier)).toEqual(['basic', 'basic', 'basic']);
    expect(fake.named('applyAdminGrantAccess').every((c) => c.input.ignoreSubscription === undefined)).toBe(true);
  });

  it('falls back to writing the tier itself when the subscription workflow is gone', async () => {
    const fake = fakeActivities({ days: 1, subscriptionId: 'sub_without_workflow' });
    const result = await withWorker(fake.activities, async (tq) => (await start(tq, 'grant-orphan')).result());
    expect(result.outcome).toBe('expired');
    expect(fake.named('applyAdminGrantAccess').map((c) => c.input.ignoreSubscription ?? false)).toEqual([false, true, false, true]);
  });
});
