import { createCaller, type TestCaller } from '../api/fixtures';
import { startTestPlatform, api, type TestPlatform } from '../helpers/platform';

describe('smoke path: API → Temporal → worker → activity → PostgreSQL', () => {
  let platform: TestPlatform;
  let caller: TestCaller;
  beforeAll(async () => {
    platform = await startTestPlatform();
    caller = await createCaller(platform.database.db);
  });
  afterAll(() => platform?.stop());

  it('GET /healthz answers ok and /readyz reports PostgreSQL and Temporal ready', async () => {
    expect((await api(platform.apiUrl, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
    const ready = await api(platform.apiUrl, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.checks).toEqual({ postgres: 'ok', temporal: 'ok' });
  });

  it('starts a smoke workflow that completes and records its run row', async () => {
    const started = await api(platform.apiUrl, 'POST', '/v1/smoke', { name: 'ada', delayMs: 200 }, caller.auth);
    expect(started.status).toBe(202);
    const runId: string = started.json.runId;
    expect(runId).toMatch(/^smoke:[0-9a-f-]{36}$/);

    const result = await platform.client.workflow.getHandle(runId).result();
    expect(result.greeting).toMatch(/^hello, ada \(database time \d{4}-/);

    const row = await platform.database.db.selectFrom('job_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ type: 'smoke', status: 'completed', progress: 100, stage: 'done', user_id: caller.userId });
    expect(row.closed_at).toBeInstanceOf(Date);

    // Visible to ops: the run is listed by the server with its search attributes.
    const described = await platform.client.workflow.getHandle(runId).describe();
    expect(described.typedSearchAttributes.get({ name: 'JobType', type: 'KEYWORD' } as never)).toBe('smoke');
  });

  it('rejects an invalid body with a problem+json naming the field', async () => {
    const res = await api(platform.apiUrl, 'POST', '/v1/smoke', { name: '', delayMs: -1 }, caller.auth);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(['delayMs', 'name']);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await api(platform.apiUrl, 'GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ status: 404, title: 'Not Found' });
  });
});
