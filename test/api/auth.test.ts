import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeyLookupPrefix, createApiKey, hashApiKey } from '../../db/repositories/api-keys';
import { DEMO_USER_EMAIL, DEV_ADMIN_EMAIL, seedDevAccess } from '../../db/seed/dev-access';
import { API_KEY_USAGE_FLUSH_MS } from '../../api/api-key-cache';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { createCaller, type TestCaller } from './fixtures';

describe('API auth: keys, scopes, admin', () => {
  let platform: TestPlatform;
  let alice: TestCaller;
  let bob: TestCaller;
  const get = (path: string, headers: Record<string, string> = {}) => api(platform.apiUrl, 'GET', path, undefined, headers);

  beforeAll(async () => {
    platform = await startTestPlatform();
    alice = await createCaller(platform.database.db);
    bob = await createCaller(platform.database.db);
  });
  afterAll(() => platform?.stop());

  it('answers 401 problem+json with WWW-Authenticate for a missing, malformed or unknown key', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Basic abc' },
      { authorization: 'Bearer cjp_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      { authorization: `Bearer ${alice.key}x` },
    ]) {
      const res = await get('/v1/runs', headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.json).toMatchObject({ status: 401, title: 'Unauthorized', type: expect.stringMatching(/\/unauthorized$/) });
    }
  });

  it('stores only a prefix and a hash of each key', async () => {
    const row = await platform.database.db.selectFrom('api_keys').selectAll().where('id', '=', alice.keyId).executeTakeFirstOrThrow();
    expect(alice.key).toMatch(/^cjp_[0-9a-f]{12}_[\w-]{43}$/);
    expect(row.key_prefix).toBe(alice.key.slice(0, 16));
    expect(row.key_hash).toBe(hashApiKey(alice.key));
    expect(JSON.stringify(row)).not.toContain(alice.key.slice(17));
  });

  it('answers 401 for an expired key and 403 for a key without the scope', async () => {
    const expired = await createCaller(platform.database.db, { expiresAt: new Date(Date.now() - 1000) });
    expect((await get('/v1/runs', expired.auth)).status).toBe(401);
    const readOnly = await createCaller(platform.database.db, { scopes: ['runs:read'] });
    expect((await get('/v1/runs', readOnly.auth)).status).toBe(200);
    const start = await api(platform.apiUrl, 'POST', '/v1/smoke', {}, readOnly.auth);
    expect(start.status).toBe(403);
    expect(start.json).toMatchObject({ status: 403, requiredScope: 'runs:write' });
  });

  it('creates a key whose plaintext is shown once, lists keys without secrets, revokes → 401', async () => {
    const created = await api(platform.apiUrl, 'POST', '/v1/api-keys', { name: 'ci', scopes: ['runs:read'], rateLimit: 30 }, alice.auth);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      name: 'ci',
      scopes: ['runs:read'],
      rateLimit: 30,
      revokedAt: null,
      key: expect.stringMatching(/^cjp_/),
    });
    const newKey = { authorization: `Bearer ${created.json.key}` };
    expect((await get('/v1/runs', newKey)).status).toBe(200);

    const listed = await get('/v1/api-keys', alice.auth);
    expect(listed.status).toBe(200);
    expect(listed.json.data.map((k: { id: string }) => k.id)).toEqual(expect.arrayContaining([created.json.id, alice.keyId]));
    expect(listed.text).not.toContain(created.json.key);
    expect(listed.json.data.every((k: object) => !('key' in k) && !('keyHash' in k))).toBe(true);

    expect((await api(platform.apiUrl, 'DELETE', `/v1/api-keys/${created.json.id}`, undefined, alice.auth)).status).toBe(204);
    expect((await get('/v1/runs', newKey)).status).toBe(401);
    const audit = await platform.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_id', '=', created.json.id)
      .orderBy('created_at')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['api_key.create', 'api_key.revoke']);
  });

  it('counts key usage in memory and writes it in one batch per key: no database write per request', async () => {
    const created = await api(platform.apiUrl, 'POST', '/v1/api-keys', { name: 'usage', scopes: ['runs:read'] }, alice.auth);
    const key = { authorization: `Bearer ${created.json.key}` };
    const usage = () =>
      platform.database.db
        .selectFrom('api_keys')
        .select(['usage_count', 'last_used_at'])
        .where('id', '=', created.json.id)
        .executeTakeFirstOrThrow();
    for (let i = 0; i < 3; i++) expect((await get('/v1/runs', key)).status).toBe(200);
    expect(await usage()).toEqual({ usage_count: 0, last_used_at: null });
    const written = await eventually(usage, (u) => u.usage_count === 3, 'the batched usage write', API_KEY_USAGE_FLUSH_MS + 5_000);
    expect(written.last_used_at).toBeInstanceOf(Date);
  });

  it('refuses to mint a key with scopes its creator lacks', async () => {
    const res = await api(platform.apiUrl, 'POST', '/v1/api-keys', { name: 'escalate', scopes: ['admin'] }, alice.auth);
    expect(res.status).toBe(403);
  });

  it("answers 404 for someone else's key and leaves it alive (BOLA)", async () => {
    const res = await api(platform.apiUrl, 'DELETE', `/v1/api-keys/${bob.keyId}`, undefined, alice.auth);
    expect(res.status).toBe(404);
    expect((await get('/v1/runs', bob.auth)).status).toBe(200);
  });

  it('lets only admins create users; the new user can call the API with the returned key', async () => {
    const body = { email: `New.User+${Date.now()}@Example.test`, plan: 'premium' };
    expect((await api(platform.apiUrl, 'POST', '/v1/admin/users', body, alice.auth)).status).toBe(403);
    // An `admin` scope on a non-admin user's key grants nothing.
    const sneaky = await createApiKey(platform.database.db, { userId: alice.userId, name: 'sneaky', scopes: ['admin'] });
    expect((await api(platform.apiUrl, 'POST', '/v1/admin/users', body, { authorization: `Bearer ${sneaky.plaintext}` })).status).toBe(403);

    const admin = await createCaller(platform.database.db, { role: 'admin', scopes: ['admin'] });
    const created = await api(platform.apiUrl, 'POST', '/v1/admin/users', body, admin.auth);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      email: body.email.toLowerCase(),
      plan: 'premium',
      role: 'user',
      userId: expect.any(String),
      apiKey: expect.stringMatching(/^cjp_/),
    });
    expect((await get('/v1/runs', { authorization: `Bearer ${created.json.apiKey}` })).status).toBe(200);
    expect((await api(platform.apiUrl, 'POST', '/v1/admin/users', body, admin.auth)).status).toBe(409);
  });

  it('seedDevAccess makes DEV_API_KEY and DEV_ADMIN_KEY work exactly as given, idempotently', async () => {
    const config = {
      NODE_ENV: 'test' as const,
      DEV_API_KEY: 'dev-demo-key-123',
      DEV_ADMIN_KEY: 'dev-admin-key-456',
      dataDir: '/nonexistent',
    };
    expect(await seedDevAccess(platform.database.db, config)).toEqual({ demoApiKey: 'dev-demo-key-123', demoKeySource: 'DEV_API_KEY' });
    await seedDevAccess(platform.database.db, config);
    expect(apiKeyLookupPrefix('dev-demo-key-123')).toMatch(/^h_[0-9a-f]{24}$/);
    expect((await get('/v1/runs', { authorization: 'Bearer dev-demo-key-123' })).status).toBe(200);
    const res = await api(
      platform.apiUrl,
      'POST',
      '/v1/admin/users',
      { email: `seeded-${Date.now()}@example.test` },
      { authorization: 'Bearer dev-admin-key-456' },
    );
    expect(res.status).toBe(201);
    const users = await platform.database.db
      .selectFrom('users')
      .select(['email', 'role'])
      .where('email', 'in', [DEMO_USER_EMAIL, DEV_ADMIN_EMAIL])
      .orderBy('email')
      .execute();
    expect(users).toEqual([
      { email: DEV_ADMIN_EMAIL, role: 'admin' },
      { email: DEMO_USER_EMAIL, role: 'user' },
    ]);
  });

  it('generates one demo key in development without DEV_API_KEY and reuses it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dev-access-'));
    try {
      const first = await seedDevAccess(platform.database.db, {
        NODE_ENV: 'development',
        DEV_API_KEY: undefined,
        DEV_ADMIN_KEY: undefined,
        dataDir,
      });
      expect(first).toEqual({ demoApiKey: expect.stringMatching(/^cjp_/), demoKeySource: 'generated' });
      expect(readFileSync(join(dataDir, 'demo-api-key'), 'utf8').trim()).toBe(first.demoApiKey);
      expect(
        (await seedDevAccess(platform.database.db, { NODE_ENV: 'development', DEV_API_KEY: undefined, DEV_ADMIN_KEY: undefined, dataDir }))
          .demoApiKey,
      ).toBe(first.demoApiKey);
      expect((await get('/v1/runs', { authorization: `Bearer ${first.demoApiKey}` })).status).toBe(200);
      expect(
        await seedDevAccess(platform.database.db, { NODE_ENV: 'production', DEV_API_KEY: undefined, DEV_ADMIN_KEY: undefined, dataDir }),
      ).toEqual({});
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
