import { randomBytes, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { sql } from 'kysely';
import { startDefinedWorkflow } from '../../api/workflow-starts';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { ADMIN_SCOPES, USER_SCOPES } from '../../schemas/api-keys';
import { RETENTION_TABLES, type RetentionPolicy } from '../../schemas/operations';
import { retentionRun } from '../../workflows/retention/contract';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * Operations on the real stack (PostgreSQL, Temporal, worker, API, social sandbox): bulk redrive
 * of failed runs, the retention sweep, and the usage counters of a tenant's period.
 */
describe('operations: redrive, retention, cost per tenant', () => {
  let platform: TestPlatform;
  let social: SocialSandbox;
  /** Smoke greetings for these names fail once (the failure type is the name's suffix), then succeed. */
  const failOnce = new Map<string, string>();
  /** Set by a test: the next publishPost reaches the platform and records it, then its result is lost. */
  let loseNextPublishResult = false;

  beforeAll(async () => {
    social = await startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 });
    platform = await startTestPlatform({
      sandboxUrls: { social: social.url },
      activities: (real) => ({
        ...real,
        async composeGreeting(name: string) {
          const type = failOnce.get(name);
          if (type) {
            failOnce.delete(name);
            throw ApplicationFailure.nonRetryable(`no greeting for ${name}`, type);
          }
          return real.composeGreeting(name);
        },
        async publishPost(input) {
          const result = await real.publishPost(input);
          if (!loseNextPublishResult) return result;
          loseNextPublishResult = false;
          throw ApplicationFailure.retryable('connection reset after the post was recorded', 'ProviderUnavailable');
        },
      }),
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await social?.stop();
  });

  const db = () => platform.database.db;

  async function newUser(role: 'user' | 'admin' = 'user') {
    const user = await createUser(db(), { email: `ops-${randomUUID()}@example.test`, plan: 'creator', role });
    const { plaintext } = await createApiKey(db(), {
      userId: user.id,
      name: 'test',
      scopes: [...(role === 'admin' ? ADMIN_SCOPES : USER_SCOPES)],
    });
    const auth = { authorization: `Bearer ${plaintext}` };
    return { id: user.id, call: (method: string, path: string, body?: unknown) => api(platform.apiUrl, method, path, body, auth) };
  }

  async function failedSmokeRun(user: Awaited<ReturnType<typeof newUser>>, failureType: string) {
    const name = `fails-${randomBytes(4).toString('hex')}`;
    failOnce.set(name, failureType);
    const started = await user.call('POST', '/v1/smoke', { name, delayMs: 0 });
    expect(started.status).toBe(202);
    const runId: string = started.json.runId;
    await expect(platform.client.workflow.getHandle(runId).result()).rejects.toThrow();
    await eventually(
      () => db().selectFrom('job_runs').select(['status', 'error_type']).where('id', '=', runId).executeTakeFirstOrThrow(),
      (row) => row.status === 'failed',
      `${runId} failed`,
    );
    return { runId, name };
  }

  const startInput = async (workflowId: string, runId: string) => {
    const { history } = await platform.client.workflowService.getWorkflowExecutionHistory({
      namespace: platform.client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 1,
    });
    const input = history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads;
    return decodeArrayFromPayloads(platform.client.options.loadedDataConverter, input);
  };

  it('redrive: restarts failed runs with their original input, filtered by error type and failure time; dryRun starts nothing', async () => {
    const admin = await newUser('admin');
    const owner = await newUser();
    const invalid = await failedSmokeRun(owner, 'InvalidInput');
    const notFound = await failedSmokeRun(owner, 'NotFound');
    const old = await failedSmokeRun(owner, 'InvalidInput');
    await db()
      .updateTable('job_runs')
      .set({ closed_at: sql`now() - interval '2 days'` })
      .where('id', '=', old.runId)
      .execute();
    const window = { type: 'smoke', from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    const failedExecution = (await platform.client.workflow.getHandle(invalid.runId).describe()).runId;

    const dry = await admin.call('POST', '/v1/admin/runs/redrive', { ...window, errorType: 'InvalidInput', dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.json).toEqual({
      dryRun: true,
      matched: 1,
      more: false,
      restarted: [{ runId: invalid.runId, old: failedExecution, new: null }],
      skipped: [],
    });
    expect((await platform.client.workflow.getHandle(invalid.runId).describe()).status.name).toBe('FAILED');

    const done = await admin.call('POST', '/v1/admin/runs/redrive', { ...window, errorType: 'InvalidInput', startsPerSecond: 10 });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ dryRun: false, matched: 1, skipped: [] });
    const [restarted] = done.json.restarted;
    expect(restarted).toEqual({ runId: invalid.runId, old: failedExecution, new: expect.any(String) });
    expect(restarted.new).not.toBe(failedExecution);
    const result = await platform.client.workflow.getHandle(invalid.runId, restarted.new).result();
    expect(result.greeting).toContain(`hello, ${invalid.name}`);
    expect(await startInput(invalid.runId, restarted.new)).toEqual(await startInput(invalid.runId, failedExecution));
    const row = await db().selectFrom('job_runs').selectAll().where('id', '=', invalid.runId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'completed', user_id: owner.id, error_type: null });

    // The other error type and the run that failed before the window were left alone.
    for (const runId of [notFound.runId, old.runId])
      expect((await db().selectFrom('job_runs').select('status').where('id', '=', runId).executeTakeFirstOrThrow()).status).toBe('failed');
    // Redriven again, the run is no longer failed: nothing matches.
    expect((await admin.call('POST', '/v1/admin/runs/redrive', { ...window, errorType: 'InvalidInput' })).json.matched).toBe(0);

    const refused = await admin.call('POST', '/v1/admin/runs/redrive', { ...window, type: 'image-generation' });
    expect(refused.status).toBe(422);
    expect(refused.json.errors).toEqual([{ field: 'type', message: expect.stringContaining('REJECT_DUPLICATE') }]);
    expect((await owner.call('POST', '/v1/admin/runs/redrive', window)).status).toBe(403);
  });

  it('retention: deletes old rows in batches, keeps open runs, unanswered keys and recent rows', async () => {
    const user = await newUser();
    const old = sql<Date>`now() - interval '40 days'`;
    const runIds = Array.from({ length: 5 }, () => `retention-test:${randomUUID()}`);
    for (const id of runIds)
      await db()
        .insertInto('job_runs')
        .values({ id, type: 'smoke', user_id: user.id, status: 'completed', started_at: old, closed_at: old })
        .execute();
    const openRun = `retention-test:${randomUUID()}`;
    await db()
      .insertInto('job_runs')
      .values({ id: openRun, type: 'post', user_id: user.id, status: 'running', started_at: old, long_lived: true })
      .execute();
    const recentRun = `retention-test:${randomUUID()}`;
    await db()
      .insertInto('job_runs')
      .values({ id: recentRun, type: 'smoke', user_id: user.id, status: 'failed', closed_at: sql`now() - interval '1 day'` })
      .execute();
    const key = (k: string, answered: boolean, createdAt: unknown) =>
      sql`insert into idempotency_keys (user_id, key, request_hash, response_status, created_at)
          values (${user.id}, ${k}, 'h', ${answered ? 202 : null}, ${createdAt})`.execute(db());
    await key('old-answered', true, old);
    await key('old-in-flight', false, old);
    await key('recent', true, sql`now()`);
    await sql`insert into audit_log (user_id, action, created_at) values (${user.id}, 'old', now() - interval '800 days'), (${user.id}, 'recent', now())`.execute(
      db(),
    );

    const day = 86_400;
    const policy: RetentionPolicy = {
      batchSize: 2,
      maxAgeSeconds: {
        job_runs: 30 * day,
        idempotency_keys: day,
        webhook_logs: 30 * day,
        ai_usage_logs: 90 * day,
        usage_events: 400 * day,
        audit_log: 730 * day,
      },
    };
    const workflowId = `retention-test:${randomUUID()}`;
    await startDefinedWorkflow(platform.client, platform.queues, retentionRun, { workflowId, args: [{ policy }] });
    const totals = await platform.client.workflow.getHandle(workflowId).result();
    expect(totals).toMatchObject({ job_runs: 5, idempotency_keys: 1, audit_log: 1 });

    const left = await db().selectFrom('job_runs').select('id').where('id', 'like', 'retention-test:%').execute();
    expect(left.map((r) => r.id).sort()).toEqual([openRun, recentRun].sort());
    const keys = await db().selectFrom('idempotency_keys').select('key').where('user_id', '=', user.id).execute();
    expect(keys.map((k) => k.key).sort()).toEqual(['old-in-flight', 'recent']);
    const audit = await db().selectFrom('audit_log').select('action').where('user_id', '=', user.id).execute();
    expect(audit.map((a) => a.action)).toEqual(['recent']);

    // Five expired runs with two rows per DELETE: three statements.
    const history = await platform.client.workflow.getHandle(workflowId).fetchHistory();
    const results = await Promise.all(
      history
        .events!.filter((e) => e.activityTaskCompletedEventAttributes)
        .map(
          async (e) =>
            (
              await decodeArrayFromPayloads(
                platform.client.options.loadedDataConverter,
                e.activityTaskCompletedEventAttributes!.result!.payloads,
              )
            )[0],
        ),
    );
    expect(results).toHaveLength(RETENTION_TABLES.length);
    expect(results[0]).toEqual({ deleted: 5, batches: 3, more: false });
  });

  it('usage: a published post counts once although its activity was retried; API calls are counted; GET /v1/usage and the admin view show the period', async () => {
    const admin = await newUser('admin');
    const user = await newUser();
    const issued = social.issueAccount('x', undefined, `ops_${randomBytes(3).toString('hex')}`);
    const account = await user.call('POST', '/v1/social-accounts', {
      platform: 'x',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      tokenExpiresAt: issued.expiresAt,
      platformUserId: issued.platformUserId,
      username: issued.username,
    });
    expect(account.status).toBe(201);
    loseNextPublishResult = true;
    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: account.json.id,
      caption: 'counted once',
      mediaType: 'image',
      mediaUrls: ['https://cdn.example.com/a.png'],
      scheduledAt: new Date(Date.now() + 2000).toISOString(),
    });
    expect(created.status).toBe(202);
    await eventually(
      () => db().selectFrom('posts').select('status').where('id', '=', created.json.postId).executeTakeFirstOrThrow(),
      (row) => row.status === 'published',
      'post published',
      30_000,
    );
    expect(loseNextPublishResult).toBe(false); // the first attempt's result was lost: the activity ran twice
    expect(social.posts.filter((p) => p.userId === issued.platformUserId)).toHaveLength(1);

    const usage = await eventually(
      () => user.call('GET', '/v1/usage'),
      (res) => res.json.period?.counters.apiCallsMade > 0,
      'API calls counted',
    );
    expect(usage.status).toBe(200);
    expect(usage.json.period).toMatchObject({
      start: expect.any(String),
      end: expect.any(String),
      counters: { postsPublished: 1, contentGenerated: 0, clipsGenerated: 0 },
      runs: [{ type: 'post', status: 'running', count: 1 }], // it stays for the metrics checkpoints
      ai: { tokens: 0, costUsd: 0 },
    });
    const events = await db().selectFrom('usage_events').select(['kind', 'fact_key']).where('user_id', '=', user.id).execute();
    expect(events).toEqual([{ kind: 'posts_published', fact_key: `post:${created.json.postId}` }]);

    const adminView = await admin.call('GET', `/v1/admin/users/${user.id}/usage`);
    expect(adminView.status).toBe(200);
    expect(adminView.json.period.counters.postsPublished).toBe(1);
    expect((await admin.call('GET', `/v1/admin/users/${randomUUID()}/usage`)).status).toBe(404);
    expect((await user.call('GET', `/v1/admin/users/${user.id}/usage`)).status).toBe(403);
  });
});
