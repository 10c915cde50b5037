import {
  defaultPayloadConverter,
  isCancellation,
  proxySinks,
  TemporalFailure,
  workflowInfo,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import type { Headers } from '@temporalio/common';
import { LOG_CONTEXT_HEADER, type RunLogContext, type RunMetricsSinks } from './run-context';

/**
 * The workflow interceptors every worker registers (worker/create-worker.ts lists this module;
 * bundles built ahead of time include it). They change no command, so histories replay as before.
 *
 * Log context: the run's memo keeps the API request that started it and its owner
 * (api/workflow-starts.ts). Workflow `log` lines carry them beside the SDK's workflowId/runId;
 * activities receive them in the `log-context` header (worker/interceptors.ts puts them on
 * every pino line of the activity); child workflows and the next run of a continue-as-new
 * inherit them in their memo.
 *
 * Run metrics: started/closed by workflow type through a sink, which the worker calls outside
 * replay only (worker/interceptors.ts).
 */

const { runMetrics } = proxySinks<RunMetricsSinks>();

function runLogContext(): RunLogContext {
  const memo = workflowInfo().memo ?? {};
  const context: RunLogContext = {};
  if (typeof memo.requestId === 'string') context.requestId = memo.requestId;
  if (typeof memo.userId === 'string') context.userId = memo.userId;
  return context;
}

function withContextHeader(headers: Headers): Headers {
  const context = runLogContext();
  if (!context.requestId && !context.userId) return headers;
  return { ...headers, [LOG_CONTEXT_HEADER]: defaultPayloadConverter.toPayload(context) };
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        if (!workflowInfo().continuedFromExecutionRunId) runMetrics.started();
        try {
          const result = await next(input);
          runMetrics.closed('completed');
          return result;
        } catch (err) {
          // Only a TemporalFailure closes the run; another error fails the workflow task, which is retried.
          // (continue-as-new is neither: the next run carries on without counting as a new start).
          if (err instanceof TemporalFailure) runMetrics.closed(isCancellation(err) ? 'cancelled' : 'failed');
          throw err;
        }
      },
    },
  ],
  outbound: [
    {
      getLogAttributes: (input, next) => next({ ...runLogContext(), ...input }),
      scheduleActivity: (input, next) => next({ ...input, headers: withContextHeader(input.headers) }),
      scheduleLocalActivity: (input, next) => next({ ...input, headers: withContextHeader(input.headers) }),
      startChildWorkflowExecution: (input, next) => {
        const context = runLogContext();
        if (!context.requestId && !context.userId) return next(input);
        return next({ ...input, options: { ...input.options, memo: { ...context, ...input.options.memo } } });
      },
      continueAsNew: (input, next) =>
        next({ ...input, options: { ...input.options, memo: { ...workflowInfo().memo, ...input.options.memo } } }),
    },
  ],
});
