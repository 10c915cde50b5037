import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { FailureType } from '../schemas/failures';

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'AbortError', 'APIConnectionTimeoutError']);
const CONNECTION_NAMES = new Set(['APIConnectionError', 'StripeConnectionError', 'FetchError']);
/** Google reasons (error.errors[].reason) that mean "slow down" rather than "forbidden". */
const GOOGLE_RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
const GOOGLE_QUOTA_REASONS = new Set(['quotaExceeded', 'dailyLimitExceeded', 'dailyLimitExceededUnreg']);
/** Drive 403 reasons about one file or the account's storage, not the grant: that upload fails, the connection stays usable. */
const DRIVE_STORAGE_REASONS = new Set(['storageQuotaExceeded', 'teamDriveFileLimitExceeded']);
const DRIVE_PERMISSION_REASONS = new Set(['insufficientFilePermissions', 'appNotAuthorizedToFile', 'cannotAddParent']);

/** What the classifier could learn from any SDK's error (googleapis/gaxios, Anthropic, Stripe, cloudinary, fetch). */
export interface ProviderErrorFacts {
  status?: number;
  retryAfterMs?: number;
  /** Network/system code of the error or one of its causes, e.g. ECONNRESET. */
  networkCode?: string;
  timeout: boolean;
  connection: boolean;
  /** Provider reasons/codes found in the error body (Google `reason`, OAuth `error`, Stripe `type`/`code`). */
  reasons: string[];
  message: string;
}

type Bag = Record<string, unknown>;
const isBag = (v: unknown): v is Bag => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function header(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  if (!isBag(headers)) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? str(value[0]) : str(value);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; `retry-after-ms` (Anthropic) wins. */
export function parseRetryAfter(headers: unknown, now: number = Date.now()): number | undefined {
  const ms = Number(header(headers, 'retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && header(headers, 'retry-after-ms') !== undefined) return ms;
  const value = header(headers, 'retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function collectReasons(body: unknown, into: string[]): void {
  if (typeof body === 'string') {
    try {
      collectReasons(JSON.parse(body), into);
    } catch {
      /* not JSON: no reasons to read */
    }
    return;
  }
  if (!isBag(body)) return;
  const error = body.error;
  // OAuth token endpoint: { error: 'invalid_grant', error_description }
  if (typeof error === 'string') into.push(error);
  if (isBag(error)) {
    // Google: { error: { code, status, errors: [{ reason }] } }; Anthropic: { error: { type } }; Stripe: { error: { type, code } }
    for (const key of ['status', 'type', 'code', 'decline_code'] as const) if (str(error[key])) into.push(error[key] as string);
    if (Array.isArray(error.errors)) for (const e of error.errors) if (isBag(e) && str(e.reason)) into.push(e.reason as string);
  }
}

/** Reads status, Retry-After, network code and provider reasons from an error of any of our SDKs. */
export function errorFacts(err: unknown, now: number = Date.now()): ProviderErrorFacts {
  // cloudinary rejects with plain objects, so the message may not come from an Error
  const message = isBag(err) && typeof err.message === 'string' ? err.message : String(err);
  const facts: ProviderErrorFacts = { timeout: false, connection: false, reasons: [], message };
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (isBag(current) && !seen.has(current)) {
    seen.add(current);
    const response = isBag(current.response) ? current.response : undefined;
    const raw = isBag(current.raw) ? current.raw : undefined; // Stripe keeps the parsed body under `raw`
    const status = [current.status, current.statusCode, current.http_code, response?.status].find((s) => typeof s === 'number' && s >= 100);
    if (facts.status === undefined && typeof status === 'number') facts.status = status;
    facts.retryAfterMs ??= parseRetryAfter(current.headers ?? response?.headers, now);
    const code = str(current.code) ?? str(current.errno);
    if (code && RETRYABLE_NETWORK_CODES.has(code)) facts.networkCode ??= code;
    const name = str(current.name) ?? str(current.constructor?.name);
    if ((name && TIMEOUT_NAMES.has(name)) || code === 'TimeoutError' || code === 'ETIMEDOUT') facts.timeout = true;
    if (name && CONNECTION_NAMES.has(name)) facts.connection = true;
    collectReasons(response?.data ?? current.body ?? current.error, facts.reasons);
    if (raw) collectReasons({ error: raw }, facts.reasons);
    if (str(current.type)) facts.reasons.push(current.type as string);
    current = current.cause ?? current.error;
  }
  return facts;
}

/**
 * The SDK error is summarised into the message, not attached as `cause`: SDK errors carry
 * request config (headers, bodies) that must not reach workflow history.
 */
function failure(message: string, type: string, nonRetryable: boolean, nextRetryDelayMs?: number): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type,
    nonRetryable,
    nextRetryDelay: nextRetryDelayMs === undefined ? undefined : Math.max(1, Math.ceil(nextRetryDelayMs)),
  });
}

/**
 * Maps any provider SDK/fetch error onto the platform's failure types: 429 (honouring
 * Retry-After via `nextRetryDelay`), 5xx, timeouts and connection resets stay retryable;
 * auth, quota, bad input, missing resources and declined payments become non-retryable.
 * Errors it cannot place (bugs in our code) are returned unchanged for Temporal's default retry.
 */
export function classifyProviderError(err: unknown, provider: string, now: number = Date.now()): unknown {
  if (err instanceof ApplicationFailure) return err;
  const facts = errorFacts(err, now);
  const has = (...reasons: string[]) => reasons.some((r) => facts.reasons.includes(r));
  const say = (what: string) => `${provider}: ${what}${facts.message ? ` (${facts.message})` : ''}`;
  const { status } = facts;

  if (has(...GOOGLE_QUOTA_REASONS)) return failure(say('quota exceeded'), FailureType.QuotaExceeded, true);
  if (has(...DRIVE_STORAGE_REASONS)) return failure(say('storage full'), FailureType.QuotaExceeded, true);
  if (has(...DRIVE_PERMISSION_REASONS)) return failure(say('no permission for this file or folder'), FailureType.InvalidInput, true);
  if (has('invalid_grant', 'unauthorized_client', 'invalid_client', 'authentication_error')) {
    return failure(say('authorization revoked or invalid'), FailureType.ProviderAuth, true);
  }
  // 420 is cloudinary's (and old Twitter's) rate-limit status.
  if (status === 429 || status === 420 || has(...GOOGLE_RATE_REASONS, 'rate_limit_error')) {
    return failure(say('rate limited'), FailureType.RateLimited, false, facts.retryAfterMs);
  }
  if (status !== undefined && status >= 500)
    return failure(say(`unavailable (HTTP ${status})`), FailureType.ProviderUnavailable, false, facts.retryAfterMs);
  if (status === 408 || (status === undefined && facts.timeout)) return failure(say('timed out'), FailureType.ProviderTimeout, false);
  // Stripe answers 409 while a request with the same idempotency key is still in flight.
  if (status === 409 && has('idempotency_key_in_use', 'lock_timeout'))
    return failure(say('conflict in flight'), FailureType.ProviderUnavailable, false);
  if (status === 401 || status === 403) return failure(say(`not authorized (HTTP ${status})`), FailureType.ProviderAuth, true);
  if (status === 402 || has('StripeCardError', 'card_error', 'card_declined'))
    return failure(say('payment failed'), FailureType.PaymentFailed, true);
  if (status === 404 || status === 410) return failure(say('not found'), FailureType.NotFound, true);
  if (status !== undefined && status >= 400) return failure(say(`rejected the request (HTTP ${status})`), FailureType.InvalidInput, true);
  if (facts.networkCode || facts.connection)
    return failure(say(`connection failed${facts.networkCode ? ` (${facts.networkCode})` : ''}`), FailureType.ProviderUnavailable, false);
  return err;
}

/** A non-2xx answer of a provider called with plain fetch, shaped so `classifyProviderError` can read it. */
export class ProviderHttpError extends Error {
  override name = 'ProviderHttpError';
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** Resolves with the response when it is 2xx; otherwise rejects with a ProviderHttpError carrying status, headers and body. */
export async function ensureOk(res: Response, what: string): Promise<Response> {
  if (res.ok) return res;
  const text = await res.text().catch(() => '');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep the text body */
  }
  throw new ProviderHttpError(res.status, res.headers, body, `${what} answered HTTP ${res.status}`);
}

/** The provider refused our credentials (revoked, expired, not authorized). */
export const isAuthFailure = (err: unknown): boolean => err instanceof ApplicationFailure && err.type === FailureType.ProviderAuth;

/** The delay a failure asks for (from Retry-After or a quota reset), in ms. */
export function requestedRetryDelayMs(err: unknown): number | undefined {
  if (!(err instanceof ApplicationFailure) || err.nextRetryDelay == null) return undefined;
  return msToNumber(err.nextRetryDelay);
}
