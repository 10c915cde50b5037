// Before `npm test`: the system packages the suite needs beyond npm — Debian's chromium (web
// console end-to-end test) and docker-compose (validates docker-compose.yml without an engine).
// Installs them with apt-get when missing and we are root; otherwise says what to install.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needs = [
  { pkg: 'chromium', present: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') },
  { pkg: 'docker-compose', present: () => onPath('docker-compose') },
];

function onPath(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = needs.filter((n) => !n.present()).map((n) => n.pkg);
if (missing.length === 0) process.exit(0);
if (process.getuid?.() !== 0 || !onPath('apt-get')) {
  console.error(`ensure-test-deps: missing ${missing.join(', ')}; install them (Debian: apt-get install ${missing.join(' ')})`);
  process.exit(1);
}
console.log(`ensure-test-deps: installing ${missing.join(', ')} with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
