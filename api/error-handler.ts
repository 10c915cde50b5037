import type { ErrorRequestHandler, RequestHandler } from 'express';
import { DatabaseError } from 'pg';
import { ZodError } from 'zod';
import type { Logger } from '../lib/logger';
import { isBackingServiceOutage, serviceUnavailable } from './outage';
import { HttpProblem, problemTypeUri } from './problem';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** PostgreSQL class 22 (data exception): invalid text representation, numeric out of range, NUL in text, … */
const isDataException = (err: unknown): err is DatabaseError => err instanceof DatabaseError && (err.code ?? '').startsWith('22');

function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (err instanceof ZodError) {
    const errors = err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
    return new HttpProblem(400, 'validation', 'Validation failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
  }
  // The last line of defence behind the input guard: PostgreSQL refusing a value (bad encoding,
  // out of range, malformed text for its type) is the caller's input, not our failure.
  if (isDataException(err))
    return new HttpProblem(400, 'validation', 'Validation failed', 'a value is malformed or out of range for its field', {
      errors: [{ field: err.column ?? '(request)', message: 'malformed or out of range' }],
    });
  // PostgreSQL or Temporal down: 503 + Retry-After, never a 500 the client would not retry.
  if (isBackingServiceOutage(err)) return serviceUnavailable();
  const e = err as { type?: string; status?: number; statusCode?: number; expose?: boolean; message?: string };
  // Errors raised by body-parser and friends carry a status and are safe to expose.
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (e.type === 'entity.too.large')
      return new HttpProblem(413, 'payload-too-large', 'Payload Too Large', 'request body exceeds the limit');
    if (e.type === 'entity.parse.failed') return new HttpProblem(400, 'malformed-json', 'Malformed JSON', 'request body is not valid JSON');
    // express.json's only verify step is the UTF-8 check (input-guard.ts).
    if (e.type === 'entity.verify.failed')
      return new HttpProblem(400, 'malformed-json', 'Malformed JSON', 'request body is not valid UTF-8', {
        errors: [{ field: '(body)', message: 'is not valid UTF-8' }],
      });
    return new HttpProblem(status, 'bad-request', 'Bad Request', e.expose ? e.message : undefined);
  }
  return new HttpProblem(500, 'internal', 'Internal Server Error', 'an unexpected error occurred; it has been logged');
}

/** Renders every error as problem+json; never a stack trace. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = toProblem(err);
    if (problem.status >= 500) logger.error({ err, requestId: req.id }, 'request failed');
    else if (isDataException(err))
      logger.warn({ code: err.code, requestId: req.id, path: req.path }, 'PostgreSQL refused a request value; validate it at the edge');
    for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
    res
      .status(problem.status)
      .type(PROBLEM_CONTENT_TYPE)
      .json({
        type: problemTypeUri(problem.slug),
        title: problem.title,
        status: problem.status,
        ...(problem.detail ? { detail: problem.detail } : {}),
        // The path only: a query string may carry an access token.
        instance: req.path,
        ...(req.id ? { requestId: req.id } : {}),
        ...problem.extra,
      });
  };
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, 'not-found', 'Not Found', `no route for ${req.method} ${req.path}`));
};
