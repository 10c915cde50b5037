import { ApplicationFailure, CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { ActivityInterceptorsFactory, InjectedSinks, WorkerInterceptors, WorkerOptions } from '@temporalio/worker';
import { withLogContext, type LogContext } from '../lib/log-context';
import type { WorkerMetrics } from '../lib/metrics';
import { LOG_CONTEXT_HEADER, type RunLogContext, type RunMetricsSinks } from '../workflows/common/run-context';

/** The workflow interceptor modules: Worker.create bundles them; a prebuilt bundle must include them too. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/common/interceptors')];

/**
 * When the Schedule that started this run meant it to start (its TemporalScheduledStartTime search
 * attribute). Sinks receive a copy of the workflow info, whose typed attributes lost their methods.
 */
function scheduledStartOf(info: WorkflowInfo): Date | undefined {
  const value = (info.searchAttributes as Record<string, unknown[] | undefined> | undefined)?.TemporalScheduledStartTime?.[0];
  // A Date of the workflow's realm (not `instanceof` ours) or its ISO string.
  const at = (typeof value === 'object' && value !== null) || typeof value === 'string' ? new Date(value as Date | string) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : undefined;
}

function headerContext(payload: Parameters<typeof defaultPayloadConverter.fromPayload>[0] | undefined): RunLogContext {
  if (!payload) return {};
  const value = defaultPayloadConverter.fromPayload<RunLogContext | null>(payload);
  return {
    ...(typeof value?.requestId === 'string' ? { requestId: value.requestId } : {}),
    ...(typeof value?.userId === 'string' ? { userId: value.userId } : {}),
  };
}

const failureTypeOf = (err: unknown): string =>
  err instanceof ApplicationFailure ? (err.type ?? 'ApplicationFailure') : err instanceof Error ? err.name : 'Error';

/**
 * Every activity runs with its run's log context (workflowId, runId, workflowType, activityType,
 * and the requestId/userId from the workflow's `log-context` header) on every pino line it writes,
 * provider calls included; its duration and outcome go to the metrics.
 */
function activityInterceptor(metrics: WorkerMetrics | undefined): ActivityInterceptorsFactory {
  return (ctx) => {
    const { info } = ctx;
    let fromRun: RunLogContext = {};
    return {
      inbound: {
        async execute(input, next) {
          fromRun = headerContext(input.headers[LOG_CONTEXT_HEADER]);
          const context: LogContext = {
            workflowId: info.workflowExecution?.workflowId,
            runId: info.workflowExecution?.runId,
            workflowType: info.workflowType,
            activityType: info.activityType,
            ...fromRun,
          };
          const started = process.hrtime.bigint();
          const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
          try {
            const result = await withLogContext(context, () => next(input));
            metrics?.activity(info.activityType, info.taskQueue, 'completed', seconds());
            return result;
          } catch (err) {
            const outcome = err instanceof CancelledFailure ? 'cancelled' : 'failed';
            metrics?.activity(info.activityType, info.taskQueue, outcome, seconds(), failureTypeOf(err));
            throw err;
          }
        },
      },
      // The activity Context logger (Context.current().log) too.
      outbound: { getLogAttributes: (attributes, next) => next({ ...fromRun, ...attributes }) },
    };
  };
}

/** Run counts and schedule lag from the workflow interceptor's sink, called outside replay only. */
function runMetricsSinks(metrics: WorkerMetrics | undefined): InjectedSinks<RunMetricsSinks> {
  return {
    runMetrics: {
      started: {
        fn(info) {
          metrics?.runStarted(info.workflowType);
          const scheduledAt = scheduledStartOf(info);
          if (scheduledAt) metrics?.scheduleLag(info.workflowType, (info.runStartTime.getTime() - scheduledAt.getTime()) / 1000);
        },
        callDuringReplay: false,
      },
      closed: { fn: (info, outcome) => metrics?.runClosed(info.workflowType, outcome), callDuringReplay: false },
    },
  };
}

/**
 * `base` (the tracing options) with our interceptors added: the log context and metrics of every
 * activity and, with `workflows`, the workflow interceptor module (when the worker bundles at start)
 * and the run-metrics sink.
 */
export function withObservability(
  base: Partial<WorkerOptions>,
  metrics: WorkerMetrics | undefined,
  { workflows, prebuiltBundle }: { workflows: boolean; prebuiltBundle: boolean },
): Partial<WorkerOptions> {
  const interceptors: WorkerInterceptors = {
    ...base.interceptors,
    activity: [activityInterceptor(metrics), ...(base.interceptors?.activity ?? [])],
  };
  if (!workflows) return { ...base, interceptors };
  if (!prebuiltBundle) interceptors.workflowModules = [...WORKFLOW_INTERCEPTOR_MODULES, ...(base.interceptors?.workflowModules ?? [])];
  return { ...base, interceptors, sinks: { ...base.sinks, ...runMetricsSinks(metrics) } };
}
