import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failures';

/** Time source for limiters, quota budgets and token expiry; tests inject a fake one. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface ProviderLimiterOptions {
  /** Calls to this provider allowed in flight at once in this process. */
  maxConcurrent: number;
  /**
   * A pause (from Retry-After) up to this long is waited out in-process; a longer one fails the
   * attempt as retryable with `nextRetryDelay` so the activity slot is not held while waiting.
   */
  maxInProcessWaitMs?: number;
  clock?: Clock;
}

/** A per-provider concurrency cap plus a "paused until" instant set from Retry-After. */
export class ProviderLimiter {
  readonly clock: Clock;
  private readonly maxConcurrent: number;
  private readonly maxInProcessWaitMs: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private pausedUntil = 0;

  constructor(
    readonly provider: string,
    options: ProviderLimiterOptions,
  ) {
    this.maxConcurrent = Math.max(1, options.maxConcurrent);
    this.maxInProcessWaitMs = options.maxInProcessWaitMs ?? 5000;
    this.clock = options.clock ?? systemClock;
  }

  /** Holds every call to this provider until `ms` from now (a later pause wins over an earlier one). */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  remainingPauseMs(): number {
    return Math.max(0, this.pausedUntil - this.clock.now());
  }

  get inFlight(): number {
    return this.active;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.waitOutPause();
      await this.acquire();
      // A 429 seen by another call while this one queued for a slot pauses this one too.
      if (this.remainingPauseMs() === 0) break;
      this.release();
    }
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private async waitOutPause(): Promise<void> {
    for (let remaining = this.remainingPauseMs(); remaining > 0; remaining = this.remainingPauseMs()) {
      if (remaining > this.maxInProcessWaitMs) {
        throw ApplicationFailure.create({
          message: `${this.provider}: paused by the provider's Retry-After for another ${Math.ceil(remaining / 1000)} s`,
          type: FailureType.RateLimited,
          nextRetryDelay: remaining,
        });
      }
      await this.clock.sleep(remaining);
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.maxConcurrent) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter, so `active` stays the same.
    if (next) next();
    else this.active -= 1;
  }
}

/** One limiter per provider name, shared by every adapter (and so every activity) of a worker process. */
export class ProviderLimits {
  private readonly limiters = new Map<string, ProviderLimiter>();

  constructor(
    private readonly maxConcurrentByProvider: Record<string, number>,
    private readonly defaults: Omit<ProviderLimiterOptions, 'maxConcurrent'> & { maxConcurrent?: number } = {},
  ) {}

  for(provider: string): ProviderLimiter {
    let limiter = this.limiters.get(provider);
    if (!limiter) {
      const maxConcurrent = this.maxConcurrentByProvider[provider] ?? this.defaults.maxConcurrent ?? 4;
      limiter = new ProviderLimiter(provider, { ...this.defaults, maxConcurrent });
      this.limiters.set(provider, limiter);
    }
    return limiter;
  }
}
