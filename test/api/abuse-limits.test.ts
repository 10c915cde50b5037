import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import { getPlanLimits } from '../../db/repositories/plans';
import { CLICKS_PER_VISITOR_PER_MINUTE } from '../../api/routes/affiliates';
import { createApiKey } from '../../db/repositories/api-keys';
import { createDb } from '../../db/database';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { MAX_API_KEYS_PER_USER, USER_SCOPES } from '../../schemas/api-keys';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { createCaller } from './fixtures';

const ANONYMOUS_PER_MINUTE = 5;

describe('abuse limits: per-user rate budget, per-IP anonymous budget, key cap, click recording, /readyz', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ env: { ANONYMOUS_RATE_LIMIT_PER_MINUTE: String(ANONYMOUS_PER_MINUTE) } });
  });
  afterAll(() => platform?.stop());
  const db = () => platform.database.db;

  it("makes a user's keys share one budget: a second key does not double the plan's requests per minute", async () => {
    const first = await createCaller(db(), { plan: 'free' });
    const second = await createApiKey(db(), { userId: first.userId, name: 'second', scopes: USER_SCOPES });
    const { apiRateLimitPerMinute } = await getPlanLimits(db(), first.userId);
    const keys = [first.auth, { authorization: `Bearer ${second.plaintext}` }];
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < apiRateLimitPerMinute + 20; i++)
      statuses.push((await api(platform.apiUrl, 'GET', '/v1/runs', undefined, keys[i % 2])).status);
    // The bucket refills at perMinute/60 per second while the loop runs.
    const refilled = Math.ceil(((Date.now() - started) / 60_000) * apiRateLimitPerMinute);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(apiRateLimitPerMinute + refilled);
    const refused = await api(platform.apiUrl, 'GET', '/v1/runs', undefined, keys[1]);
    expect(refused.status).toBe(429);
    expect(refused.json.detail).toMatch(/shared by all your API keys/);
  });

  it('limits requests without a valid key per client IP, malformed and unknown keys included; a valid key is unaffected', async () => {
    const caller = await createCaller(db());
    const statuses: number[] = [];
    for (let i = 0; i < ANONYMOUS_PER_MINUTE; i++)
      statuses.push((await api(platform.apiUrl, 'GET', '/v1/runs', undefined, { authorization: `Bearer cjp_${i}` })).status);
    expect(statuses).toEqual(new Array(ANONYMOUS_PER_MINUTE).fill(401));
    const limited = await api(platform.apiUrl, 'GET', '/healthz');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await api(platform.apiUrl, 'GET', '/v1/runs', undefined, { authorization: 'Bearer nope' })).status).toBe(429);
    expect((await api(platform.apiUrl, 'GET', '/v1/runs', undefined, caller.auth)).status).toBe(200);
  });

  it(`lets a user hold at most ${MAX_API_KEYS_PER_USER} live keys (409 beyond); revoking one frees a place`, async () => {
    const owner = await createCaller(db());
    const created: string[] = [owner.keyId];
    for (let i = 1; i < MAX_API_KEYS_PER_USER; i++) {
      const res = await api(platform.apiUrl, 'POST', '/v1/api-keys', { name: `k${i}` }, owner.auth);
      expect(res.status).toBe(201);
      created.push(res.json.id as string);
    }
    const refused = await api(platform.apiUrl, 'POST', '/v1/api-keys', { name: 'one too many' }, owner.auth);
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ type: expect.stringMatching(/\/api-key-limit$/), limit: MAX_API_KEYS_PER_USER });
    expect((await api(platform.apiUrl, 'DELETE', `/v1/api-keys/${created[1]}`, undefined, owner.auth)).status).toBe(204);
    expect((await api(platform.apiUrl, 'POST', '/v1/api-keys', { name: 'replacement' }, owner.auth)).status).toBe(201);
  });

  it(`records at most ${CLICKS_PER_VISITOR_PER_MINUTE} clicks per IP and code a minute, and keeps redirecting`, async () => {
    const affiliate = await createCaller(db());
    const code = `limit-${randomBytes(3).toString('hex')}`;
    expect((await api(platform.apiUrl, 'POST', '/v1/affiliates', { referralCode: code }, affiliate.auth)).status).toBe(201);
    const locations: string[] = [];
    for (let i = 0; i < CLICKS_PER_VISITOR_PER_MINUTE + 3; i++) {
      const res = await fetch(`${platform.apiUrl}/r/${code}`, { redirect: 'manual', headers: affiliate.auth });
      expect(res.status).toBe(302);
      locations.push(res.headers.get('location') ?? '');
    }
    expect(locations.every((l) => new URL(l, 'http://x').searchParams.get('ref') === code)).toBe(true);
    const clicks = await db().selectFrom('affiliate_clicks').select('id').where('referral_code', '=', code).execute();
    expect(clicks).toHaveLength(CLICKS_PER_VISITOR_PER_MINUTE);
  });

  it('/readyz says what is unreachable without the driver errors (hosts, ports, users)', async () => {
    const brokenDb = createDb('postgres://secret_user:secret_pw@127.0.0.1:1/nowhere', 1);
    const temporal = {
      connection: {
        workflowService: { describeNamespace: () => Promise.reject(new Error('14 UNAVAILABLE: connect ECONNREFUSED 10.9.8.7:7233')) },
      },
    } as unknown as Client;
    const app = createApp({
      db: brokenDb,
      temporal,
      logger: createLogger('silent'),
      config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
      taskQueues: platform.queues,
    });
    const server = app.listen(0);
    try {
      const { port } = server.address() as { port: number };
      const res = await api(`http://127.0.0.1:${port}`, 'GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.json.checks).toEqual({ postgres: 'unreachable', temporal: 'unreachable' });
      expect(res.text).not.toMatch(/ECONNREFUSED|10\.9\.8\.7|7233|secret|127\.0\.0\.1:1/);
    } finally {
      server.closeAllConnections();
      server.close();
      await brokenDb.destroy();
    }
  });
});
