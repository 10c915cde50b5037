import type * as TemporalOtelWorker from '@temporalio/interceptors-opentelemetry/lib/worker';
import type { BundleOptions, WorkerOptions } from '@temporalio/worker';
import { activeTracing } from '../lib/tracing';

/** The workflow-side interceptors: a span per workflow run and per activity/child it starts, exported through a sink. */
const WORKFLOW_TRACING_MODULE = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * bundleWorkflowCode options for the active tracing: the workflow interceptors are bundled only
 * when tracing is on (they add ~2 MB of OpenTelemetry to the bundle and a few seconds of webpack).
 * A prebuilt bundle (WORKFLOW_BUNDLE_PATH) must therefore be built with the worker's tracing setting.
 */
export function tracingBundleOptions(tracing = activeTracing() !== undefined): Pick<BundleOptions, 'workflowInterceptorModules'> {
  return tracing ? { workflowInterceptorModules: [WORKFLOW_TRACING_MODULE] } : {};
}

/**
 * Worker options the active tracing adds (none when off): a span per activity, child of the
 * workflow's StartActivity span; with `workflows`, the sink the workflow spans are exported
 * through, and the workflow interceptors themselves when the worker bundles at start.
 */
export function tracingWorkerOptions({
  workflows,
  prebuiltBundle,
}: {
  workflows: boolean;
  prebuiltBundle: boolean;
}): Partial<WorkerOptions> {
  const tracing = activeTracing();
  if (!tracing) return {};
  const { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } =
    require('@temporalio/interceptors-opentelemetry/lib/worker') as typeof TemporalOtelWorker;
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      ...(workflows && !prebuiltBundle ? { workflowModules: [WORKFLOW_TRACING_MODULE] } : {}),
    },
    ...(workflows ? { sinks: { exporter: makeWorkflowExporter(tracing.processor, tracing.resource) } } : {}),
  };
}
