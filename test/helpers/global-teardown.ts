import { rmSync } from 'node:fs';

interface Stack {
  postgres: { stop(): Promise<void> };
  temporal: { stop(): Promise<void> };
  root: string;
}

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as Record<string, unknown>).__PLATFORM_TEST_STACK__ as Stack | undefined;
  if (!stack) return;
  await Promise.allSettled([stack.temporal.stop(), stack.postgres.stop()]);
  rmSync(stack.root, { recursive: true, force: true });
}
