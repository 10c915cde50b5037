import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as {
  services: Record<string, { ports?: unknown[]; volumes?: string[]; environment?: Record<string, string> }>;
  'x-app-env': Record<string, string>;
};

const CHECK_ENV = {
  ENCRYPTION_KEY: 'Y2hlY2stb25seS1rZXktZm9yLWNvbXBvc2UtY29uZmln',
  PAYLOAD_ENCRYPTION_KEYS: 'p1:Y2hlY2stb25seS1rZXktZm9yLWNvbXBvc2UtY29uZmln',
  POSTGRES_PASSWORD: 'check-only-platform-password',
  TEMPORAL_DB_PASSWORD: 'check-only-temporal-password',
  STRIPE_SECRET_KEY: 'sk_test_check_only',
  STRIPE_WEBHOOK_SECRET: 'whsec_check_only',
};

/** `docker-compose config -q` with the given variables only (PATH kept): its exit and stderr. */
function composeConfig(env: Record<string, string>): { ok: boolean; stderr: string } {
  try {
    execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: 'pipe',
    });
    return { ok: true, stderr: '' };
  } catch (err) {
    return { ok: false, stderr: String((err as { stderr?: Buffer }).stderr ?? '') };
  }
}

describe('docker-compose.yml (production-like topology)', () => {
  it('publishes neither Temporal gRPC nor the Temporal UI to the host', () => {
    expect(compose.services.temporal).toBeDefined();
    expect(compose.services['temporal-ui']).toBeDefined();
    expect(compose.services.temporal?.ports).toBeUndefined();
    expect(compose.services['temporal-ui']?.ports).toBeUndefined();
  });

  it('runs Prometheus on deploy/prometheus/prometheus.yml, unpublished, scraping the api, workers and Temporal', () => {
    const prometheus = compose.services.prometheus;
    expect(prometheus?.ports).toBeUndefined();
    expect(prometheus?.volumes).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    const scrape = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{
        job_name: string;
        static_configs?: Array<{ targets: string[] }>;
        dns_sd_configs?: Array<{ names: string[]; port: number }>;
      }>;
    };
    const targets = Object.fromEntries(
      scrape.scrape_configs.map((job) => [
        job.job_name,
        [
          ...(job.static_configs ?? []).flatMap((c) => c.targets),
          ...(job.dns_sd_configs ?? []).flatMap((c) => c.names.map((n) => `${n}:${c.port}`)),
        ],
      ]),
    );
    expect(targets).toEqual({
      api: ['api:9464'],
      worker: ['worker:9464'],
      'worker-temporal-sdk': ['worker:9465'],
      'temporal-server': ['temporal:8000'],
    });
    // The apps listen for metrics on the compose network (npm run api/worker default METRICS_PORT 9464, TEMPORAL_METRICS_PORT 9465).
    expect(compose['x-app-env'].METRICS_HOST).toBe('0.0.0.0');
    expect(compose.services.temporal?.environment?.PROMETHEUS_ENDPOINT).toBe('0.0.0.0:8000');
    // docker-compose.ops.yml publishes it on loopback only, like the other operator ports.
    const ops = parse(readFileSync(join(ROOT, 'docker-compose.ops.yml'), 'utf8')) as { services: Record<string, { ports?: string[] }> };
    expect(ops.services.prometheus?.ports).toEqual(['127.0.0.1:9090:9090']);
  });

  it('has no default database passwords: each is a required variable', () => {
    expect(composeText).not.toMatch(/PASSWORD:-/);
    expect(composeText).not.toMatch(/:\/\/\w+:(platform|temporal)@/);
    expect(composeText).toMatch(/\$\{POSTGRES_PASSWORD:\?/);
    expect(composeText).toMatch(/\$\{TEMPORAL_DB_PASSWORD:\?/);
  });

  it('refuses to render without a database password, naming the variable', () => {
    expect(composeConfig(CHECK_ENV).ok).toBe(true);
    for (const name of ['POSTGRES_PASSWORD', 'TEMPORAL_DB_PASSWORD'] as const) {
      const { [name]: _left, ...rest } = CHECK_ENV;
      const result = composeConfig(rest);
      expect(result.ok).toBe(false);
      expect(result.stderr).toContain(name);
    }
  });
});
