import { ApplicationFailure } from '@temporalio/common';
import { currentLogContext } from '../lib/log-context';
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
  /**
   * Whose call this is: waiting calls are served round-robin across tenants, so one user's burst
   * does not queue every other user's calls behind it. Default: the activity's user (log context).
   */
  tenantOf?: () => string;
}

const callersUser = (): string => currentLogContext().userId ?? '';

/**
 * A per-provider concurrency cap, fair across tenants (a freed slot goes to the next tenant in
 * turn, first come first served within one tenant), plus a "paused until" instant set from Retry-After.
 */
export class ProviderLimiter {
  readonly clock: Clock;
  private readonly maxConcurrent: number;
  private readonly maxInProcessWaitMs: number;
  private readonly tenantOf: () => string;
  private active = 0;
  /** Waiting calls per tenant; the map's insertion order is the round-robin turn. */
  private readonly waiting = new Map<string, Array<() => void>>();
  private pausedUntil = 0;

  constructor(
    readonly provider: string,
    options: ProviderLimiterOptions,
  ) {
    this.maxConcurrent = Math.max(1, options.maxConcurrent);
    this.maxInProcessWaitMs = options.maxInProcessWaitMs ?? 5000;
    this.clock = options.clock ?? systemClock;
    this.tenantOf = options.tenantOf ?? callersUser;
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
    const tenant = this.tenantOf();
    return new Promise((resolve) => {
      const queue = this.waiting.get(tenant);
      if (queue) queue.push(resolve);
      else this.waiting.set(tenant, [resolve]);
    });
  }

  private release(): void {
    const turn = this.waiting.entries().next();
    if (turn.done) {
      this.active -= 1;
      return;
    }
    const [tenant, queue] = turn.value;
    const next = queue.shift() as () => void;
    // The tenant goes to the back of the turn; the slot passes straight to its waiter, so `active` stays the same.
    this.waiting.delete(tenant);
    if (queue.length) this.waiting.set(tenant, queue);
    next();
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
