import robotsParser from 'robots-parser';
import type { Db } from '../db/database';
import { findScrapingRule, takeDomainSlot } from '../db/repositories/products';
import { safeFetch, type UrlGuardOptions } from '../lib/ssrf';
import { FailureType } from '../schemas/failures';
import type { ProviderCall } from './call';
import { ensureOk } from './errors';
import type { Clock } from './rate-limit';
import { ApplicationFailure } from '@temporalio/common';

/** How our crawler names itself to sites (robots.txt groups match on it). */
export const CRAWLER_USER_AGENT = 'CreatorJobsBot/1.0 (+https://example.com/bot)';

export interface FetchedBody {
  /** The final URL after redirects. */
  url: string;
  contentType: string;
  body: Buffer;
}

export interface WebPagesOptions {
  db: Db;
  /** The SSRF guard's options (sandbox hosts allowed outside production). */
  guard: UrlGuardOptions;
  call: ProviderCall;
  clock: Clock;
  /** Between two requests to one domain without a scraping rule, in ms. */
  defaultDelayMs: number;
  timeoutMs: number;
  /** A wait for the domain's slot longer than this fails the attempt as retryable RateLimited instead of holding the activity. */
  maxSlotWaitMs?: number;
}

/**
 * Fetches pages and images of other people's sites politely: through the SSRF guard, after the
 * domain's robots.txt, and never faster than the domain's delay (scraping_rules.delay_ms, else
 * the default). The pace is kept in PostgreSQL (scrape_domain_slots), so it holds across every
 * worker process, not per process as providers/rate-limit.ts does.
 */
export class WebPages {
  constructor(private readonly options: WebPagesOptions) {}

  /** Whether robots.txt lets our crawler fetch `url` (no robots.txt, or a 4xx for it: allowed). */
  async robotsAllow(url: string): Promise<boolean> {
    const robotsUrl = new URL('/robots.txt', url).href;
    const rule = await this.ruleFor(robotsUrl);
    await this.waitForSlot(new URL(url).host, rule.delayMs);
    const res = await this.options.call(() =>
      safeFetch(
        robotsUrl,
        { headers: { 'user-agent': CRAWLER_USER_AGENT, ...rule.headers }, timeoutMs: this.options.timeoutMs },
        this.options.guard,
      ),
    );
    if (res.status >= 400 && res.status < 500) {
      await res.body?.cancel();
      return true;
    }
    const ok = await this.options.call(() => ensureOk(res, 'robots.txt'));
    const text = (await readLimited(ok, 512 * 1024)).toString('utf8');
    return robotsParser(robotsUrl, text).isAllowed(url, CRAWLER_USER_AGENT) !== false;
  }

  /** GET `url` at the domain's pace; non-2xx answers and bodies over `maxBytes` fail classified. */
  async get(url: string, maxBytes: number, accept = '*/*'): Promise<FetchedBody> {
    const rule = await this.ruleFor(url);
    await this.waitForSlot(new URL(url).host, rule.delayMs);
    return this.options.call(async () => {
      const res = await ensureOk(
        await safeFetch(
          url,
          { headers: { 'user-agent': CRAWLER_USER_AGENT, accept, ...rule.headers }, timeoutMs: this.options.timeoutMs },
          this.options.guard,
        ),
        `GET ${new URL(url).host}`,
      );
      return { url: res.url || url, contentType: res.headers.get('content-type') ?? '', body: await readLimited(res, maxBytes) };
    });
  }

  /** The domain's scraping rule (selectors, headers, delay), with defaults when it has none. */
  async ruleFor(url: string): Promise<{ selectors: Record<string, string>; headers: Record<string, string>; delayMs: number }> {
    const rule = await findScrapingRule(this.options.db, new URL(url).host.toLowerCase());
    return { selectors: rule?.selectors ?? {}, headers: rule?.headers ?? {}, delayMs: rule?.delayMs ?? this.options.defaultDelayMs };
  }

  private async waitForSlot(domain: string, delayMs: number): Promise<void> {
    if (delayMs <= 0) return;
    const slot = await takeDomainSlot(this.options.db, domain.toLowerCase(), delayMs);
    const wait = slot.getTime() - this.options.clock.now();
    if (wait > (this.options.maxSlotWaitMs ?? 30_000))
      throw ApplicationFailure.create({
        message: `${domain}: too many requests queued for this site, next slot in ${Math.ceil(wait / 1000)} s`,
        type: FailureType.RateLimited,
        nextRetryDelay: wait,
      });
    if (wait > 0) await this.options.clock.sleep(wait);
  }
}

/** The body, refused (InvalidInput, non-retryable) once it passes `maxBytes`. */
async function readLimited(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw ApplicationFailure.nonRetryable(`the response is ${declared} bytes, over the limit of ${maxBytes}`, FailureType.InvalidInput);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) {
      throw ApplicationFailure.nonRetryable(`the response is over the limit of ${maxBytes} bytes`, FailureType.InvalidInput);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
