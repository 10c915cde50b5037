import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { getPlanLimits } from '../../db/repositories/plans';
import { PRIORITY_KEY } from '../../api/run-starter';
import { SSE_MAX_STREAMS_PER_USER, SSE_POLL_MS } from '../../api/routes/runs';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { createCaller, type TestCaller } from './fixtures';
import { readEventStream } from './sse-client';

/** Long enough that each smoke stage spans several SSE polls. */
const GREETING_MS = 1200;

describe('runs: list, live status, SSE, cancel, idempotency, limits', () => {
  let platform: TestPlatform;
  let alice: TestCaller;
  let bob: TestCaller;
  const started: string[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform({
      activities: (real) => ({
        ...real,
        composeGreeting: async (name: string) => {
          await sleep(GREETING_MS);
          return real.composeGreeting(name);
        },
      }),
    });
    alice = await createCaller(platform.database.db);
    bob = await createCaller(platform.database.db);
  });
  afterAll(async () => {
    await Promise.allSettled(started.map((id) => platform.client.workflow.getHandle(id).terminate('test finished')));
    await platform?.stop();
  });

  async function startSmoke(caller: TestCaller, body: object = {}, headers: Record<string, string> = {}) {
    const res = await api(platform.apiUrl, 'POST', '/v1/smoke', body, { ...caller.auth, ...headers });
    if (res.json?.runId) started.push(res.json.runId);
    return res;
  }
  const getRun = (caller: TestCaller, runId: string) =>
    api(platform.apiUrl, 'GET', `/v1/runs/${encodeURIComponent(runId)}`, undefined, caller.auth);
  async function waitForStatus(caller: TestCaller, runId: string, status: string): Promise<Record<string, any>> {
    for (let i = 0; i < 100; i++) {
      const res = await getRun(caller, runId);
      if (res.json.status === status) return res.json as Record<string, any>;
      await sleep(100);
    }
    throw new Error(`run ${runId} never reached ${status}`);
  }

  it('serves a running run live from its progress query and a closed one from PostgreSQL', async () => {
    const start = await startSmoke(alice, { name: 'ada', delayMs: 1500 });
    expect(start.status).toBe(202);
    expect(start.json).toEqual({
      runId: expect.stringMatching(/^smoke:/),
      statusUrl: `/v1/runs/${encodeURIComponent(start.json.runId)}`,
      eventsUrl: expect.stringMatching(/\/events$/),
    });
    const running = await waitForStatus(alice, start.json.runId, 'running');
    expect(running).toMatchObject({ id: start.json.runId, type: 'smoke', closedAt: null });
    for (let i = 0; i < 30 && (await getRun(alice, start.json.runId)).json.stage !== 'waiting'; i++) await sleep(100);
    expect((await getRun(alice, start.json.runId)).json).toMatchObject({ stage: 'waiting', progress: 10, counters: {} });

    const done = await waitForStatus(alice, start.json.runId, 'completed');
    expect(done).toMatchObject({
      stage: 'done',
      progress: 100,
      result: { greeting: expect.stringMatching(/^hello, ada/) },
      closedAt: expect.any(String),
    });
    expect(done.error).toBeUndefined();
  });

  it('streams at least two progress events, then closed, and resumes after Last-Event-ID', async () => {
    const start = await startSmoke(alice, { delayMs: 1200 });
    const url = `${platform.apiUrl}${start.json.eventsUrl}`;
    const stream = await readEventStream(url, alice.auth);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const progress = stream.events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(new Set(progress.map((e) => e.data.stage as string)).size).toBe(progress.length); // one event per change
    expect(progress.map((e) => e.data.stage as string)).toEqual(expect.arrayContaining(['waiting', 'greeting']));
    expect(stream.events[stream.events.length - 1]).toMatchObject({ event: 'closed', data: { status: 'completed', progress: 100 } });
    expect(stream.events.map((e) => Number(e.id))).toEqual(stream.events.map((_, i) => i + 1));

    const resumed = await readEventStream(url, { ...alice.auth, 'last-event-id': '7' });
    expect(resumed.events).toEqual([expect.objectContaining({ id: '8', event: 'closed' })]);
  });

  it('accepts a short-lived stream token instead of the header on the events route only', async () => {
    const start = await startSmoke(alice, { delayMs: 0 });
    const token = await api(platform.apiUrl, 'POST', '/v1/stream-tokens', undefined, alice.auth);
    expect(token.status).toBe(201);
    const url = `${platform.apiUrl}${start.json.eventsUrl}`;
    const stream = await readEventStream(`${url}?access_token=${encodeURIComponent(token.json.token)}`);
    expect(stream.events.at(-1)).toMatchObject({ event: 'closed' });
    expect((await readEventStream(`${url}?access_token=${encodeURIComponent(token.json.token)}x`)).status).toBe(401);
    expect((await api(platform.apiUrl, 'GET', `${start.json.statusUrl}?access_token=${encodeURIComponent(token.json.token)}`)).status).toBe(
      401,
    );
    expect(
      (
        await readEventStream(
          `${url}?access_token=${encodeURIComponent(token.json.token)}`.replace(encodeURIComponent(start.json.runId), 'smoke%3Aother'),
        )
      ).status,
    ).toBe(404);
  });

  it('polls a run once for all of its event streams, not once per stream', async () => {
    const start = await startSmoke(alice, { delayMs: 1500 });
    const runId: string = start.json.runId;
    let queries = 0;
    const getHandle = platform.client.workflow.getHandle.bind(platform.client.workflow);
    const spy = jest.spyOn(platform.client.workflow, 'getHandle').mockImplementation((...args: Parameters<typeof getHandle>) => {
      const handle = getHandle(...args);
      if (args[0] !== runId) return handle;
      const query = handle.query.bind(handle);
      return Object.assign(handle, { query: (...q: Parameters<typeof query>) => ((queries += 1), query(...q)) });
    });
    try {
      const started = Date.now();
      const streams = await Promise.all([1, 2, 3].map(() => readEventStream(`${platform.apiUrl}${start.json.eventsUrl}`, alice.auth)));
      for (const stream of streams) expect(stream.events.at(-1)).toMatchObject({ event: 'closed', data: { status: 'completed' } });
      // One stream alone would query about once per poll; three streams polling on their own, three times that.
      expect(queries).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / SSE_POLL_MS) + 2);
    } finally {
      spy.mockRestore();
    }
  });

  it(`caps open event streams at ${SSE_MAX_STREAMS_PER_USER} per user; closing one frees a place`, async () => {
    const erin = await createCaller(platform.database.db);
    const start = await startSmoke(erin, { delayMs: 60_000 });
    const url = `${platform.apiUrl}${start.json.eventsUrl}`;
    const open = (signal: AbortSignal) => fetch(url, { headers: { ...erin.auth, accept: 'text/event-stream' }, signal });
    const controllers = Array.from({ length: SSE_MAX_STREAMS_PER_USER }, () => new AbortController());
    try {
      for (const controller of controllers) expect((await open(controller.signal)).status).toBe(200);
      const refused = await open(new AbortController().signal);
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ type: expect.stringMatching(/\/too-many-streams$/), limit: SSE_MAX_STREAMS_PER_USER });
      controllers.pop()!.abort();
      let reopened = 429;
      for (let i = 0; i < 50 && reopened === 429; i++) {
        const retry = new AbortController();
        reopened = (await open(retry.signal)).status;
        if (reopened === 200) controllers.push(retry);
        else await sleep(100);
      }
      expect(reopened).toBe(200);
    } finally {
      for (const controller of controllers) controller.abort();
    }
  });

  it("answers 404 for someone else's run on every run route, and changes nothing (BOLA)", async () => {
    const start = await startSmoke(alice, { delayMs: 60_000 });
    const runId: string = start.json.runId;
    expect((await getRun(bob, runId)).status).toBe(404);
    expect((await readEventStream(`${platform.apiUrl}${start.json.eventsUrl}`, bob.auth)).status).toBe(404);
    const bobToken = (await api(platform.apiUrl, 'POST', '/v1/stream-tokens', undefined, bob.auth)).json.token;
    expect((await readEventStream(`${platform.apiUrl}${start.json.eventsUrl}?access_token=${encodeURIComponent(bobToken)}`)).status).toBe(
      404,
    );
    const cancel = await api(platform.apiUrl, 'POST', `${start.json.statusUrl}/cancel`, undefined, bob.auth);
    expect(cancel.status).toBe(404);
    expect((await platform.client.workflow.getHandle(runId).describe()).status.name).toBe('RUNNING');
    const list = await api(platform.apiUrl, 'GET', '/v1/runs', undefined, bob.auth);
    expect(list.json.data.map((r: { id: string }) => r.id)).not.toContain(runId);
  });

  it('cancels a running run (202), then reports it canceled; a second cancel is 409', async () => {
    const start = await startSmoke(alice, { delayMs: 60_000 });
    await waitForStatus(alice, start.json.runId, 'running');
    const cancel = await api(platform.apiUrl, 'POST', `${start.json.statusUrl}/cancel`, undefined, alice.auth);
    expect(cancel.status).toBe(202);
    expect(cancel.json).toEqual({ runId: start.json.runId, status: 'cancel_requested' });
    const canceled = await waitForStatus(alice, start.json.runId, 'canceled');
    expect(canceled.closedAt).toEqual(expect.any(String));
    expect((await api(platform.apiUrl, 'POST', `${start.json.statusUrl}/cancel`, undefined, alice.auth)).status).toBe(409);
  });

  it('reports a run terminated in Temporal as terminated and closes its row', async () => {
    const start = await startSmoke(alice, { delayMs: 60_000 });
    await waitForStatus(alice, start.json.runId, 'running');
    await platform.client.workflow.getHandle(start.json.runId).terminate('ops');
    expect(await waitForStatus(alice, start.json.runId, 'terminated')).toMatchObject({ error: { type: 'Terminated' } });
    const row = await platform.database.db
      .selectFrom('job_runs')
      .select(['status', 'closed_at'])
      .where('id', '=', start.json.runId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('terminated');
  });

  it('lists the caller’s runs newest first with cursor pagination and filters', async () => {
    const carol = await createCaller(platform.database.db);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await startSmoke(carol, { name: `n${i}` })).json.runId);
    const page1 = await api(platform.apiUrl, 'GET', '/v1/runs?limit=2', undefined, carol.auth);
    expect(page1.json.data.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    expect(page1.json.nextCursor).toEqual(expect.any(String));
    const page2 = await api(platform.apiUrl, 'GET', `/v1/runs?limit=2&cursor=${page1.json.nextCursor}`, undefined, carol.auth);
    expect(page2.json).toEqual({ data: [expect.objectContaining({ id: ids[0], type: 'smoke' })], nextCursor: null });
    expect((await api(platform.apiUrl, 'GET', '/v1/runs?type=video-import', undefined, carol.auth)).json.data).toEqual([]);
    for (const id of ids) await waitForStatus(carol, id, 'completed');
    expect((await api(platform.apiUrl, 'GET', '/v1/runs?status=completed', undefined, carol.auth)).json.data).toHaveLength(3);
    expect((await api(platform.apiUrl, 'GET', '/v1/runs?cursor=bogus', undefined, carol.auth)).status).toBe(400);
  });

  it('Idempotency-Key: same body → the same run; different body → 422; keys are per user', async () => {
    const key = { 'idempotency-key': `order-${Date.now()}` };
    const first = await startSmoke(alice, { name: 'same', delayMs: 0 }, key);
    const again = await startSmoke(alice, { delayMs: 0, name: 'same' }, key);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const rows = await platform.database.db
      .selectFrom('job_runs')
      .select('id')
      .where('user_id', '=', alice.userId)
      .where(sql<boolean>`input->>'name' = 'same'`)
      .execute();
    expect(rows).toHaveLength(1);

    const different = await startSmoke(alice, { name: 'other' }, key);
    expect(different.status).toBe(422);
    expect(different.json.type).toMatch(/idempotency-key-reused$/);
    const otherUser = await startSmoke(bob, { name: 'same', delayMs: 0 }, key);
    expect(otherUser.status).toBe(202);
    expect(otherUser.json.runId).not.toBe(first.json.runId);
  });

  it('429 concurrency-limit when the plan’s running-job cap is reached; a slot frees when a run ends', async () => {
    const dave = await createCaller(platform.database.db, { plan: 'free' });
    const { maxConcurrentJobs } = await getPlanLimits(platform.database.db, dave.userId);
    const running: string[] = [];
    for (let i = 0; i < maxConcurrentJobs; i++) {
      const res = await startSmoke(dave, { delayMs: 60_000 });
      expect(res.status).toBe(202);
      running.push(res.json.runId);
    }
    const refused = await startSmoke(dave, { delayMs: 60_000 }, { 'idempotency-key': 'over-cap' });
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ type: expect.stringMatching(/\/concurrency-limit$/), limit: maxConcurrentJobs });
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);

    await platform.client.workflow.getHandle(running[0]!).terminate('make room');
    const admitted = await startSmoke(dave, { delayMs: 60_000 }, { 'idempotency-key': 'over-cap' }); // the refused key is reusable
    expect(admitted.status).toBe(202);
  });

  it('429 with Retry-After once a key exceeds its rate limit', async () => {
    const limited = await createCaller(platform.database.db, { rateLimit: 3 });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await api(platform.apiUrl, 'GET', '/v1/runs', undefined, limited.auth);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(last!.json).toMatchObject({ status: 429, type: expect.stringMatching(/\/rate-limit$/) });
    expect((await api(platform.apiUrl, 'GET', '/v1/runs', undefined, alice.auth)).status).toBe(200); // per key
  });

  it('starts runs of priority plans with a higher Temporal priority', async () => {
    const keys: Record<string, number | undefined> = {};
    for (const plan of ['free', 'enterprise']) {
      const caller = await createCaller(platform.database.db, { plan });
      const { priorityProcessing } = await getPlanLimits(platform.database.db, caller.userId);
      const start = await startSmoke(caller, { delayMs: 0 });
      keys[plan] = (await platform.client.workflow.getHandle(start.json.runId).describe()).priority?.priorityKey;
      expect([plan, keys[plan]]).toEqual([plan, priorityProcessing ? PRIORITY_KEY.priority : PRIORITY_KEY.standard]);
    }
    expect(keys).toEqual({ free: PRIORITY_KEY.standard, enterprise: PRIORITY_KEY.priority });
  });
});
