import express from 'express';
import { DatabaseError } from 'pg';
import { errorHandler } from '../../api/error-handler';
import { MAX_JSON_DEPTH, MAX_PATH_SEGMENT_CHARS } from '../../api/input-guard';
import { createLogger } from '../../lib/logger';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { createCaller, type TestCaller } from './fixtures';

/** Hostile bytes anywhere in a request are a 400 problem naming the field, never a 500. */
describe('input guard: NUL, lone surrogates, invalid UTF-8, long ids, deep JSON → 400', () => {
  let platform: TestPlatform;
  let caller: TestCaller;
  beforeAll(async () => {
    platform = await startTestPlatform();
    caller = await createCaller(platform.database.db);
  });
  afterAll(() => platform?.stop());

  const expect400 = (res: { status: number; headers: Headers; json: any }, field: string) => {
    expect([res.status, res.headers.get('content-type')]).toEqual([400, expect.stringMatching(/^application\/problem\+json/)]);
    expect(res.json.errors).toEqual([expect.objectContaining({ field })]);
  };

  it('refuses a NUL or a lone surrogate in any JSON string or key, naming the field', async () => {
    expect400(await api(platform.apiUrl, 'POST', '/v1/api-keys', { name: 'ci\u0000key' }, caller.auth), 'name');
    expect400(await api(platform.apiUrl, 'POST', '/v1/api-keys', { name: 'ci \ud800 key' }, caller.auth), 'name');
    expect400(await api(platform.apiUrl, 'POST', '/v1/smoke', { name: ['ok', { deep: '\udc00' }] }, caller.auth), 'name.1.deep');
    expect400(await api(platform.apiUrl, 'POST', '/v1/smoke', { 'na\u0000me': 'x' }, caller.auth), '(body)');
  });

  it('refuses NUL, invalid UTF-8 and over-long segments in the path and the query', async () => {
    expect400(await api(platform.apiUrl, 'GET', '/v1/runs/smoke%3Aabc%00', undefined, caller.auth), '(path)');
    expect400(await api(platform.apiUrl, 'GET', '/v1/runs/%ED%A0%80', undefined, caller.auth), '(path)');
    expect400(await api(platform.apiUrl, 'GET', '/v1/runs/%FF', undefined, caller.auth), '(path)');
    expect400(await api(platform.apiUrl, 'GET', `/v1/runs/${'r'.repeat(MAX_PATH_SEGMENT_CHARS + 1)}`, undefined, caller.auth), '(path)');
    expect400(await api(platform.apiUrl, 'GET', '/v1/runs?type=smoke%00', undefined, caller.auth), 'type');
    expect400(await api(platform.apiUrl, 'GET', '/v1/runs?type=%FF', undefined, caller.auth), '(query)');
    expect((await api(platform.apiUrl, 'GET', '/v1/runs?type=smoke', undefined, caller.auth)).status).toBe(200);
  });

  it('refuses a body that is not UTF-8', async () => {
    const res = await fetch(`${platform.apiUrl}/v1/api-keys`, {
      method: 'POST',
      headers: { ...caller.auth, 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    });
    expect400({ status: res.status, headers: res.headers, json: await res.json() }, '(body)');
  });

  it('refuses JSON nested deeper than the limit, even with an Idempotency-Key (canonicalJson would overflow the stack)', async () => {
    const res = await fetch(`${platform.apiUrl}/v1/smoke`, {
      method: 'POST',
      headers: { ...caller.auth, 'content-type': 'application/json', 'idempotency-key': 'deep-json' },
      body: `{"name":"x","extra":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
    });
    expect400({ status: res.status, headers: res.headers, json: await res.json() }, `extra${'.0'.repeat(MAX_JSON_DEPTH - 1)}`);
  });

  it('maps a PostgreSQL data exception (class 22) to 400, as the last line of defence', async () => {
    const app = express();
    app.get('/boom', () => {
      throw Object.assign(new DatabaseError('invalid byte sequence for encoding "UTF8": 0x00', 0, 'error'), { code: '22021' });
    });
    app.use(errorHandler(createLogger('silent')));
    const server = app.listen(0);
    try {
      const { port } = server.address() as { port: number };
      const res = await api(`http://127.0.0.1:${port}`, 'GET', '/boom');
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('0x00');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
