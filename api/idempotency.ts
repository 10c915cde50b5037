import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Db } from '../db/database';
import { claimIdempotencyKey, getIdempotencyKey, releaseIdempotencyKey, storeIdempotentResponse } from '../db/repositories/idempotency';
import { IdempotencyKeyHeaderSchema } from '../schemas/common';
import { HttpProblem } from './problem';

export interface StoredResponse {
  status: number;
  body: unknown;
}

/** JSON with sorted object keys, so `{a,b}` and `{b,a}` are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestFingerprint(req: Request): string {
  return createHash('sha256')
    .update(`${req.method} ${req.path}\n${canonicalJson(req.body ?? null)}`)
    .digest('hex');
}

/**
 * Runs `produce` at most once per (user, Idempotency-Key): the first request claims the key,
 * stores its response, and every retry with the same body gets that response again. A retry
 * with a different body is 422; one arriving while the first is still in flight is 409.
 * When `produce` fails, the claim is released so the client can retry with the same key.
 */
export async function sendIdempotent(
  db: Db,
  req: Request,
  res: Response,
  userId: string,
  produce: () => Promise<StoredResponse>,
): Promise<void> {
  const { 'idempotency-key': key } = IdempotencyKeyHeaderSchema.parse({ 'idempotency-key': req.header('idempotency-key') });
  if (!key) {
    const response = await produce();
    res.status(response.status).json(response.body);
    return;
  }
  const fingerprint = requestFingerprint(req);
  if (!(await claimIdempotencyKey(db, userId, key, fingerprint))) {
    const stored = await getIdempotencyKey(db, userId, key);
    if (stored.request_hash !== fingerprint) {
      throw new HttpProblem(
        422,
        'idempotency-key-reused',
        'Idempotency-Key Reused',
        'this Idempotency-Key was already used with a different request body',
      );
    }
    if (stored.response_status === null) {
      throw new HttpProblem(
        409,
        'idempotency-key-in-flight',
        'Request In Progress',
        'a request with this Idempotency-Key is still being processed; retry shortly',
        {},
        { 'Retry-After': '1' },
      );
    }
    res.setHeader('Idempotent-Replayed', 'true');
    res.status(stored.response_status).json(stored.response_body);
    return;
  }

  let response: StoredResponse;
  try {
    response = await produce();
  } catch (err) {
    await releaseIdempotencyKey(db, userId, key);
    throw err;
  }
  await storeIdempotentResponse(db, userId, key, response);
  res.status(response.status).json(response.body);
}
