import { type ChildProcess } from 'node:child_process';
import { type FfmpegCommand } from 'fluent-ffmpeg';
import { boundUsageMeter } from '../usage-meter';
import { FfmpegFailedError, MediaAbortError } from './errors';

export interface MediaProgress {
  /** 0–100, from ffmpeg's output time against the expected output duration. */
  percent: number;
  processedSeconds: number;
}

/** What every long operation accepts: a progress callback (for heartbeats) and an abort signal. */
export interface OperationOptions {
  signal?: AbortSignal;
  onProgress?: (progress: MediaProgress) => void;
}

export interface RunOptions extends OperationOptions {
  /** Output duration used to turn ffmpeg's `time=` into a percentage. */
  expectedSeconds: number;
  /** How long ffmpeg may take to stop after SIGTERM before it gets SIGKILL. */
  killGraceMs: number;
  /** Receives the process's user + system CPU seconds when it ends (ffmpeg's `-benchmark` line). */
  onCpuSeconds?: (seconds: number) => void;
}

const TIME_PATTERN = /time=\s*(-?\d+):(\d{2}):(\d{2}(?:\.\d+)?)/;
const BENCH_PATTERN = /bench: utime=([\d.]+)s stime=([\d.]+)s/;

/** `bench: utime=1.20s stime=0.05s rtime=…` (ffmpeg -benchmark) → 1.25 CPU seconds. */
export function parseBenchCpuSeconds(line: string): number | undefined {
  const match = BENCH_PATTERN.exec(line);
  return match ? Number(match[1]) + Number(match[2]) : undefined;
}

/** `time=00:01:02.50` in an ffmpeg stats line → 62.5. */
export function parseProgressTime(line: string): number | undefined {
  const match = TIME_PATTERN.exec(line);
  if (!match) return undefined;
  const [, h, m, s] = match;
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** fluent-ffmpeg keeps the running child on the command; its typings do not declare it. */
const childOf = (command: FfmpegCommand) => (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;

/**
 * Runs a prepared fluent-ffmpeg command to completion. Progress is parsed from ffmpeg's stderr
 * (fluent's own 'progress' event would start an extra ffprobe of the input). On abort ffmpeg gets
 * SIGTERM, then SIGKILL after the grace period, and the promise rejects with MediaAbortError only
 * once the process has exited, so no ffmpeg outlives the call.
 */
export function runFfmpeg(command: FfmpegCommand, options: RunOptions): Promise<void> {
  const { signal, onProgress, onCpuSeconds, expectedSeconds, killGraceMs } = options;
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new MediaAbortError(signal.reason));
      return;
    }
    let killTimer: NodeJS.Timeout | undefined;
    // A throwing progress callback (e.g. a failed heartbeat) stops ffmpeg and becomes the result.
    let callbackError: Error | undefined;
    const terminate = () => {
      const child = childOf(command);
      if (!child || killTimer) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
    };
    const onAbort = () => terminate();
    const report = (progress: MediaProgress) => {
      try {
        onProgress?.(progress);
      } catch (err) {
        callbackError ??= err instanceof Error ? err : new Error(String(err));
        terminate();
      }
    };
    const settle = (error?: Error) => {
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new MediaAbortError(signal.reason));
      else if (callbackError) reject(callbackError);
      else if (error) reject(error);
      else resolve();
    };

    signal?.addEventListener('abort', onAbort, { once: true });
    // The child is spawned after fluent's capability checks; an abort during them lands here.
    command.on('start', () => {
      if (signal?.aborted) terminate();
    });
    // The tenant's cost: the activity running this records what its meter collected.
    const meter = boundUsageMeter();
    if (onCpuSeconds || meter) {
      // A global option, valid in any position: ffmpeg prints its own CPU time when it ends.
      command.addOption('-benchmark');
      command.on('stderr', (line: string) => {
        const cpu = parseBenchCpuSeconds(line);
        if (cpu === undefined) return;
        onCpuSeconds?.(cpu);
        meter?.('ffmpeg_cpu_seconds', cpu);
      });
    }
    if (onProgress) {
      command.on('stderr', (line: string) => {
        const processedSeconds = parseProgressTime(line);
        if (processedSeconds === undefined || processedSeconds < 0) return;
        const percent = expectedSeconds > 0 ? Math.min(100, (processedSeconds / expectedSeconds) * 100) : 0;
        report({ percent: Math.round(percent * 10) / 10, processedSeconds });
      });
    }
    command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      const tail = (stderr ?? '').split('\n').slice(-15).join('\n');
      settle(new FfmpegFailedError(`ffmpeg failed: ${err.message.split('\n')[0]}`, tail));
    });
    command.on('end', () => {
      report({ percent: 100, processedSeconds: expectedSeconds });
      settle();
    });
    command.run();
  });
}
