import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
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
import { expectImportedOnce, startVideoImport, untilGenerating } from '../chaos/video-import-scenario';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup, type SpawnedProcess } from '../helpers/processes';
import { TALK_SRT } from '../integration/clips-fixtures';
import { makeTestVideo } from '../media/media-fixtures';
import { clusterServerPid, killAndRestartTemporalServer } from './cluster-stack';

const WEBHOOK_SECRET = 'whsec_cluster_tier';
const STARTED = 2; // PendingActivityState.STARTED

/** The process group (our spawned worker's) of a pid: field 5 of /proc/<pid>/stat. */
function processGroupOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/**
 * The production topology: the Go-built Temporal server on PostgreSQL (global setup) and two
 * worker processes. Each process family runs through the API and the worker processes; the
 * import meanwhile loses one worker to kill -9 and the Temporal server to kill -9 and a restart.
 */
describe('cluster: Temporal server on PostgreSQL, two worker processes', () => {
  let platform: TestPlatform;
  let google: SandboxServer;
  let anthropic: SandboxServer;
  let social: SocialSandbox;
  let stripe: StripeSandbox;
  let email: EmailSandbox;
  let dataDir: string;
  let source: string;
  let workers: SpawnedProcess[];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cluster-tier-'));
    // Slow model answers keep the import's generations in flight while a worker and the server go down.
    [google, anthropic, social, stripe, email, source] = await Promise.all([
      startGoogleSandbox({ port: 0 }),
      startAnthropicSandbox({ port: 0, latencyMs: 1500 }),
      startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 }),
      startStripeSandbox({ webhookSecret: WEBHOOK_SECRET, port: 0, deliveryRetryDelaysMs: [200, 1_000] }),
      startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey }),
      makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 9, size: '320x180', fps: 25 }),
    ]);
    platform = await startTestPlatform({
      workers: 'later',
      env: { DATA_DIR: dataDir, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ANTHROPIC_MAX_CONCURRENCY: '2' },
      sandboxUrls: { google: google.url, anthropic: anthropic.url, social: social.url, stripe: stripe.url, email: email.url },
    });
    stripe.setWebhookUrl(`${platform.apiUrl}/v1/webhooks/stripe`);
    workers = await Promise.all([platform.spawnWorkerProcess(), platform.spawnWorkerProcess()]);
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([google?.stop(), anthropic?.stop(), social?.stop(), stripe?.stop(), email?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The spawned worker running one of the run's activities right now (from the server's pending activities). */
  async function workerRunningAnActivity(handle: WorkflowHandle): Promise<SpawnedProcess> {
    const description = await eventually(
      () => handle.describe(),
      (d) => (d.raw.pendingActivities ?? []).some((a) => Number(a.state) === STARTED && a.lastWorkerIdentity),
      'an activity of the run started on a worker',
    );
    const identity = description.raw.pendingActivities?.find((a) => Number(a.state) === STARTED)?.lastWorkerIdentity ?? '';
    const group = processGroupOf(Number(identity.split('@')[0]));
    const worker = workers.find((w) => w.child.pid === group);
    if (!worker) throw new Error(`no spawned worker runs ${identity}`);
    return worker;
  }

  it('video import: a worker killed with SIGKILL and the Temporal server killed and restarted mid-run; it completes once', async () => {
    const started = await startVideoImport(platform);
    await untilGenerating(platform, started);
    const handle = platform.client.workflow.getHandle<typeof videoImportWorkflow>(started.runId);

    const victim = await workerRunningAnActivity(handle);
    killGroup(victim, 'SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const serverBefore = clusterServerPid();
    await killAndRestartTemporalServer(1000);
    expect(clusterServerPid()).not.toBe(serverBefore);
    // Two worker processes again for the rest of the tier; the survivor meanwhile finishes the import.
    const replacement = platform.spawnWorkerProcess();

    await expectImportedOnce(platform, started, await handle.result());
    // The restarted server kept the history from before the kill: one run, started once.
    const history = await handle.fetchHistory();
    expect(history.events?.filter((e) => e.workflowExecutionStartedEventAttributes)).toHaveLength(1);
    workers = [...workers.filter((w) => w !== victim), await replacement];
  });

  it('clips: moments picked and rendered on the worker processes’ media queue, each clip once', async () => {
    const caller = await createCaller(platform.database.db, { plan: 'basic' });
    const form = new FormData();
    form.append('file', new Blob([await readFile(source)], { type: 'video/mp4' }), 'talk.mp4');
    form.append('transcript', TALK_SRT);
    const uploaded = await fetch(`${platform.apiUrl}/v1/videos/upload`, { method: 'POST', body: form, headers: caller.auth }).then(
      (r) => r.json() as Promise<{ videoId: string }>,
    );
    const started = await api(
      platform.apiUrl,
      'POST',
      `/v1/videos/${uploaded.videoId}/clips`,
      { count: 2, aspectRatios: ['9:16'], minSeconds: 1.5, maxSeconds: 3 },
      caller.auth,
    );
    expect(started.status).toBe(202);
    const result: ClipsResult = await platform.client.workflow.getHandle(started.json.runId).result();
    expect(result.clips).toHaveLength(2);
    expect(result.failedClips).toEqual([]);
    const clips = await platform.database.db
      .selectFrom('clips')
      .select(['clip_index', 'render_status'])
      .where('video_id', '=', uploaded.videoId)
      .orderBy('clip_index')
      .execute();
    expect(clips).toEqual([
      { clip_index: 0, render_status: 'completed' },
      { clip_index: 1, render_status: 'completed' },
    ]);
  });

  it('Stripe webhooks: the trial-to-cancellation journey signals the subscription workflow', async () => {
    const user = await createUser(platform.database.db, { email: `billing-${randomUUID()}@example.test` });
    const adapter = new StripeAdapter(
      createStripeClient('sk_test_cluster', stripe.url),
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
    // Every webhook of the journey reached the one row of this subscription.
    const rows = await platform.database.db
      .selectFrom('user_subscriptions')
      .select('status')
      .where('stripe_subscription_id', '=', subscriptionId)
      .execute();
    expect(rows).toEqual([{ status: 'canceled' }]);
  });

  it('post: scheduled through the API and published once', async () => {
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
        caption: 'Published from the cluster',
        mediaType: 'image',
        mediaUrls: ['https://cdn.example.com/cluster.png'],
        scheduledAt: new Date(Date.now() + 1000).toISOString(),
      },
      caller.auth,
    );
    expect(created.status).toBe(202);
    const row = () =>
      platform.database.db.selectFrom('posts').select('status').where('id', '=', created.json.postId).executeTakeFirstOrThrow();
    await eventually(row, (post) => post.status === 'published', 'the post published', 60_000);
    expect(social.posts.filter((p) => p.userId === issued.platformUserId)).toHaveLength(1);
    await platform.client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
  });

  it('payouts: the affiliate is paid through Stripe once', async () => {
    const { db } = platform.database;
    const tag = randomUUID().slice(0, 8);
    const owner = await createUser(db, { email: `affiliate-${tag}@example.test` });
    const affiliate = await createAffiliate(db, {
      userId: owner.id,
      referralCode: `cluster-${tag}`,
      stripeConnectedAccountId: 'acct_1Cluster',
    });
    const customer = await createUser(db, { email: `customer-${tag}@example.test` });
    await attributeReferral(db, { userId: customer.id, referralCode: affiliate.referral_code });
    await recordCommissionForInvoice(db, {
      stripeInvoiceId: `in_cluster_${tag}`,
      userId: customer.id,
      amountPaidCents: 50_000,
      currency: 'usd',
      paidAt: '2024-08-01T00:00:00Z',
      refundWindowDays: 30,
    });
    const handle = await platform.client.workflow.start('payoutsWorkflow', {
      workflowId: payoutsWorkflowId('2024-09'),
      taskQueue: platform.queues.main,
      args: [{ period: '2024-09', minimumPayoutCents: 5_000 }],
    });
    const result: PayoutsResult = await handle.result();
    // A payment's local activity may run again on a loaded machine (its first result unrecorded); that run finds it paid.
    expect(result.totals.paid + result.totals.alreadySettled).toBe(1);
    expect(result.totals).toMatchObject({ belowMinimum: 0, failed: 0, unresolved: 0 });
    expect(stripe.state.transfers.size).toBe(1);
    const payouts = await db
      .selectFrom('affiliate_payouts')
      .select(['status', 'amount_cents'])
      .where('affiliate_id', '=', affiliate.id)
      .execute();
    expect(payouts).toEqual([{ status: 'paid', amount_cents: 10_000 }]);
  });
});
