import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../lib/config';

/**
 * Short-lived signed tokens for GET /v1/runs/{runId}/events: browsers' EventSource cannot send
 * an Authorization header, and an API key in a URL would end up in proxies' logs and browser
 * history. A token names the key it was issued for (revoking the key revokes it) and expires.
 */
export const STREAM_TOKEN_TTL_MS = 10 * 60_000;

export interface StreamTokenClaims {
  keyId: string;
  userId: string;
  /** Expiry, epoch milliseconds. */
  exp: number;
}

// Without ENCRYPTION_KEY each process signs with its own random secret: tokens then only
// work against the process that issued them, which is all a single dev stack needs.
const processSecret = randomBytes(32);

function signingSecret(config: Pick<Config, 'ENCRYPTION_KEY'>): Buffer {
  return config.ENCRYPTION_KEY ? createHash('sha256').update(`stream-token:${config.ENCRYPTION_KEY}`).digest() : processSecret;
}

function sign(config: Pick<Config, 'ENCRYPTION_KEY'>, payload: string): Buffer {
  return createHmac('sha256', signingSecret(config)).update(payload).digest();
}

export function issueStreamToken(
  config: Pick<Config, 'ENCRYPTION_KEY'>,
  keyId: string,
  userId: string,
  now = Date.now(),
): { token: string; expiresAt: Date } {
  const claims: StreamTokenClaims = { keyId, userId, exp: now + STREAM_TOKEN_TTL_MS };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return { token: `${payload}.${sign(config, payload).toString('base64url')}`, expiresAt: new Date(claims.exp) };
}

/** The token's claims when its signature holds and it has not expired. */
export function verifyStreamToken(config: Pick<Config, 'ENCRYPTION_KEY'>, token: string, now = Date.now()): StreamTokenClaims | undefined {
  const [payload, signature, ...rest] = token.split('.');
  if (!payload || !signature || rest.length > 0) return undefined;
  const expected = sign(config, payload);
  const presented = Buffer.from(signature, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as StreamTokenClaims;
    return typeof claims.exp === 'number' && claims.exp > now && typeof claims.keyId === 'string' && typeof claims.userId === 'string'
      ? claims
      : undefined;
  } catch {
    return undefined;
  }
}
