import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, sandboxUrlFor, trustProxySetting } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { loadStripeWebhookSecret, SANDBOX_WEBHOOK_SECRET_FILE } from '../../lib/secrets';
import { createProviders } from '../../providers';
import type { Db } from '../../db/database';

/** The constant lib/sandbox-credentials.ts used to hold: anyone reading the source could sign with it. */
const OLD_SOURCE_CONSTANT = 'whsec_sandbox_local_development';

describe('Stripe webhook secret, sandbox providers in production, proxy trust (issue O 1, 9)', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-secret-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const config = (env: Record<string, string>, dir = dataDir()) => loadConfig({ DATA_DIR: dir, ...env });

  it('sandbox mode: a random secret generated once per DATA_DIR (0600), never a constant from the source', () => {
    const dir = dataDir();
    const first = loadStripeWebhookSecret(config({}, dir));
    expect(first).toMatch(/^whsec_[\w-]{43}$/);
    expect(first).not.toBe(OLD_SOURCE_CONSTANT);
    expect(loadStripeWebhookSecret(config({}, dir))).toBe(first);
    expect(readFileSync(join(dir, SANDBOX_WEBHOOK_SECRET_FILE), 'utf8').trim()).toBe(first);
    expect(statSync(join(dir, SANDBOX_WEBHOOK_SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(loadStripeWebhookSecret(config({}))).not.toBe(first);
  });

  it('a configured STRIPE_WEBHOOK_SECRET wins; a real STRIPE_SECRET_KEY without one is a ConfigError naming it', () => {
    expect(loadStripeWebhookSecret(config({ STRIPE_WEBHOOK_SECRET: 'whsec_configured' }))).toBe('whsec_configured');
    expect(loadStripeWebhookSecret(config({ STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_live' }))).toBe('whsec_live');
    const dir = dataDir();
    expect(() => loadStripeWebhookSecret(config({ STRIPE_SECRET_KEY: 'sk_live_x' }, dir))).toThrow(ConfigError);
    expect(() => loadStripeWebhookSecret(config({ STRIPE_SECRET_KEY: 'sk_live_x' }, dir))).toThrow(/^STRIPE_WEBHOOK_SECRET is required/);
    expect(() => statSync(join(dir, SANDBOX_WEBHOOK_SECRET_FILE))).toThrow(/ENOENT/);
  });

  it('NODE_ENV=production refuses the sandbox webhook secret and sandbox providers unless ALLOW_SANDBOX_PROVIDERS=true', () => {
    const production = config({ NODE_ENV: 'production' });
    expect(() => loadStripeWebhookSecret(production)).toThrow(/STRIPE_SECRET_KEY .*required in production.*ALLOW_SANDBOX_PROVIDERS=true/);
    expect(() => sandboxUrlFor(production, { google: 'http://127.0.0.1:4001' }, 'google', 'GOOGLE_API_KEY')).toThrow(
      /^GOOGLE_API_KEY is required in production/,
    );
    const providers = createProviders({
      config: production,
      logger: createLogger('silent'),
      db: {} as Db,
      sandboxUrls: { stripe: 'http://127.0.0.1:4002' },
    });
    expect(() => providers.stripe).toThrow(/^STRIPE_SECRET_KEY is required in production/);

    const demo = config({ NODE_ENV: 'production', ALLOW_SANDBOX_PROVIDERS: 'true' });
    expect(loadStripeWebhookSecret(demo)).toMatch(/^whsec_/);
    expect(sandboxUrlFor(demo, { google: 'http://127.0.0.1:4001' }, 'google', 'GOOGLE_API_KEY')).toBe('http://127.0.0.1:4001');
    expect(sandboxUrlFor(config({}), { google: 'http://127.0.0.1:4001' }, 'google', 'GOOGLE_API_KEY')).toBe('http://127.0.0.1:4001');
    expect(config({ ALLOW_SANDBOX_PROVIDERS: '' }).ALLOW_SANDBOX_PROVIDERS).toBe(false);
    expect(() => config({ ALLOW_SANDBOX_PROVIDERS: 'yes' })).toThrow(/ALLOW_SANDBOX_PROVIDERS/);
  });

  it('TRUST_PROXY: off by default; hop counts and addresses pass through; trusting every hop is refused', () => {
    expect(trustProxySetting(config({}))).toBe(false);
    expect(trustProxySetting(config({ TRUST_PROXY: '1' }))).toBe(1);
    expect(trustProxySetting(config({ TRUST_PROXY: 'loopback, 10.0.0.0/8,::1' }))).toEqual(['loopback', '10.0.0.0/8', '::1']);
    expect(() => trustProxySetting(config({ TRUST_PROXY: 'true' }))).toThrow(/TRUST_PROXY/);
    expect(() => trustProxySetting(config({ TRUST_PROXY: 'proxy.internal' }))).toThrow(ConfigError);
  });
});
