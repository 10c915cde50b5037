import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failures';
import { classifyProviderError, requestedRetryDelayMs } from './errors';
import type { ProviderLimiter } from './rate-limit';

/** Runs one SDK call under the provider's limiter and rethrows its failure classified. */
export type ProviderCall = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * The one-line wrapper every adapter puts around its SDK calls: concurrency cap, Retry-After
 * pause shared by the process, and the platform's error classification.
 */
export function providerCall(limiter: ProviderLimiter): ProviderCall {
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await limiter.run(fn);
    } catch (err) {
      const classified = classifyProviderError(err, limiter.provider, limiter.clock.now());
      const delay = requestedRetryDelayMs(classified);
      if (classified instanceof ApplicationFailure && classified.type === FailureType.RateLimited && delay) limiter.pauseFor(delay);
      throw classified;
    }
  };
}
