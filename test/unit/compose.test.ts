import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as { services: Record<string, { ports?: unknown[] }> };

const CHECK_ENV = {
  ENCRYPTION_KEY: 'Y2hlY2stb25seS1rZXktZm9yLWNvbXBvc2UtY29uZmln',
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
