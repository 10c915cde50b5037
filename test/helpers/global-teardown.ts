import { rmSync } from 'node:fs';
import { recordReplayHistories } from './record-histories';
import { STACK_ENV } from './stack-env';

interface Stack {
  postgres: { stop(): Promise<void> };
  temporal: { stop(): Promise<void> };
  root: string;
}

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as Record<string, unknown>).__PLATFORM_TEST_STACK__ as Stack | undefined;
  if (!stack) return;
  if (process.env.RECORD_REPLAY_HISTORIES === '1') {
    const saved = await recordReplayHistories(process.env[STACK_ENV.temporalAddress]!);
    process.stdout.write(`recorded replay histories: ${saved.sort().join(', ')}\n`);
  }
  await Promise.allSettled([stack.temporal.stop(), stack.postgres.stop()]);
  rmSync(stack.root, { recursive: true, force: true });
}
