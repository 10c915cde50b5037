import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';

export interface Watchdog {
  /** From now on, `pid` receives `signal` if this process dies without disarming the watchdog. */
  guard(pid: number, signal: NodeJS.Signals): void;
  /** Called before a clean shutdown stops the guarded processes itself. */
  disarm(): void;
}

// Reads "pid SIGNAL" lines until end of file, which comes when the kernel closes our end of the
// pipe: a normal exit or a kill -9 alike. Ctrl-C reaches the whole process group; the clean
// shutdown disarms the watchdog itself, so it ignores SIGINT.
const SCRIPT = `trap '' INT
guarded=''
while read -r pid signal; do guarded="$guarded $signal:$pid"; done
for entry in $guarded; do kill -s "\${entry%%:*}" "\${entry#*:}" 2>/dev/null; done`;

/**
 * Node cannot ask Linux to kill a child with its parent (no PR_SET_PDEATHSIG), so a tiny shell
 * holds a pipe to this process and signals the guarded children when the pipe closes.
 * `label` is added to its command line, so `ps` shows what it guards.
 */
export function startWatchdog(label: string): Watchdog {
  const child = spawn('sh', ['-c', SCRIPT, 'platform-watchdog', label], { stdio: ['pipe', 'ignore', 'ignore'] });
  const pipe = child.stdin as Socket;
  // A watchdog that failed to spawn only loses the kill -9 clean-up; the next start still stops stale processes.
  child.once('error', () => undefined);
  pipe.on('error', () => undefined);
  child.unref();
  pipe.unref();
  return {
    guard: (pid, signal) => {
      pipe.write(`${pid} ${signal.replace(/^SIG/, '')}\n`);
    },
    disarm: () => {
      child.kill('SIGKILL');
      pipe.destroy();
    },
  };
}

/**
 * Calls `onOrphaned` once this process's parent has died (it is re-parented). `tsx` runs our
 * entry point in a child process; a kill -9 of that launcher would otherwise leave us running.
 */
export function whenParentDies(onOrphaned: () => void, intervalMs = 500): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
}
