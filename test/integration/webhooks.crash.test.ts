import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { USER_SCOPES } from '../../schemas/api-keys';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';
import { startWebhookReceiver, verifiesWith, type WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * kill -9 the worker while the receiver holds its first delivery request open: the attempt times
 * out, a fresh worker retries it and the receiver sees the same webhook-id again (at least once,
 * deduplicable), signed with the same secret.
 */
describe('a webhook delivery survives a worker killed mid-delivery', () => {
  let platform: TestPlatform;
  let receiver: WebhookReceiver;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    platform = await startTestPlatform({
      workers: 'later',
      env: {
        SSRF_ALLOWED_HOSTS: receiver.host,
        // The dead worker's attempt is given up after 1 s + 5 s.
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_RETRY_INITIAL_INTERVAL_MS: '100',
        WEBHOOK_RETRY_MAX_INTERVAL_MS: '200',
      },
    });
  });
  afterAll(async () => {
    held.forEach((res) => res.destroy());
    await platform?.stop();
    await receiver?.stop();
  });

  it('retries the attempt on a fresh worker with the same webhook-id', async () => {
    const { database, apiUrl } = platform;
    const first = await platform.spawnWorkerProcess();
    const user = await createUser(database.db, { email: `webhook-crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    // The first request is never answered: the worker dies while it waits.
    receiver.on('/hook', (n, res) => (n === 0 ? held.push(res) : res.writeHead(200).end('ok')));
    const endpoint = await api(apiUrl, 'POST', '/v1/webhook-endpoints', { url: `${receiver.url}/hook`, events: ['run.completed'] }, auth);
    expect(endpoint.status).toBe(201);
    const test = await api(apiUrl, 'POST', `/v1/webhook-endpoints/${endpoint.json.id}/test`, undefined, auth);
    expect(test.status).toBe(202);

    await eventually(
      async () => receiver.at('/hook'),
      (seen) => seen.length === 1,
      'the first attempt',
      30_000,
    );
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    await platform.startWorkers(['main']);
    const seen = await eventually(
      async () => receiver.at('/hook'),
      (s) => s.length === 2,
      'the retried attempt',
      30_000,
    );
    expect(seen.map((w) => w.headers['webhook-id'])).toEqual([test.json.eventId, test.json.eventId]);
    expect(seen.every((w) => verifiesWith(endpoint.json.secret, w))).toBe(true);
    const delivery = await eventually(
      () =>
        database.db.selectFrom('webhook_deliveries').select(['status']).where('id', '=', test.json.deliveryId).executeTakeFirstOrThrow(),
      (d) => d.status === 'delivered',
      'delivered',
    );
    expect(delivery.status).toBe('delivered');
    // The killed attempt left no log row; the retry logged its own attempt number once.
    const logs = await database.db
      .selectFrom('webhook_logs')
      .select(['attempt', 'success'])
      .where('webhook_id', '=', endpoint.json.id)
      .execute();
    expect(logs).toEqual([{ attempt: 2, success: true }]);
  });
});
