import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { scheduledStartAction } from '../../api/workflow-starts';
import { createLogger } from '../../lib/logger';
import { createApiMetrics, createWorkerMetrics, serveMetrics, type MetricsServer } from '../../lib/metrics';
import { smokeRun } from '../../workflows/smoke/contract';
import { createCaller, type TestCaller } from '../api/fixtures';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * Metrics and log correlation on a real run: the worker's metrics endpoint counts runs and times
 * activities, and every log line an activity writes carries the run and the API request behind it.
 */
describe('observability: metrics and log correlation', () => {
  let platform: TestPlatform;
  let caller: TestCaller;
  let listener: MetricsServer;
  const lines: Array<Record<string, unknown>> = [];
  const workerMetrics = createWorkerMetrics();
  const apiMetrics = createApiMetrics();

  beforeAll(async () => {
    const logger = createLogger('info', 'test', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    platform = await startTestPlatform({
      logger,
      metrics: { worker: workerMetrics, api: apiMetrics },
      // The smoke activity writes one line through the platform's logger, as real activities do; `fail` fails for good.
      activities: (real) => ({
        ...real,
        composeGreeting: async (name: string) => {
          logger.child({ component: 'activities' }).info({ greetingFor: name }, 'composing greeting');
          if (name === 'fail') throw ApplicationFailure.nonRetryable('asked to fail', 'InvalidInput');
          return real.composeGreeting(name);
        },
      }),
    });
    caller = await createCaller(platform.database.db);
    listener = await serveMetrics([workerMetrics.registry, apiMetrics.registry], '127.0.0.1', 0);
  });
  afterAll(async () => {
    await listener?.stop();
    await platform?.stop();
  });

  const startSmoke = async (name: string) => {
    const started = await api(platform.apiUrl, 'POST', '/v1/smoke', { name, delayMs: 0 }, caller.auth);
    expect(started.status).toBe(202);
    return { runId: started.json.runId as string, requestId: started.headers.get('x-request-id')! };
  };

  it('serves runs started/completed/failed by type, activity latency and failures, and API requests', async () => {
    const ok = await startSmoke('metrics');
    await platform.client.workflow.getHandle(ok.runId).result();
    const failed = await startSmoke('fail');
    await expect(platform.client.workflow.getHandle(failed.runId).result()).rejects.toThrow();

    const text = await (await fetch(listener.url)).text();
    expect(text).toContain('runs_started_total{type="smokeWorkflow"} 2');
    expect(text).toContain('runs_completed_total{type="smokeWorkflow"} 1');
    expect(text).toContain('runs_failed_total{type="smokeWorkflow",outcome="failed"} 1');
    const queue = platform.queues.main;
    expect(text).toMatch(
      new RegExp(`activity_duration_seconds_count\\{activity_type="composeGreeting",task_queue="${queue}",outcome="completed"\\} 1`),
    );
    expect(text).toMatch(
      new RegExp(`activity_duration_seconds_count\\{activity_type="composeGreeting",task_queue="${queue}",outcome="failed"\\} 1`),
    );
    expect(text).toContain('activity_failures_total{activity_type="composeGreeting",failure_type="InvalidInput"} 1');
    // The job_runs bookkeeping activities are timed like any other.
    expect(text).toMatch(/activity_duration_seconds_count\{activity_type="recordRunClosed",[^}]*outcome="completed"\} 2/);
    expect(text).toContain('http_requests_total{method="POST",route="/v1/smoke",status="202"} 2');
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
  });

  it('puts workflowId, runId, activityType, requestId and userId on the activity log lines of a run, and keeps the requestId in its memo', async () => {
    const { runId, requestId } = await startSmoke('correlated');
    await platform.client.workflow.getHandle(runId).result();
    const described = await platform.client.workflow.getHandle(runId).describe();
    expect(described.memo).toMatchObject({ requestId, userId: caller.userId });

    const activityLine = lines.find((line) => line.msg === 'composing greeting' && line.greetingFor === 'correlated');
    expect(activityLine).toMatchObject({
      workflowId: runId,
      runId: described.runId,
      workflowType: 'smokeWorkflow',
      activityType: 'composeGreeting',
      requestId,
      userId: caller.userId,
      component: 'activities',
    });
    // One grep of the requestId finds the API's request line and the activity's line.
    const byRequest = lines.filter((line) => line.requestId === requestId).map((line) => line.msg);
    expect(byRequest).toEqual(expect.arrayContaining(['request', 'composing greeting']));
  });

  it('measures the schedule lag of a run a Schedule started', async () => {
    const handle = await platform.client.schedule.create({
      scheduleId: `${platform.queues.prefix}smoke-schedule`,
      spec: { intervals: [{ every: '1 day' }] },
      action: scheduledStartAction(smokeRun, platform.queues, {
        workflowId: `smoke:${randomUUID()}`,
        args: [{ name: 'scheduled', delayMs: 0, userId: caller.userId }],
      }),
    });
    try {
      await handle.trigger();
      const text = await eventually(
        async () => (await fetch(listener.url)).text(),
        (body) => /schedule_lag_seconds_count\{type="smokeWorkflow"\} 1/.test(body),
        'the schedule lag of the triggered run',
      );
      const lag = Number(/schedule_lag_seconds_sum\{type="smokeWorkflow"\} ([\d.e-]+)/.exec(text)?.[1]);
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(10);
    } finally {
      await handle.delete();
    }
  });
});
