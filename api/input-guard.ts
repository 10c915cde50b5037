import { isUtf8 } from 'node:buffer';
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem';
import { IdempotencyKeyHeaderSchema } from '../schemas/common';

/**
 * Edge checks on every request's bytes, so no input reaches a handler, zod or PostgreSQL in a
 * shape that ends as a 500: NUL characters (PostgreSQL text cannot hold them), lone UTF-16
 * surrogates (not encodable as UTF-8), invalid UTF-8 or percent-encoding, over-long path
 * segments and JSON nested deep enough to overflow recursive code (canonicalJson).
 */

/** Deeper than any body of ours; much deeper input would overflow the stack of recursive walkers. */
export const MAX_JSON_DEPTH = 32;
/** Longer than any id, code or slug a path segment carries. */
export const MAX_PATH_SEGMENT_CHARS = 512;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

interface FieldError {
  field: string;
  message: string;
}

const invalidInput = (error: FieldError): HttpProblem =>
  new HttpProblem(400, 'validation', 'Validation failed', `${error.field}: ${error.message}`, { errors: [error] });

function stringFault(value: string): string | undefined {
  if (value.includes('\0')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'is not valid Unicode (lone surrogate)';
  return undefined;
}

/**
 * The first bad string, key or nesting level in parsed JSON or a parsed query, named like zod
 * names fields (`a.b.0`). Walks with its own stack, so hostile depth cannot overflow it.
 */
function findFault(root: unknown, rootName: string): FieldError | undefined {
  const name = (path: readonly string[]) => (path.length > 0 ? path.join('.') : rootName);
  const pending: Array<{ value: unknown; path: string[] }> = [{ value: root, path: [] }];
  while (pending.length > 0) {
    const { value, path } = pending.pop()!;
    if (typeof value === 'string') {
      const fault = stringFault(value);
      if (fault) return { field: name(path), message: fault };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_JSON_DEPTH) return { field: name(path), message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const [key, child] of Object.entries(value)) {
      const fault = stringFault(key);
      if (fault) return { field: name(path), message: `a key ${fault}` };
      pending.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}

const decodes = (text: string): boolean => {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
};

/** Path segments and the query string, before routing: bad encoding, NUL, lone surrogates, over-long segments → 400. */
export const guardUrlInput: RequestHandler = (req, _res, next) => {
  for (const segment of req.path.split('/')) {
    if (!decodes(segment)) throw invalidInput({ field: '(path)', message: 'is not valid percent-encoded UTF-8' });
    const decoded = decodeURIComponent(segment);
    const fault = stringFault(decoded);
    if (fault) throw invalidInput({ field: '(path)', message: `a segment ${fault}` });
    if (decoded.length > MAX_PATH_SEGMENT_CHARS)
      throw invalidInput({ field: '(path)', message: `a segment is longer than ${MAX_PATH_SEGMENT_CHARS} characters` });
  }
  const rawQuery = req.originalUrl.split('?').slice(1).join('?');
  if (rawQuery && !rawQuery.split(/[&=]/).every((part) => decodes(part.replace(/\+/g, ' '))))
    throw invalidInput({ field: '(query)', message: 'is not valid percent-encoded UTF-8' });
  const fault = findFault(req.query, '(query)');
  if (fault) throw invalidInput(fault);
  // Checked before any route's own rules (credits, plan limits), so a malformed key is always this 400.
  const idempotencyKey = IdempotencyKeyHeaderSchema.safeParse({ 'idempotency-key': req.header('idempotency-key') });
  if (!idempotencyKey.success) throw invalidInput({ field: 'Idempotency-Key', message: 'must be printable ASCII, 1-255 characters' });
  next();
};

/** The parsed JSON body (behind express.json): NUL, lone surrogates, excessive depth → 400 naming the field. */
export const guardJsonBody: RequestHandler = (req, _res, next) => {
  const fault = findFault(req.body, '(body)');
  if (fault) throw invalidInput(fault);
  next();
};

/** express.json's `verify`: a body that is not UTF-8 is refused instead of being decoded with replacement characters. */
export function requireUtf8Body(_req: unknown, _res: unknown, body: Buffer): void {
  if (!isUtf8(body)) throw new Error('request body is not valid UTF-8');
}
