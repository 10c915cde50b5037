import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startGoogleSandbox } from '../../sandbox/google';
import type { SandboxServer } from '../../sandbox/http';
import type { videoImportWorkflow } from '../../workflows/video-import/workflow';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { startPrivateStack, type PrivateStack } from '../helpers/private-stack';
import { expectImportedOnce, startVideoImport, untilGenerating } from './video-import-scenario';

/**
 * R2/R3: the servers under a running import go down and come back. The stack is this file's own,
 * so restarting it disturbs no other test; the same in-process worker serves the run throughout.
 */
describe('chaos: Temporal and PostgreSQL restarted under a running import', () => {
  let stack: PrivateStack;
  let platform: TestPlatform;
  let google: SandboxServer;
  let anthropic: SandboxServer;

  beforeAll(async () => {
    // Slow model answers keep generations in flight while a server is down.
    [stack, google, anthropic] = await Promise.all([
      startPrivateStack(),
      startGoogleSandbox({ port: 0 }),
      startAnthropicSandbox({ port: 0, latencyMs: 1500 }),
    ]);
    platform = await startTestPlatform({
      stack,
      env: { ANTHROPIC_MAX_CONCURRENCY: '2' },
      sandboxUrls: { google: google.url, anthropic: anthropic.url },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([stack?.stop(), google?.stop(), anthropic?.stop()]);
  });

  it('R2: the Temporal server killed with SIGKILL and restarted mid-run: the run resumes and completes once', async () => {
    const started = await startVideoImport(platform);
    await untilGenerating(platform, started);
    await stack.killAndRestartTemporal(2000);

    const handle = platform.client.workflow.getHandle<typeof videoImportWorkflow>(started.runId);
    await expectImportedOnce(platform, started, await handle.result());
    // The restarted server still has the history from before the kill: one run, started once.
    const history = await handle.fetchHistory();
    expect(history.events?.filter((e) => e.workflowExecutionStartedEventAttributes)).toHaveLength(1);
  });

  it('R3: PostgreSQL restarted mid-run: the failed activities retry, nothing is lost or written twice', async () => {
    const started = await startVideoImport(platform);
    await untilGenerating(platform, started);
    await stack.restartPostgres(2000);

    const handle = platform.client.workflow.getHandle<typeof videoImportWorkflow>(started.runId);
    await expectImportedOnce(platform, started, await handle.result());
    // Some activity met the database down and succeeded on a later attempt.
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
  });
});
