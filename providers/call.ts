import { SpanStatusCode, trace } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import type { ProviderMetrics } from '../lib/metrics';
import { FailureType } from '../schemas/failures';
import { classifyProviderError, requestedRetryDelayMs } from './errors';
import type { ProviderLimiter } from './rate-limit';

/** Runs one SDK call under the provider's limiter and rethrows its failure classified. */
export type ProviderCall = <T>(fn: () => Promise<T>) => Promise<T>;

/** A no-op until tracing is on (lib/tracing.ts): then each call is a span, parent of its HTTP requests. */
const tracer = trace.getTracer('creator-jobs/providers');

/**
 * The one-line wrapper every adapter puts around its SDK calls: concurrency cap, Retry-After
 * pause shared by the process, the platform's error classification, and a `provider <name>` span
 * (child of the activity's span; the time waiting for the limiter included), timed in `metrics` by outcome.
 */
export function providerCall(limiter: ProviderLimiter, metrics?: ProviderMetrics): ProviderCall {
  return <T>(fn: () => Promise<T>): Promise<T> =>
    tracer.startActiveSpan(`provider ${limiter.provider}`, { attributes: { 'provider.name': limiter.provider } }, async (span) => {
      const started = performance.now();
      let outcome = 'ok';
      try {
        return await limiter.run(fn);
      } catch (err) {
        const classified = classifyProviderError(err, limiter.provider, limiter.clock.now());
        const delay = requestedRetryDelayMs(classified);
        if (classified instanceof ApplicationFailure && classified.type === FailureType.RateLimited && delay) limiter.pauseFor(delay);
        // The failure type only: provider error texts stay in the activity's failure.
        const type =
          classified instanceof ApplicationFailure
            ? (classified.type ?? 'ApplicationFailure')
            : classified instanceof Error
              ? classified.name
              : 'Error';
        outcome = type;
        span.setAttribute('provider.failure_type', type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: type });
        throw classified;
      } finally {
        span.end();
        metrics?.providerCall(limiter.provider, outcome, (performance.now() - started) / 1000);
      }
    });
}
