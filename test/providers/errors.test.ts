import { ApplicationFailure } from '@temporalio/common';
import { withLogContext } from '../../lib/log-context';
import { providerCall } from '../../providers/call';
import { classifyProviderError, ProviderHttpError, parseRetryAfter, requestedRetryDelayMs } from '../../providers/errors';
import { ProviderLimiter, type Clock } from '../../providers/rate-limit';
import { quotaDay } from '../../providers/youtube/quota';

const httpError = (status: number, body: unknown = {}, headers: Record<string, string> = {}) =>
  new ProviderHttpError(status, new Headers(headers), body, `HTTP ${status}`);

function classified(err: unknown): ApplicationFailure {
  const result = classifyProviderError(err, 'test');
  expect(result).toBeInstanceOf(ApplicationFailure);
  return result as ApplicationFailure;
}

describe('classifyProviderError', () => {
  it('keeps 429 retryable with nextRetryDelay from Retry-After (seconds, HTTP date, retry-after-ms)', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(new Headers({ 'retry-after': '7' }))).toBe(7000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now)).toBe(30_000);
    expect(parseRetryAfter({ 'Retry-After-Ms': '1500', 'retry-after': '9' })).toBe(1500);

    const failure = classified(httpError(429, {}, { 'retry-after': '12' }));
    expect(failure).toMatchObject({ type: 'RateLimited', nonRetryable: false });
    expect(requestedRetryDelayMs(failure)).toBe(12_000);
  });

  it.each([
    [500, 'ProviderUnavailable'],
    [503, 'ProviderUnavailable'],
    [529, 'ProviderUnavailable'],
    [408, 'ProviderTimeout'],
  ])('keeps HTTP %i retryable as %s', (status, type) => {
    expect(classified(httpError(status))).toMatchObject({ type, nonRetryable: false });
  });

  it.each([
    [401, {}, 'ProviderAuth'],
    [403, {}, 'ProviderAuth'],
    [400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }, 'ProviderAuth'],
    [403, { error: { code: 403, errors: [{ reason: 'quotaExceeded' }] } }, 'QuotaExceeded'],
    [402, {}, 'PaymentFailed'],
    [404, {}, 'NotFound'],
    [422, {}, 'InvalidInput'],
    [400, { error: { type: 'invalid_request_error' } }, 'InvalidInput'],
  ])('makes HTTP %i %j non-retryable %s', (status, body, type) => {
    expect(classified(httpError(status, body))).toMatchObject({ type, nonRetryable: true });
  });

  it('treats Google 403 rateLimitExceeded as a retryable rate limit, not as forbidden', () => {
    expect(classified(httpError(403, { error: { errors: [{ reason: 'userRateLimitExceeded' }] } }))).toMatchObject({
      type: 'RateLimited',
      nonRetryable: false,
    });
  });

  it('reads status from cloudinary-style plain objects (420 = its rate limit) and Stripe-style card errors', () => {
    expect(classified({ error: { message: 'Rate Limit Exceeded', http_code: 420 } })).toMatchObject({
      type: 'RateLimited',
      nonRetryable: false,
    });
    expect(classified({ message: 'Server error', http_code: 500 })).toMatchObject({ type: 'ProviderUnavailable' });
    const card = Object.assign(new Error('Your card was declined.'), {
      type: 'StripeCardError',
      statusCode: 402,
      raw: { type: 'card_error', code: 'card_declined' },
    });
    expect(classified(card)).toMatchObject({ type: 'PaymentFailed', nonRetryable: true });
  });

  it('keeps connection resets, refusals and timeouts retryable, looking through `cause`', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    });
    expect(classified(refused)).toMatchObject({ type: 'ProviderUnavailable', nonRetryable: false });
    expect(classified(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatchObject({ type: 'ProviderUnavailable' });
    expect(classified(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toMatchObject({
      type: 'ProviderTimeout',
      nonRetryable: false,
    });
  });

  it('passes ApplicationFailures and unknown errors (our bugs) through unchanged', () => {
    const failure = ApplicationFailure.nonRetryable('x', 'NotFound');
    expect(classifyProviderError(failure, 'test')).toBe(failure);
    const bug = new TypeError('cannot read properties of undefined');
    expect(classifyProviderError(bug, 'test')).toBe(bug);
  });
});

function manualClock(start = 0): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => (now += ms),
    sleep: async (ms) => {
      now += ms;
    },
  };
}

describe('ProviderLimiter', () => {
  it('never lets more than maxConcurrent calls run at once', async () => {
    const limiter = new ProviderLimiter('p', { maxConcurrent: 2 });
    let running = 0;
    let peak = 0;
    const task = () =>
      limiter.run(async () => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 10));
        running -= 1;
      });
    await Promise.all(Array.from({ length: 7 }, task));
    expect(peak).toBe(2);
    expect(limiter.inFlight).toBe(0);
  });

  it("serves waiting calls round-robin across users: a burst of one user's calls does not queue another user's behind it", async () => {
    const limiter = new ProviderLimiter('p', { maxConcurrent: 1 });
    const order: string[] = [];
    let release: () => void = () => undefined;
    const holding = new Promise<void>((holds) => {
      void limiter.run(() => new Promise<void>((r) => ((release = r), holds())));
    });
    await holding; // the only slot is taken: every call below waits
    const call = (userId: string, label: string) => withLogContext({ userId }, () => limiter.run(async () => void order.push(label)));
    const calls = [call('a', 'a1'), call('a', 'a2'), call('a', 'a3'), call('b', 'b1'), call('a', 'a4'), call('b', 'b2')];
    await new Promise((r) => setImmediate(r)); // all six are queued
    release();
    await Promise.all(calls);
    expect(order).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'a4']);
    expect(limiter.inFlight).toBe(0);
  });

  it('a 429 with Retry-After pauses every later call of the process: short pauses are slept, long ones fail over to Temporal', async () => {
    const clock = manualClock();
    const limiter = new ProviderLimiter('p', { maxConcurrent: 4, maxInProcessWaitMs: 5000, clock });
    const call = providerCall(limiter);

    await expect(call(() => Promise.reject(httpError(429, {}, { 'retry-after': '3' })))).rejects.toMatchObject({ type: 'RateLimited' });
    expect(limiter.remainingPauseMs()).toBe(3000);
    await expect(call(async () => 'ok')).resolves.toBe('ok'); // slept the 3 s on the manual clock
    expect(clock.now()).toBe(3000);

    await expect(call(() => Promise.reject(httpError(429, {}, { 'retry-after': '60' })))).rejects.toMatchObject({ type: 'RateLimited' });
    let sent = false;
    const failure = await call(async () => (sent = true)).catch((e: unknown) => e);
    expect(sent).toBe(false);
    expect(failure).toMatchObject({ type: 'RateLimited', nonRetryable: false });
    expect(requestedRetryDelayMs(failure)).toBe(60_000);
  });
});

describe('quotaDay (YouTube resets at midnight Pacific)', () => {
  it('maps an instant to the Pacific date and the next Pacific midnight, in winter and summer time', () => {
    // 2026-01-15 07:30 UTC = 2026-01-14 23:30 PST → resets at 2026-01-15 08:00 UTC
    expect(quotaDay(Date.parse('2026-01-15T07:30:00Z'))).toEqual({
      periodDate: '2026-01-14',
      resetsAt: Date.parse('2026-01-15T08:00:00Z'),
    });
    // 2026-07-01 12:00 UTC = 05:00 PDT → resets at 2026-07-02 07:00 UTC
    expect(quotaDay(Date.parse('2026-07-01T12:00:00Z'))).toEqual({
      periodDate: '2026-07-01',
      resetsAt: Date.parse('2026-07-02T07:00:00Z'),
    });
  });

  it('gets the day right across the spring-forward switch', () => {
    // 2026-03-08 is the switch day (02:00 PST → 03:00 PDT); its midnight-to-midnight is 23 hours.
    const { periodDate, resetsAt } = quotaDay(Date.parse('2026-03-08T09:00:00Z'));
    expect(periodDate).toBe('2026-03-08');
    expect(resetsAt).toBe(Date.parse('2026-03-09T07:00:00Z'));
  });
});
