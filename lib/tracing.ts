import { context, propagation, trace } from '@opentelemetry/api';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Instrumentation from '@opentelemetry/instrumentation';
import type * as HttpInstrumentationModule from '@opentelemetry/instrumentation-http';
import type * as UndiciInstrumentationModule from '@opentelemetry/instrumentation-undici';
import type * as Resources from '@opentelemetry/resources';
import type * as TraceBase from '@opentelemetry/sdk-trace-base';
import type * as TraceNode from '@opentelemetry/sdk-trace-node';
import type * as SemanticConventions from '@opentelemetry/semantic-conventions';
import type { ClientOptions } from '@temporalio/client';
import type * as TemporalOtelClient from '@temporalio/interceptors-opentelemetry/lib/client';
import type { Config } from './config';

/**
 * OpenTelemetry traces of a process (API request → workflow start → workflow → activities →
 * provider HTTP calls), exported over OTLP/HTTP. Off unless an OTLP endpoint is configured, and
 * then nothing of the SDK is even loaded: callers ask `activeTracing()` and add nothing when off.
 */
export interface Tracing {
  /** Where finished spans go (the OTLP batch exporter, or a test's in-memory one). */
  readonly processor: TraceBase.SpanProcessor;
  readonly resource: Resources.Resource;
  /** Flushes pending spans and unregisters the provider. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * The OTel convention: OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) turns
 * tracing on; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none keeps it off anyway.
 */
export function tracingConfigured(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_SDK_DISABLED' | 'OTEL_TRACES_EXPORTER'>,
): boolean {
  if (config.OTEL_SDK_DISABLED || config.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(config.OTEL_EXPORTER_OTLP_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The tracing this process started, if any. */
export function activeTracing(): Tracing | undefined {
  return active;
}

/**
 * Registers the global tracer provider (AsyncLocalStorage context, W3C `traceparent` propagation)
 * and the fetch (undici) and http/https client instrumentations, so provider SDK requests become
 * child spans. Spans go to `processor`, by default a batch OTLP/HTTP exporter configured by the
 * standard OTEL_EXPORTER_OTLP_* variables. `serviceName` is overridden by OTEL_SERVICE_NAME.
 * One per process: a second call returns the first.
 */
export function startTracing({ serviceName, processor }: { serviceName: string; processor?: TraceBase.SpanProcessor }): Tracing {
  if (active) return active;
  // Loaded here, not at the top: a process without tracing never pays for the SDK (~1 s of requires).
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof TraceNode;
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof TraceBase;
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
  const { Resource, envDetectorSync } = require('@opentelemetry/resources') as typeof Resources;
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof Instrumentation;
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof HttpInstrumentationModule;
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof UndiciInstrumentationModule;
  const { ATTR_SERVICE_NAME } = require('@opentelemetry/semantic-conventions') as typeof SemanticConventions;

  const resource = Resource.default()
    .merge(new Resource({ [ATTR_SERVICE_NAME]: serviceName }))
    .merge(envDetectorSync.detect());
  const spanProcessor = processor ?? new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  // Client requests only (incoming ones get a span from the API's own middleware, with the route),
  // and only inside a trace: a stray request outside any span starts none.
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true, requireParentforOutgoingSpans: true }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  // The http instrumentation patches the module on its next require; every SDK loaded it long ago
  // (we start after the imports), so require it once more now. The patch replaces `request`/`get`
  // on the shared module object, which each SDK looks up per call.
  require('node:http');
  require('node:https');
  const tracing: Tracing = {
    processor: spanProcessor,
    resource,
    async shutdown() {
      unregister();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      active = undefined;
    },
  };
  active = tracing;
  return tracing;
}

/**
 * Client options that carry the active trace into the workflows it starts or signals (a
 * `_tracer-data` header); none when tracing is off.
 */
export function tracingClientOptions(): Pick<ClientOptions, 'interceptors'> {
  if (!active) return {};
  const { OpenTelemetryWorkflowClientInterceptor } =
    require('@temporalio/interceptors-opentelemetry/lib/client') as typeof TemporalOtelClient;
  return { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } };
}
