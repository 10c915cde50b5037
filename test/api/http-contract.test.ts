import type { Express } from 'express';
import { createApp } from '../../api/app';
import { createLogger } from '../../lib/logger';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { createCaller, type TestCaller } from './fixtures';

/** Every route the app serves, as "METHOD /openapi/{style}" (sub-routers mounted at the root). */
function expressRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods))
          found.push(`${method.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as any).router.stack);
  return found;
}

describe('HTTP contract: problem+json, limits, headers, OpenAPI', () => {
  let platform: TestPlatform;
  let caller: TestCaller;
  beforeAll(async () => {
    // Requests come from 127.0.0.1, trusted as a proxy here so its X-Request-Id is kept.
    platform = await startTestPlatform({ env: { CORS_ORIGINS: 'https://app.example.test', TRUST_PROXY: 'loopback' } });
    caller = await createCaller(platform.database.db);
  });
  afterAll(() => platform?.stop());

  const expectProblem = (res: Awaited<ReturnType<typeof api>>, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.json).toEqual(
      expect.objectContaining({
        type: expect.stringMatching(/^https:\/\//),
        title: expect.any(String),
        status,
        instance: expect.any(String),
        requestId: res.headers.get('x-request-id'),
      }),
    );
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // never a stack trace
  };

  it('404 for unknown routes, with or without a key', async () => {
    expectProblem(await api(platform.apiUrl, 'GET', '/v1/nope'), 404);
    expectProblem(await api(platform.apiUrl, 'DELETE', '/v1/nope', undefined, caller.auth), 404);
  });

  it('405 with Allow for a method a documented path does not serve; OPTIONS lists the methods', async () => {
    const res = await api(platform.apiUrl, 'DELETE', '/v1/runs', undefined, caller.auth);
    expectProblem(res, 405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    // The concrete path wins over the template that would also match it (/v1/admin/payouts/{period}).
    const options = await fetch(`${platform.apiUrl}/v1/admin/payouts/run`, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'POST, OPTIONS']);
  });

  it('400 lists every invalid field; malformed JSON is a 400 problem too', async () => {
    const res = await api(platform.apiUrl, 'POST', '/v1/api-keys', { name: '', scopes: ['root'], extra: 1 }, caller.auth);
    expectProblem(res, 400);
    expect(res.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(['(body)', 'name', 'scopes.0']);
    const query = await api(platform.apiUrl, 'GET', '/v1/runs?limit=1000&status=done', undefined, caller.auth);
    expectProblem(query, 400);
    expect(query.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(['limit', 'status']);
    const malformed = await fetch(`${platform.apiUrl}/v1/smoke`, {
      method: 'POST',
      headers: { ...caller.auth, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ title: 'Malformed JSON' });
  });

  it('415 for a body that is not JSON', async () => {
    const res = await fetch(`${platform.apiUrl}/v1/smoke`, {
      method: 'POST',
      headers: { ...caller.auth, 'content-type': 'text/plain' },
      body: 'name=ada',
    });
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('413 for a JSON body over 256 kB', async () => {
    expectProblem(await api(platform.apiUrl, 'POST', '/v1/smoke', { name: 'x'.repeat(300 * 1024) }, caller.auth), 413);
  });

  it('sends request ids, security headers and CORS only for configured origins', async () => {
    const res = await fetch(`${platform.apiUrl}/healthz`, { headers: { 'x-request-id': 'trace-123', origin: 'https://app.example.test' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    const preflight = await fetch(`${platform.apiUrl}/v1/smoke`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.test',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,idempotency-key',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Idempotency-Key/);
    const other = await fetch(`${platform.apiUrl}/healthz`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  describe('OpenAPI', () => {
    let doc: any;
    beforeAll(async () => {
      const res = await api(platform.apiUrl, 'GET', '/openapi.json');
      expect(res.status).toBe(200);
      doc = res.json;
    });

    it('is a structurally valid OpenAPI 3.1 document', () => {
      expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
      expect(doc.info).toEqual(expect.objectContaining({ title: expect.any(String), version: expect.any(String) }));
      expect(Object.keys(doc.paths).length).toBeGreaterThan(5);
      const refs: string[] = [];
      JSON.stringify(doc, (key, value: unknown) => {
        if (key === '$ref' && typeof value === 'string') refs.push(value);
        return value;
      });
      for (const ref of refs) {
        const [, kind, name] = /^#\/components\/(\w+)\/(.+)$/.exec(ref) ?? [];
        expect([ref, Boolean(kind && name && doc.components?.[kind]?.[name])]).toEqual([ref, true]);
      }
      for (const [path, item] of Object.entries<any>(doc.paths)) {
        expect(path).toMatch(/^\//);
        const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        for (const [method, op] of Object.entries<any>(item)) {
          expect(['get', 'post', 'put', 'patch', 'delete']).toContain(method);
          const responses = Object.entries<any>(op.responses ?? {});
          expect([path, method, responses.length > 0]).toEqual([path, method, true]);
          for (const [code, response] of responses) {
            expect(code).toMatch(/^[1-5]\d\d$/);
            expect(typeof response.description).toBe('string');
          }
          const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: { name: string }) => p.name);
          expect([path, method, declared.sort()]).toEqual([path, method, [...pathParams].sort()]);
          for (const scheme of (op.security ?? []).flatMap((s: object) => Object.keys(s)))
            expect(doc.components.securitySchemes[scheme]).toBeDefined();
        }
      }
    });

    it('covers every route the app serves', () => {
      const app = createApp({
        db: platform.database.db,
        temporal: platform.client,
        logger: createLogger('silent'),
        config: platform.config,
        taskQueues: platform.queues,
      });
      // Browser pages (Swagger UI, the console and its assets) are not API operations.
      const pages = new Set(['GET /docs', 'GET /', 'GET /console/config.json', 'GET /console/vendor/{file}']);
      const routes = expressRoutes(app).filter((r) => !pages.has(r));
      expect(routes.length).toBeGreaterThan(5);
      const documented = Object.entries<any>(doc.paths).flatMap(([path, item]) =>
        Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
      );
      expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
      expect(documented.filter((r) => !routes.includes(r))).toEqual([]);
    });

    it('serves Swagger UI at /docs from local assets', async () => {
      const redirect = await fetch(`${platform.apiUrl}/docs`, { redirect: 'manual' });
      expect(redirect.status).toBe(301);
      const page = await fetch(`${platform.apiUrl}/docs/`);
      const html = await page.text();
      expect(html).toContain('swagger-ui-bundle.js');
      expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[^"']*\.js/);
      const init = await (await fetch(`${platform.apiUrl}/docs/swagger-ui-init.js`)).text();
      expect(init).toContain('/openapi.json');
      const bundle = await fetch(`${platform.apiUrl}/docs/swagger-ui-bundle.js`);
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    });
  });
});
