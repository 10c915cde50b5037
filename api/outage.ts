import { isGrpcServiceError } from '@temporalio/client';
import { DatabaseError } from 'pg';
import { HttpProblem } from './problem';

/** Seconds a client should wait before retrying a request refused during an outage. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** gRPC status UNAVAILABLE: the Temporal server cannot be reached (the SDK has given up retrying). */
const GRPC_UNAVAILABLE = 14;
// The status enum lives in @grpc/grpc-js, which we do not depend on directly.
const grpcCode = (err: { code: number }): number => err.code;
/** SQLSTATE class 08 (connection exception) and the server refusing work while it stops, starts or is full. */
const isPostgresUnavailableCode = (code: string): boolean => code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code);
/** node-postgres reports a lost or timed-out connection with these messages and no code. */
const POSTGRES_CONNECTION_MESSAGES = [/^Connection terminated/, /timeout exceeded when trying to connect/, /not queryable/];
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** Whether an error (or one of its causes) says PostgreSQL, Temporal or the network to them is unreachable. */
export function isBackingServiceOutage(err: unknown): boolean {
  // Duck-typed, not `instanceof Error`: socket errors come from Node's own realm (not the same
  // Error class under jest's module sandbox).
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && grpcCode(e) === GRPC_UNAVAILABLE) return true;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (e instanceof DatabaseError && isPostgresUnavailableCode(e.code ?? '')) return true;
    if (typeof message === 'string' && POSTGRES_CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) return true;
    if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  }
  return false;
}

/**
 * The answer while a backing service is down. Retrying is safe: starts use ids derived from
 * the request (and Idempotency-Key), so a retry joins a run rather than adding one.
 */
export const serviceUnavailable = (): HttpProblem =>
  new HttpProblem(
    503,
    'service-unavailable',
    'Service Unavailable',
    `a service this request needs is temporarily unavailable; retry after ${OUTAGE_RETRY_AFTER_SECONDS} seconds`,
    {},
    { 'Retry-After': String(OUTAGE_RETRY_AFTER_SECONDS) },
  );
