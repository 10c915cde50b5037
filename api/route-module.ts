import type { OpenAPIRegistry, ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { ZodType } from 'zod';
import { ProblemSchema } from '../schemas/common';
import type { ApiDeps } from './deps';

/**
 * One domain's routes: the Express router and its OpenAPI description side by side, so a
 * route cannot be served without being documented (test/api/openapi.test.ts checks it).
 */
export interface RouteModule {
  router(deps: ApiDeps): Router;
  document(registry: OpenAPIRegistry): void;
}

/** Name of the bearer security scheme in the OpenAPI document. */
export const BEARER = 'bearerAuth';
export const bearer = (): Array<Record<string, string[]>> => [{ [BEARER]: [] }];

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Validation failed (fields listed in `errors`)',
  401: 'Missing, invalid, expired or revoked API key',
  403: 'The API key lacks the required scope',
  404: 'Not found, or not yours',
  409: 'Conflict with the current state',
  413: 'Request body too large',
  415: 'Request body is not application/json',
  422: 'Idempotency-Key reused with a different body',
  429: 'Rate limit or concurrency limit reached (see Retry-After)',
  503: 'A dependency is unreachable',
};

/** problem+json responses for the given status codes. */
export function problems(...statuses: number[]): Record<string, ResponseConfig> {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: PROBLEM_DESCRIPTIONS[status] ?? 'Problem', content: { 'application/problem+json': { schema: ProblemSchema } } },
    ]),
  );
}

export const json = (schema: ZodType, description: string): ResponseConfig => ({
  description,
  content: { 'application/json': { schema } },
});
