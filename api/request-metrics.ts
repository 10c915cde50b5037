import type { RequestHandler } from 'express';
import type { ApiMetrics } from '../lib/metrics';

/** The matched route's pattern (`/v1/videos/:id`), so ids never become label values; `(unmatched)` otherwise. */
const routeOf = (route: unknown): string => {
  const path = (route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : '(unmatched)';
};

/** Counts and times every request by route pattern and status, and the 429s of the limits. */
export function requestMetrics(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routeOf(req.route);
      metrics.request(req.method, route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
      // The rate limits answer with RateLimit-Remaining: 0 (api/rate-limit.ts); the running-jobs cap without it.
      if (res.statusCode === 429) metrics.rateLimited(res.getHeader('RateLimit-Remaining') === '0' ? 'requests' : 'concurrency', route);
    });
    next();
  };
}
