import type { Request, RequestHandler } from 'express';
import { HttpProblem } from './problem';

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets idle this long are full again and can be forgotten. */
const IDLE_MS = 120_000;
const PRUNE_ABOVE = 10_000;

/**
 * Token bucket per key (a user, an API key, a client IP), in this process's memory: a burst of up to `perMinute` requests,
 * refilled continuously at perMinute/60 per second. With N API processes behind a load
 * balancer a key gets up to N× its limit; a shared store (Redis, PostgreSQL) would be the
 * next step if that matters.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();

  take(key: string, perMinute: number, now = Date.now()): RateDecision {
    const refillPerMs = perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, updatedAt: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updatedAt) * refillPerMs);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > PRUNE_ABOVE) this.prune(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, remaining: Math.floor(bucket.tokens) };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)) };
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (now - bucket.updatedAt > IDLE_MS) this.buckets.delete(key);
  }
}

export const rateLimited = (detail: string, limit: number, retryAfterSeconds: number): HttpProblem =>
  new HttpProblem(
    429,
    'rate-limit',
    'Too Many Requests',
    detail,
    { limit },
    { 'Retry-After': String(retryAfterSeconds), 'RateLimit-Remaining': '0' },
  );

export interface AnonymousRateLimit {
  /** Spends one request of the client IP's budget; 429 once it is spent. */
  charge(req: Request): void;
  /** Charges every request no API key authenticated (mounted after the signed-webhook routes, which their signature authenticates). */
  unauthenticated: RequestHandler;
}

/**
 * One budget per client IP for requests without a valid API key: public routes and failed
 * authentication alike. req.ip is the socket's address unless TRUST_PROXY names the proxies.
 */
export function anonymousRateLimit(perMinute: number): AnonymousRateLimit {
  const limiter = new TokenBucketLimiter();
  const charge = (req: Request): void => {
    const decision = limiter.take(req.ip ?? req.socket.remoteAddress ?? 'unknown', perMinute);
    if (!decision.allowed)
      throw rateLimited(
        `requests without a valid API key are limited to ${perMinute} per minute per client`,
        perMinute,
        decision.retryAfterSeconds,
      );
  };
  return {
    charge,
    unauthenticated: (req, res, next) => {
      if (!res.locals.auth) charge(req);
      next();
    },
  };
}
