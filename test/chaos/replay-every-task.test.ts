import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { attributeReferral, createAffiliate, recordCommissionForInvoice } from '../../db/repositories/affiliates';
import { createUser } from '../../db/repositories/users';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { providerCall } from '../../providers/call';
import { ProviderLimiter } from '../../providers/rate-limit';
import { createStripeClient, StripeAdapter } from '../../providers/stripe';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startEmailSandbox, type EmailSandbox } from '../../sandbox/email';
import { startGoogleSandbox } from '../../sandbox/google';
import type { SandboxServer } from '../../sandbox/http';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { startStripeSandbox, type StripeSandbox } from '../../sandbox/stripe';
import type { ClipsResult } from '../../schemas/clips';
import { runSubscriptionJourney } from '../../scripts/subscription-journey';
import { payoutsWorkflowId, type PayoutsResult } from '../../workflows/payouts/contract';
import { subscriptionWorkflowId } from '../../workflows/subscription/contract';
import type { videoImportWorkflow } from '../../workflows/video-import/workflow';
import { createCaller } from '../api/fixtures';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { TALK_SRT } from '../integration/clips-fixtures';
import { makeTestVideo } from '../media/media-fixtures';
import { expectImportedOnce, startVideoImport } from './video-import-scenario';

const WEBHOOK_SECRET = 'whsec_chaos_replay';

/**
 * R4: one run of each process family on a worker that caches no workflow, so every workflow task
 * replays the whole history first. A command that replays differently from how it ran would fail
 * a workflow task here (a non-determinism error) instead of passing unnoticed in a warm cache.
 */
describe('chaos: every workflow task replays (WORKER_MAX_CACHED_WORKFLOWS=0)', () => {
  let platform: TestPlatform;
  let google: SandboxServer;
  let anthropic: SandboxServer;
  let social: SocialSandbox;
  let stripe: StripeSandbox;
  let email: EmailSandbox;
  let dataDir: string;
  let source: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chaos-replay-'));
    [google, anthropic, social, stripe, email, source] = await Promise.all([
      startGoogleSandbox({ port: 0 }),
      startAnthropicSandbox({ port: 0 }),
      startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 }),
      startStripeSandbox({ webhookSecret: WEBHOOK_SECRET, port: 0, deliveryRetryDelaysMs: [200, 1_000] }),
      startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey }),
      makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 9, size: '320x180', fps: 25 }),
    ]);
    platform = await startTestPlatform({
      env: { WORKER_MAX_CACHED_WORKFLOWS: '0', DATA_DIR: dataDir, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
      sandboxUrls: { google: google.url, anthropic: anthropic.url, social: social.url, stripe: stripe.url, email: email.url },
    });
    stripe.setWebhookUrl(`${platform.apiUrl}/v1/webhooks/stripe`);
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([google?.stop(), anthropic?.stop(), social?.stop(), stripe?.stop(), email?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Every workflow task of the run went to the main queue (no sticky cache) and none failed. */
  async function expectEveryTaskReplayed(handle: WorkflowHandle): Promise<void> {
    const events = (await handle.fetchHistory()).events ?? [];
    // A cached workflow's later tasks go to its worker's sticky queue, not to the main queue.
    const queues = events
      .filter((e) => e.workflowTaskScheduledEventAttributes)
      .map((e) => e.workflowTaskScheduledEventAttributes?.taskQueue?.name);
    expect(queues.length).toBeGreaterThan(1);
    expect(new Set(queues)).toEqual(new Set([platform.queues.main]));
    // UnhandledCommand is routine (a signal arrived as the task completed); a replay that diverges fails otherwise.
    const failed = events.filter(
      (e) => e.workflowTaskFailedEventAttributes && e.workflowTaskFailedEventAttributes.failure?.message !== 'UnhandledCommand',
    );
    expect(failed).toEqual([]);
  }

  it('video import: the AI fan-out completes', async () => {
    const started = await startVideoImport(platform);
    const handle = platform.client.workflow.getHandle<typeof videoImportWorkflow>(started.runId);
    await expectImportedOnce(platform, started, await handle.result());
    await expectEveryTaskReplayed(handle);
  });

  it('clips: moments picked and rendered on the media queue', async () => {
    const caller = await createCaller(platform.database.db, { plan: 'basic' });
    const form = new FormData();
    form.append('file', new Blob([await readFile(source)], { type: 'video/mp4' }), 'talk.mp4');
    form.append('transcript', TALK_SRT);
    const uploaded = await fetch(`${platform.apiUrl}/v1/videos/upload`, { method: 'POST', body: form, headers: caller.auth }).then(
      (r) => r.json() as Promise<any>,
    );
    const started = await api(
      platform.apiUrl,
      'POST',
      `/v1/videos/${uploaded.videoId}/clips`,
      { count: 2, aspectRatios: ['9:16'], minSeconds: 1.5, maxSeconds: 3 },
      caller.auth,
    );
    expect(started.status).toBe(202);
    const handle = platform.client.workflow.getHandle(started.json.runId);
    const result: ClipsResult = await handle.result();
    expect(result.clips).toHaveLength(2);
    expect(result.failedClips).toEqual([]);
    await expectEveryTaskReplayed(handle);
  });

  it('post: scheduled, published once, metrics timers running', async () => {
    const caller = await createCaller(platform.database.db, { plan: 'basic' });
    const issued = social.issueAccount('instagram');
    const account = await api(
      platform.apiUrl,
      'POST',
      '/v1/social-accounts',
      { platform: 'instagram', accessToken: issued.accessToken, platformUserId: issued.platformUserId, username: issued.username },
      caller.auth,
    );
    expect(account.status).toBe(201);
    const created = await api(
      platform.apiUrl,
      'POST',
      '/v1/posts',
      {
        socialAccountId: account.json.id,
        caption: 'Replayed every task',
        mediaType: 'image',
        mediaUrls: ['https://cdn.example.com/replay.png'],
        scheduledAt: new Date(Date.now() + 1000).toISOString(),
      },
      caller.auth,
    );
    expect(created.status).toBe(202);
    const row = () =>
      platform.database.db.selectFrom('posts').select('status').where('id', '=', created.json.postId).executeTakeFirstOrThrow();
    await eventually(row, (post) => post.status === 'published', 'the post published', 30_000);
    expect(social.posts.filter((p) => p.userId === issued.platformUserId)).toHaveLength(1);
    const handle = platform.client.workflow.getHandle(created.json.runId);
    await expectEveryTaskReplayed(handle);
    await handle.terminate('test done (metrics timers)');
  });

  it('payouts: a batch child pays the affiliate through Stripe', async () => {
    const { db } = platform.database;
    const tag = randomUUID().slice(0, 8);
    const owner = await createUser(db, { email: `affiliate-${tag}@example.test` });
    const affiliate = await createAffiliate(db, {
      userId: owner.id,
      referralCode: `replay-${tag}`,
      stripeConnectedAccountId: 'acct_1Replay',
    });
    const customer = await createUser(db, { email: `customer-${tag}@example.test` });
    await attributeReferral(db, { userId: customer.id, referralCode: affiliate.referral_code });
    await recordCommissionForInvoice(db, {
      stripeInvoiceId: `in_replay_${tag}`,
      userId: customer.id,
      amountPaidCents: 50_000,
      currency: 'usd',
      paidAt: '2024-08-01T00:00:00Z',
      refundWindowDays: 30,
    });
    // A period no other test file pays: workflow ids are shared by every file on the run's Temporal server.
    const handle = await platform.client.workflow.start('payoutsWorkflow', {
      workflowId: payoutsWorkflowId('2024-09'),
      taskQueue: platform.queues.main,
      args: [{ period: '2024-09', minimumPayoutCents: 5_000 }],
    });
    const result: PayoutsResult = await handle.result();
    // On a loaded machine a payment's local activity can run again (its first result unrecorded); that run finds it paid.
    expect(result.totals.paid + result.totals.alreadySettled).toBe(1);
    expect(result.totals).toMatchObject({ belowMinimum: 0, failed: 0, unresolved: 0 });
    expect(result.reconciliation).toMatchObject({ matched: true, transferCount: 1, transfersCents: 10_000 });
    expect(stripe.state.transfers.size).toBe(1);
    const payouts = await db
      .selectFrom('affiliate_payouts')
      .select(['status', 'amount_cents'])
      .where('affiliate_id', '=', affiliate.id)
      .execute();
    expect(payouts).toEqual([{ status: 'paid', amount_cents: 10_000 }]);
    await expectEveryTaskReplayed(handle);
  });

  it('subscription: the trial-to-cancellation journey through Stripe webhooks', async () => {
    const user = await createUser(platform.database.db, { email: `billing-${randomUUID()}@example.test` });
    const adapter = new StripeAdapter(
      createStripeClient('sk_test_chaos', stripe.url),
      providerCall(new ProviderLimiter('stripe', { maxConcurrent: 4 })),
    );
    const subscriptionId = await runSubscriptionJourney({
      db: platform.database.db,
      stripeSandboxUrl: stripe.url,
      stripe: adapter,
      user,
      onStep: () => undefined,
    });
    const handle = platform.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId));
    expect(await handle.result()).toMatchObject({ finalStatus: 'canceled' });
    await expectEveryTaskReplayed(handle);
  });
});
