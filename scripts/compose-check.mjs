// Validates docker-compose.yml with `docker-compose config -q` (Debian's docker-compose checks a
// compose file without a Docker engine). .ci/run installs it; elsewhere a missing binary is reported.
import { execFileSync } from 'node:child_process';

// Stand-ins for the variables docker-compose.yml requires, so the check needs no secrets.
const env = {
  ...process.env,
  ENCRYPTION_KEY: process.env.ENCRYPTION_KEY ?? 'Y2hlY2stb25seS1rZXktZm9yLWNvbXBvc2UtY29uZmln',
  PAYLOAD_ENCRYPTION_KEYS: process.env.PAYLOAD_ENCRYPTION_KEYS ?? 'p1:Y2hlY2stb25seS1rZXktZm9yLWNvbXBvc2UtY29uZmln',
  POSTGRES_PASSWORD: process.env.POSTGRES_PASSWORD ?? 'check-only-platform-password',
  TEMPORAL_DB_PASSWORD: process.env.TEMPORAL_DB_PASSWORD ?? 'check-only-temporal-password',
  STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY ?? 'sk_test_check_only',
  STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET ?? 'whsec_check_only',
};
try {
  execFileSync('docker-compose', ['--version'], { stdio: 'ignore' });
} catch {
  if (process.env.CI) {
    console.error('compose-check: docker-compose is not installed (apt-get install docker-compose)');
    process.exit(1);
  }
  console.warn('compose-check: skipped, docker-compose not installed (apt-get install docker-compose); CI runs it');
  process.exit(0);
}
for (const files of [['docker-compose.yml'], ['docker-compose.yml', 'docker-compose.ops.yml']]) {
  try {
    execFileSync('docker-compose', [...files.flatMap((f) => ['-f', f]), 'config', '-q'], { stdio: 'inherit', env });
  } catch {
    console.error(`compose-check: ${files.join(' + ')} is invalid (see above)`);
    process.exit(1);
  }
}
console.log('compose-check: docker-compose.yml (alone and with docker-compose.ops.yml) is valid');
