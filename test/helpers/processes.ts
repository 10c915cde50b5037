import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '../..');
const TSX = resolve(PROJECT_ROOT, 'node_modules/.bin/tsx');

export interface SpawnedProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  /** Resolves when `pattern` appears in stdout/stderr; rejects on exit or timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Runs a TypeScript entry point of ours (e.g. platform/worker-main.ts) as a real OS process. */
export function spawnTs(entry: string, env: Record<string, string | undefined>, args: string[] = []): SpawnedProcess {
  const child = spawn(TSX, [resolve(PROJECT_ROOT, entry), ...args], {
    cwd: PROJECT_ROOT,
    // A private DATA_DIR unless the test gives one: spawned pieces never write into the checkout. No
    // metrics listeners unless the test asks: their default ports would clash between parallel tests.
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'platform-proc-')),
      METRICS_PORT: '',
      TEMPORAL_METRICS_PORT: '',
      TEMPORAL_SERVER_METRICS_PORT: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a test can kill the whole tree
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? signal ?? -1)));
  return {
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolveWait, reject) => {
        const deadline = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`));
        }, timeoutMs);
        const poll = setInterval(() => {
          const match = output.match(pattern);
          if (match) {
            clearInterval(poll);
            clearTimeout(deadline);
            resolveWait(match[0]);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearInterval(poll);
            clearTimeout(deadline);
            reject(new Error(`process exited before ${pattern}; output:\n${output}`));
          }
        }, 50);
      });
    },
  };
}

/** SIGKILLs the process group (kill -9 of the worker and anything it spawned). */
export function killGroup(proc: SpawnedProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (proc.child.pid && proc.child.exitCode === null) {
    try {
      process.kill(-proc.child.pid, signal);
    } catch {
      /* already gone */
    }
  }
}
