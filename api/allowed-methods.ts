import type { RequestHandler } from 'express';
import type { OpenApiDocument } from './openapi';
import { HttpProblem } from './problem';

const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Resource {
  regex: RegExp;
  /** Literal segments: OpenAPI matches `/payouts/run` before `/payouts/{period}`. */
  literals: number;
  methods: string[];
}

function resourceOf(template: string, methods: string[]): Resource {
  const segments = template.split('/');
  const isParam = (segment: string) => /^\{\w+\}$/.test(segment);
  const pattern = segments.map((s) => (isParam(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
  // Express matches case-insensitively and with an optional trailing slash.
  return { regex: new RegExp(`^${pattern}/?$`, 'i'), literals: segments.filter((s) => !isParam(s)).length, methods };
}

/**
 * The methods of a documented path, from the OpenAPI document (which the contract tests keep equal
 * to the routes served): OPTIONS answers 204 with `Allow`, any other method the path does not
 * serve is a 405 with `Allow` (RFC 9110) rather than the 404 of a path that does not exist.
 * Mounted before authentication and body checks, so the answer does not depend on them.
 */
export function allowedMethods(document: OpenApiDocument): RequestHandler {
  const resources = Object.entries(document.paths ?? {}).map(([template, item]) =>
    resourceOf(
      template,
      OPERATION_METHODS.filter((method) => item[method] !== undefined).map((method) => method.toUpperCase()),
    ),
  );
  return (req, res, next) => {
    const matches = resources.filter((r) => r.regex.test(req.path));
    if (matches.length === 0) return next();
    const mostConcrete = Math.max(...matches.map((r) => r.literals));
    const allowed = new Set(matches.filter((r) => r.literals === mostConcrete).flatMap((r) => r.methods));
    // Express answers HEAD with the GET route.
    if (allowed.has('GET')) allowed.add('HEAD');
    if (allowed.has(req.method)) return next();
    const allow = [...allowed, 'OPTIONS'].join(', ');
    // A CORS preflight is cors's to answer.
    if (req.method === 'OPTIONS' && req.header('access-control-request-method')) return next();
    if (req.method === 'OPTIONS') {
      res.set('Allow', allow).status(204).end();
      return;
    }
    throw new HttpProblem(
      405,
      'method-not-allowed',
      'Method Not Allowed',
      `${req.method} is not supported on this path; allowed: ${allow}`,
      {},
      { Allow: allow },
    );
  };
}
