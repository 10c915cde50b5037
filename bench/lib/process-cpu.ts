import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** One process's CPU time from /proc/<pid>/stat, in clock ticks. */
interface ProcessTicks {
  ppid: number;
  /** utime + stime: the process itself (all its threads). */
  own: number;
  /** cutime + cstime: children it reaped (ended backends of the postmaster, for one). */
  reaped: number;
}

/** Every process's CPU ticks and the machine's, at one instant (Linux /proc). */
export interface CpuSample {
  processes: Map<number, ProcessTicks>;
  /** Machine-wide busy and total (busy + idle + iowait) ticks over all cores, from /proc/stat. */
  machineBusy: number;
  machineTotal: number;
}

let ticksPerSecond: number | undefined;
/** USER_HZ (`getconf CLK_TCK`; 100 on Linux unless a kernel says otherwise). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function readProcess(pid: number): ProcessTicks | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // ended between the listing and the read
  }
  // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const [ppid = 0, utime = 0, stime = 0, cutime = 0, cstime = 0] = [fields[1], fields[11], fields[12], fields[13], fields[14]];
  return { ppid, own: utime + stime, reaped: cutime + cstime };
}

export function sampleCpu(): CpuSample {
  const processes = new Map<number, ProcessTicks>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ticks = readProcess(Number(entry));
    if (ticks) processes.set(Number(entry), ticks);
  }
  const [, ...values] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values.map(Number);
  const machineBusy = user + nice + system + irq + softirq + steal;
  return { processes, machineBusy, machineTotal: machineBusy + idle + iowait };
}

/** Ticks of `pid`: its own, or (tree) its own plus every live descendant's and whatever they all reaped. */
function ticksOf(sample: CpuSample, pid: number, tree: boolean): number {
  const root = sample.processes.get(pid);
  if (!root) return 0;
  if (!tree) return root.own;
  const children = new Map<number, number[]>();
  for (const [child, { ppid }] of sample.processes) children.set(ppid, [...(children.get(ppid) ?? []), child]);
  let total = 0;
  const pending = [pid];
  while (pending.length) {
    const next = pending.pop() as number;
    const ticks = sample.processes.get(next);
    if (!ticks) continue;
    total += ticks.own + ticks.reaped;
    pending.push(...(children.get(next) ?? []));
  }
  return total;
}

/**
 * CPU-seconds `pid` used between two samples. With `tree`, those of its descendants too: a child
 * that ended in between is counted through its parent's reaped time (cutime/cstime), so a
 * postmaster's short-lived backends are not lost.
 */
export function cpuSecondsBetween(before: CpuSample, after: CpuSample, pid: number, tree = true): number {
  return Math.max(0, ticksOf(after, pid, tree) - ticksOf(before, pid, tree)) / clockTicksPerSecond();
}

/** The whole machine between two samples: CPU-seconds busy (every process) and available (cores × wall). */
export function machineCpuSecondsBetween(before: CpuSample, after: CpuSample): { busy: number; capacity: number } {
  const hz = clockTicksPerSecond();
  return { busy: (after.machineBusy - before.machineBusy) / hz, capacity: (after.machineTotal - before.machineTotal) / hz };
}
