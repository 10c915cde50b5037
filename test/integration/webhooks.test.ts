import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { ApplicationFailure } from '@temporalio/common';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { emitWebhookEvent } from '../../activities/webhook-events';
import { startEmailSandbox, type EmailSandbox } from '../../sandbox/email';
import { WEBHOOK_RELAY_WORKFLOW_TYPE } from '../../workflows/webhook-relay/contract';
import { USER_SCOPES } from '../../schemas/api-keys';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { startWebhookReceiver, verifiesWith, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * Outgoing webhooks end to end: a local receiver verifies every signature with its own HMAC
 * code; fast retry settings (100 ms doubling, 4 attempts, disabled after 3 failures in a row).
 */
describe('outgoing webhooks', () => {
  let platform: TestPlatform;
  let receiver: WebhookReceiver;
  let email: EmailSandbox;
  let auth: Record<string, string>;
  let userEmail: string;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    email = await startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey, port: 0 });
    platform = await startTestPlatform({
      sandboxUrls: { email: email.url },
      env: {
        SSRF_ALLOWED_HOSTS: receiver.host,
        WEBHOOK_TIMEOUT_MS: '1500',
        WEBHOOK_RETRY_INITIAL_INTERVAL_MS: '100',
        WEBHOOK_RETRY_MAX_INTERVAL_MS: '400',
        WEBHOOK_RETRY_MAX_ATTEMPTS: '4',
        WEBHOOK_DISABLE_AFTER_FAILURES: '3',
      },
      // A smoke run named `fail` fails for good: the run.failed case.
      activities: (real) => ({
        ...real,
        composeGreeting: async (name: string) => {
          if (name === 'fail') throw ApplicationFailure.nonRetryable('asked to fail', 'InvalidInput');
          return real.composeGreeting(name);
        },
      }),
    });
    userEmail = `webhooks-${randomUUID()}@example.test`;
    const user = await createUser(platform.database.db, { email: userEmail, plan: 'basic' });
    const { plaintext } = await createApiKey(platform.database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    auth = { authorization: `Bearer ${plaintext}` };
  });
  afterAll(async () => {
    await platform?.stop();
    await receiver?.stop();
    await email?.stop();
  });

  const createEndpoint = async (path: string, events: string[]) => {
    const created = await api(platform.apiUrl, 'POST', '/v1/webhook-endpoints', { url: `${receiver.url}${path}`, events }, auth);
    expect(created.status).toBe(201);
    return created.json as { id: string; secret: string };
  };
  const sendTest = async (endpointId: string) => {
    const sent = await api(platform.apiUrl, 'POST', `/v1/webhook-endpoints/${endpointId}/test`, undefined, auth);
    expect(sent.status).toBe(202);
    return sent.json as { deliveryId: string; eventId: string };
  };
  const deliveries = async (endpointId: string) =>
    (await api(platform.apiUrl, 'GET', `/v1/webhook-endpoints/${endpointId}/deliveries`, undefined, auth)).json.data as Array<{
      id: string;
      status: string;
      attempts: number;
      lastResponseCode: number | null;
      lastResponseBody: string | null;
    }>;
  const arrived = (path: string, count: number, timeoutMs?: number) =>
    eventually(
      async () => receiver.at(path),
      (seen) => seen.length >= count,
      `${count} requests at ${path}`,
      timeoutMs,
    );
  const envelopeOf = (webhook: ReceivedWebhook) => JSON.parse(webhook.body) as { id: string; type: string; data: Record<string, unknown> };

  it('refuses a private or malformed url (422 naming url) and unknown event types (422 listing the valid ones)', async () => {
    const privateUrl = await api(
      platform.apiUrl,
      'POST',
      '/v1/webhook-endpoints',
      { url: 'https://10.0.0.5/hook', events: ['run.completed'] },
      auth,
    );
    expect(privateUrl.status).toBe(422);
    expect(privateUrl.json.errors[0].field).toBe('url');
    const plainHttp = await api(
      platform.apiUrl,
      'POST',
      '/v1/webhook-endpoints',
      { url: 'http://example.com/hook', events: ['run.completed'] },
      auth,
    );
    expect(plainHttp.status).toBe(422);
    const unknown = await api(
      platform.apiUrl,
      'POST',
      '/v1/webhook-endpoints',
      { url: `${receiver.url}/x`, events: ['run.exploded'] },
      auth,
    );
    expect(unknown.status).toBe(422);
    expect(unknown.json.errors[0].field).toBe('events');
    expect(unknown.json.validEvents).toEqual(expect.arrayContaining(['run.completed', 'run.failed', 'post.published']));
  });

  it('signs run.completed and run.failed of a run once each, verifiable with an independent HMAC', async () => {
    const endpoint = await createEndpoint('/runs', ['run.completed', 'run.failed']);
    expect(endpoint.secret).toMatch(/^whsec_/);
    const listed = await api(platform.apiUrl, 'GET', '/v1/webhook-endpoints', undefined, auth);
    expect(JSON.stringify(listed.json)).not.toContain(endpoint.secret);

    const ok = await api(platform.apiUrl, 'POST', '/v1/smoke', { name: 'hooks' }, auth);
    const failed = await api(platform.apiUrl, 'POST', '/v1/smoke', { name: 'fail' }, auth);
    expect([ok.status, failed.status]).toEqual([202, 202]);
    const seen = await arrived('/runs', 2);
    for (const webhook of seen) {
      expect(verifiesWith(endpoint.secret, webhook)).toBe(true);
      expect(verifiesWith(`whsec_${Buffer.alloc(24).toString('base64')}`, webhook)).toBe(false);
      expect(webhook.headers['webhook-id']).toBe(envelopeOf(webhook).id);
    }
    const byType = Object.fromEntries(seen.map((w) => [envelopeOf(w).type, envelopeOf(w)]));
    expect(byType['run.completed']?.data).toMatchObject({
      runId: ok.json.runId,
      runType: 'smoke',
      status: 'completed',
      result: { greeting: expect.any(String) },
    });
    expect(byType['run.failed']?.data).toMatchObject({ runId: failed.json.runId, status: 'failed', error: { type: 'InvalidInput' } });
    // One event per fact: the outbox holds exactly one row per closed run.
    const events = await platform.database.db.selectFrom('webhook_events').select('type').where('type', 'like', 'run.%').execute();
    expect(events.map((e) => e.type).sort()).toEqual(['run.completed', 'run.failed']);
  });

  it('retries a flaky receiver with the same webhook-id, logging every attempt', async () => {
    receiver.on('/flaky', (n, res) => (n < 2 ? res.writeHead(500).end('try later') : res.writeHead(204).end()));
    const endpoint = await createEndpoint('/flaky', ['run.completed']);
    const { eventId } = await sendTest(endpoint.id);
    const seen = await arrived('/flaky', 3);
    expect(new Set(seen.map((w) => w.headers['webhook-id']))).toEqual(new Set([eventId]));
    const [delivery] = await eventually(
      () => deliveries(endpoint.id),
      ([d]) => d?.status === 'delivered',
      'delivered',
    );
    expect(delivery).toMatchObject({ attempts: 3, lastResponseCode: 204 });
    const logs = await platform.database.db
      .selectFrom('webhook_logs')
      .select(['attempt', 'response_code', 'success', 'response_body', 'response_time_ms'])
      .where('webhook_id', '=', endpoint.id)
      .orderBy('attempt')
      .execute();
    expect(logs.map((l) => [l.attempt, l.response_code, l.success])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 204, true],
    ]);
    expect(logs[0]?.response_body).toBe('try later');
    expect(logs.every((l) => (l.response_time_ms ?? -1) >= 0)).toBe(true);
  });

  it('disables an endpoint after consecutive failures and mails its owner once', async () => {
    receiver.on('/dead', (_n, res) => res.writeHead(503).end('down'));
    const endpoint = await createEndpoint('/dead', ['run.completed']);
    await sendTest(endpoint.id);
    const disabled = await eventually(
      async () => (await api(platform.apiUrl, 'GET', `/v1/webhook-endpoints/${endpoint.id}`, undefined, auth)).json,
      (e) => e.enabled === false,
      'endpoint disabled',
    );
    expect(disabled.disabledReason).toMatch(/3 consecutive failed/);
    await eventually(
      () => deliveries(endpoint.id),
      ([d]) => d?.status === 'failed',
      'delivery failed',
    );
    expect(receiver.at('/dead')).toHaveLength(3);
    const mails = email.messages.filter((m) => m.to.includes(userEmail) && m.subject.includes('webhook endpoint was disabled'));
    expect(mails).toHaveLength(1);
    // Disabled: a test is refused, and re-enabling clears the streak.
    expect((await api(platform.apiUrl, 'POST', `/v1/webhook-endpoints/${endpoint.id}/test`, undefined, auth)).status).toBe(409);
    const enabled = await api(platform.apiUrl, 'PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { enabled: true }, auth);
    expect(enabled.json).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });
  });

  it('disables the endpoint at once when the receiver answers 410 Gone', async () => {
    receiver.on('/gone', (_n, res) => res.writeHead(410).end());
    const endpoint = await createEndpoint('/gone', ['run.completed']);
    await sendTest(endpoint.id);
    await eventually(
      () => deliveries(endpoint.id),
      ([d]) => d?.status === 'failed',
      'delivery failed',
    );
    expect(receiver.at('/gone')).toHaveLength(1);
    const read = await api(platform.apiUrl, 'GET', `/v1/webhook-endpoints/${endpoint.id}`, undefined, auth);
    expect(read.json).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('410') });
  });

  it('redelivers a delivery with the same webhook-id, numbering attempts after the earlier ones', async () => {
    const endpoint = await createEndpoint('/redeliver', ['run.completed']);
    const { deliveryId, eventId } = await sendTest(endpoint.id);
    await eventually(
      () => deliveries(endpoint.id),
      ([d]) => d?.status === 'delivered',
      'first delivery',
    );
    const again = await api(platform.apiUrl, 'POST', `/v1/webhook-deliveries/${deliveryId}/redeliver`, undefined, auth);
    expect(again.status).toBe(202);
    const seen = await arrived('/redeliver', 2);
    expect(seen.map((w) => w.headers['webhook-id'])).toEqual([eventId, eventId]);
    const [delivery] = await eventually(
      () => deliveries(endpoint.id),
      ([d]) => d?.status === 'delivered' && d.attempts === 2,
      'redelivered',
    );
    expect(delivery?.id).toBe(deliveryId);
    expect((await api(platform.apiUrl, 'POST', `/v1/webhook-deliveries/${randomUUID()}/redeliver`, undefined, auth)).status).toBe(404);
  });

  it('signs with the old and the new secret for a day after a rotation', async () => {
    const endpoint = await createEndpoint('/rotated', ['run.completed']);
    const rotated = await api(platform.apiUrl, 'POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, undefined, auth);
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).not.toBe(endpoint.secret);
    await sendTest(endpoint.id);
    const [webhook] = await arrived('/rotated', 1);
    expect(String(webhook!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifiesWith(rotated.json.secret, webhook!)).toBe(true);
    expect(verifiesWith(endpoint.secret, webhook!)).toBe(true);
  });

  it('starts, from the relay sweep, a delivery whose emitter died between its commit and the start', async () => {
    const endpoint = await createEndpoint('/relayed', ['run.completed']);
    const { db } = platform.database;
    const owner = await db.selectFrom('webhooks').select('user_id').where('id', '=', endpoint.id).executeTakeFirstOrThrow();
    // The outbox write of a fact whose activity died before dispatching (no webhookDispatch call).
    // Every run.completed endpoint of the user gets a delivery row; none of them is started.
    const left = await db.transaction().execute((tx) =>
      emitWebhookEvent(tx, {
        type: 'run.completed',
        userId: owner.user_id,
        factKey: `orphan:${randomUUID()}`,
        data: { runId: 'orphan', runType: 'smoke', status: 'completed', domainId: null },
      }),
    );
    const eventId = left[0]!.eventId;
    await sql`update webhook_deliveries set created_at = now() - interval '2 minutes' where event_id = ${eventId}`.execute(db);
    const started = await platform.client.workflow.execute(WEBHOOK_RELAY_WORKFLOW_TYPE, {
      taskQueue: platform.queues.main,
      workflowId: `webhook-relay-test-${randomUUID()}`,
    });
    expect(left.map((d) => d.webhookId)).toContain(endpoint.id);
    expect(started).toBe(left.length);
    const [webhook] = await arrived('/relayed', 1);
    expect(webhook!.headers['webhook-id']).toBe(eventId);
    await eventually(
      () => deliveries(endpoint.id),
      ([d]) => d?.status === 'delivered',
      'relayed delivery',
    );
  });

  it('never lets a slow receiver delay another endpoint', async () => {
    receiver.on('/slow', (_n, res) => setTimeout(() => res.writeHead(200).end(), 1_200));
    const slow = await createEndpoint('/slow', ['run.completed']);
    const fast = await createEndpoint('/fast', ['run.completed']);
    await sendTest(slow.id);
    await arrived('/slow', 1);
    await sendTest(fast.id);
    const [fastHit] = await arrived('/fast', 1);
    const slowHit = receiver.at('/slow')[0]!;
    // The fast endpoint was served while the slow one still held its request open.
    expect(fastHit!.receivedAt - slowHit.receivedAt).toBeLessThan(1_200);
    await eventually(
      () => deliveries(slow.id),
      ([d]) => d?.status === 'delivered',
      'slow delivered',
    );
  });
});
