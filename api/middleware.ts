import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { withLogContext } from '../lib/log-context';
import type { Logger } from '../lib/logger';
import { HttpProblem } from './problem';

/** Express's compiled `trust proxy` setting (TRUST_PROXY): may this address act as a proxy? */
type TrustProxyFn = (address: string, hop: number) => boolean;

/**
 * Keeps a sane incoming X-Request-Id only when the peer is a trusted proxy (TRUST_PROXY), so a
 * client cannot plant ids in our logs; otherwise makes one. Echoed in the response.
 */
export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.header('x-request-id');
  const fromTrustedProxy = (req.app.get('trust proxy fn') as TrustProxyFn)(req.socket.remoteAddress ?? '', 0);
  req.id = fromTrustedProxy && incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', req.id);
  // Every log line of this request carries it, and runs it starts keep it (api/workflow-starts.ts).
  withLogContext({ requestId: req.id }, next);
};

/**
 * One log line per request when it finishes. Only the path is logged: query strings may carry
 * a stream access token, and headers carry API keys.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        requestId: req.id,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        userId: res.locals.userId,
      };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}

/** A request that carries a body must send JSON (415 otherwise), before any body is parsed. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported Media Type', 'send the request body as application/json');
  }
  next();
};
