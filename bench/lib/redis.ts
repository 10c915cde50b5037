import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../lib/runtime/ports';

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure Debian's redis-server is installed, with apt-get as root like
 * scripts/ensure-test-deps.mjs does for chromium. Returns why not when it cannot be.
 */
export function ensureRedisServer(log: (message: string) => void): { ok: true } | { ok: false; reason: string } {
  if (onPath('redis-server')) return { ok: true };
  if (process.getuid?.() !== 0 || !onPath('apt-get'))
    return { ok: false, reason: 'redis-server is not installed and apt-get is not available as root' };
  log('installing redis-server with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], { stdio: 'ignore', env });
  } catch (err) {
    return { ok: false, reason: `apt-get install redis-server failed: ${(err as Error).message.split('\n')[0]}` };
  }
  return onPath('redis-server') ? { ok: true } : { ok: false, reason: 'redis-server still missing after apt-get install' };
}

export interface RunningRedis {
  host: string;
  port: number;
  version: string;
  stop(): Promise<void>;
}

/** A private redis-server with AOF on (fsync every second), data in `dir`, on a free port of 127.0.0.1. */
export async function startRedis(dir: string): Promise<RunningRedis> {
  const port = await freePort();
  const version = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? 'unknown';
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${output.slice(-500)}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`));
    });
  });
  return {
    host: '127.0.0.1',
    port,
    version,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
