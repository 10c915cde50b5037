import type { Server } from 'node:http';
import { createApp } from '../../api/app';
import type { Config } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { createCaller } from './fixtures';

/** Issue O items 3 and 9: GET /r/:code never redirects off-site; cookies and request ids trust only TRUST_PROXY hops. */
describe('tracking-link redirects, cookies and request ids', () => {
  let platform: TestPlatform;
  const servers: Server[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform();
    const caller = await createCaller(platform.database.db);
    expect((await api(platform.apiUrl, 'POST', '/v1/affiliates', { referralCode: 'proxy-test' }, caller.auth)).status).toBe(201);
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    await platform?.stop();
  });

  /** The platform's API again, with some settings changed. */
  async function serve(overrides: Partial<Config>): Promise<string> {
    const app = createApp({
      db: platform.database.db,
      temporal: platform.client,
      logger: createLogger('silent'),
      config: { ...platform.config, ...overrides },
      taskQueues: platform.queues,
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    servers.push(server);
    const address = server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  const follow = (baseUrl: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}${path}`, { redirect: 'manual', headers });

  it.each([
    ['a path on this host', '/welcome'],
    ['an absolute landing URL', 'https://glow.example/welcome'],
  ])('falls back to the landing page for every `to` that would leave its origin (%s)', async (_what, landing) => {
    const baseUrl = await serve({ AFFILIATE_LANDING_URL: landing });
    const landingUrl = new URL(landing, baseUrl);
    const offSite = [
      '/%09/evil.example',
      '/.%2F/evil.example',
      '/%0A/evil.example',
      '/%5Cevil.example',
      '/%5C%5Cevil.example',
      '//evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
    ];
    for (const to of offSite) {
      const res = await follow(baseUrl, `/r/nobody-here?to=${to}`);
      const location = res.headers.get('location') ?? '';
      expect([to, res.status, location, new URL(location, baseUrl).href]).toEqual([to, 302, landing, landingUrl.href]);
    }
    // A plain path on the landing site is still honoured, by known and unknown codes alike.
    for (const code of ['nobody-here', 'proxy-test']) {
      const kept = new URL((await follow(baseUrl, `/r/${code}?to=/pricing`)).headers.get('location') ?? '', baseUrl);
      expect(`${kept.origin}${kept.pathname}`).toBe(`${landingUrl.origin}/pricing`);
    }
  });

  it("sets Secure cookies when the click came over https (as a trusted proxy says), never on a client's word alone", async () => {
    const cookiesOf = async (baseUrl: string) =>
      (await follow(baseUrl, '/r/proxy-test', { 'x-forwarded-proto': 'https' })).headers.getSetCookie();
    const direct = await cookiesOf(await serve({}));
    expect(direct).toHaveLength(2);
    expect(direct.every((c) => !/;\s*Secure/i.test(c))).toBe(true);

    const behindProxy = await cookiesOf(await serve({ TRUST_PROXY: 'loopback' }));
    expect(behindProxy.map((c) => c.split('=')[0])).toEqual(['aff_ref', 'aff_click']);
    expect(behindProxy.every((c) => /;\s*Secure/i.test(c))).toBe(true);
  });

  it("keeps a client's X-Request-Id only from a trusted proxy, and makes one otherwise", async () => {
    const idFrom = async (baseUrl: string) =>
      (await fetch(`${baseUrl}/healthz`, { headers: { 'x-request-id': 'chosen-by-client' } })).headers.get('x-request-id');
    const direct = await idFrom(await serve({}));
    expect(direct).not.toBe('chosen-by-client');
    expect(direct).toMatch(/^[0-9a-f-]{36}$/);
    expect(await idFrom(await serve({ TRUST_PROXY: 'loopback' }))).toBe('chosen-by-client');
    expect(await idFrom(await serve({ TRUST_PROXY: '10.0.0.0/8' }))).not.toBe('chosen-by-client');
  });
});
