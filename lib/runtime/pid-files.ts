import { existsSync, linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config';
import { waitFor } from './ports';

const HAS_PROC = existsSync('/proc/self/cmdline');

/**
 * What identifies a running process: its command line where /proc exists (so a pid the OS
 * has reused for another program does not pass for ours), elsewhere only that it is alive.
 * Undefined when no such process runs.
 */
function processIdentity(pid: number): string | undefined {
  if (HAS_PROC) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return undefined;
    }
  }
  try {
    process.kill(pid, 0);
    return '';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? '' : undefined;
  }
}

interface PidRecord {
  pid: number;
  identity: string;
}

/** Records `pid` with its identity, so a later start can tell whether that very process still runs. */
export function writePidFile(path: string, pid: number): void {
  const record: PidRecord = { pid, identity: processIdentity(pid) ?? '' };
  writeFileSync(path, JSON.stringify(record));
}

/** Removes the pid file if it still names `pid` (a newer owner's file stays). */
export function removePidFile(path: string, pid: number): void {
  if (recordedPid(path)?.pid === pid) unlinkSync(path);
}

function recordedPid(path: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PidRecord;
  } catch {
    return undefined; // absent, or torn by a crash while being written: nobody owns it
  }
}

/** The pid recorded in `path` when that process is still running, else undefined. */
function livePidFromFile(path: string): number | undefined {
  const record = recordedPid(path);
  return record && processIdentity(record.pid) === record.identity ? record.pid : undefined;
}

/** Signals `pid`, waits for it to go, and SIGKILLs it after `graceMs`. */
async function stopProcess(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const gone = (timeoutMs: number) => waitFor(async () => processIdentity(pid) === undefined, timeoutMs);
  try {
    process.kill(pid, signal);
    if (!(await gone(graceMs))) process.kill(pid, 'SIGKILL');
  } catch {
    return; // exited meanwhile
  }
  await gone(5000);
}

/** Stops the process a crashed start left behind under `pidFile` (a Temporal dev server), if any. */
export async function stopStaleProcess(pidFile: string): Promise<void> {
  const pid = livePidFromFile(pidFile);
  if (pid !== undefined) await stopProcess(pid, 'SIGTERM', 10_000);
}

/** The postmaster's pid from `postmaster.pid` of a data directory, while that postmaster runs. */
export function livePostmasterPid(pgDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  const identity = Number.isInteger(pid) && pid > 0 ? processIdentity(pid) : undefined;
  // Its command line names the data directory (-D); anything else merely reuses the pid.
  return identity !== undefined && (!HAS_PROC || identity.includes(pgDir)) ? pid : undefined;
}

/**
 * Stops a PostgreSQL a crashed start left running on this data directory: a fast shutdown
 * (clients are cut, committed data is kept), SIGKILL only if it does not stop in time.
 */
export async function stopStalePostgres(pgDir: string): Promise<void> {
  const pid = livePostmasterPid(pgDir);
  if (pid !== undefined) await stopProcess(pid, 'SIGINT', 15_000);
}

/**
 * Makes this process the one `npm start` of `dataDir`: a live one already there is refused
 * with one line; the file of a crashed one is taken over. Returns the release.
 */
export function claimDataDir(dataDir: string): () => void {
  const pidFile = join(dataDir, 'start.pid');
  const draft = `${pidFile}.${process.pid}`;
  writePidFile(draft, process.pid);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        // link() creates the file complete or not at all, so two starts at once cannot both win.
        linkSync(draft, pidFile);
        return () => removePidFile(pidFile, process.pid);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = livePidFromFile(pidFile);
      if (owner !== undefined || attempt > 0) {
        throw new ConfigError(
          `DATA_DIR ${dataDir} is in use by another npm start (pid ${owner ?? 'unknown'}); stop it or set another DATA_DIR`,
        );
      }
      rmSync(pidFile, { force: true }); // left by a start that crashed
    }
  } finally {
    unlinkSync(draft);
  }
}
