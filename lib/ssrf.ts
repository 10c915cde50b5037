import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from './config';

/**
 * Intake guard for user-supplied URLs (video/product imports, reference images, webhooks):
 * https only, no credentials, and every address the host resolves to must be public. The
 * WHATWG URL parser already turns 2130706433, 0x7f000001 and 0177.0.0.1 into 127.0.0.1, so
 * checks see canonical addresses. safeFetch re-checks at connect time (the resolver used by
 * the socket is guarded, so DNS rebinding between check and connect cannot slip through) and
 * on every redirect hop.
 */
export class UnsafeUrlError extends ApplicationFailure {
  /** Non-retryable wherever it is thrown: the same URL is refused on every attempt. */
  constructor(reason: string) {
    super(reason, 'InvalidInput', true);
  }
}

/**
 * A request to a checked URL that failed on the network. Its message names no address, port or
 * socket error (those would map the private network for the caller); `code` (ECONNRESET, …) is
 * kept so the failure classification sees a retryable network failure.
 */
export class UrlFetchError extends Error {
  override name = 'UrlFetchError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface UrlGuardOptions {
  /**
   * `host` or `host:port` entries allowed over http and exempt from the address checks: the
   * local provider sandboxes in development and tests. Empty in production.
   */
  allowedHosts?: readonly string[];
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): translates to private IPv4 networks by design
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (includes fd00:ec2::254 metadata)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tails included). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  return tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

const ipv4FromGroups = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * IPv4 addresses carried inside IPv6 forms that reach IPv4 hosts: mapped (::ffff:a.b.c.d),
 * translated (::ffff:0:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4
 * (2002:aabb:ccdd::) and Teredo (2001:0:<server>:…:<client, inverted>).
 */
function embeddedIpv4(address: string): string[] {
  const g = ipv6Groups(address);
  if (g.length !== 8) return [];
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) return [ipv4FromGroups(g[6]!, g[7]!)];
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return [ipv4FromGroups(g[6]!, g[7]!)];
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return [ipv4FromGroups(g[6]!, g[7]!)];
  if (g[0] === 0x2002) return [ipv4FromGroups(g[1]!, g[2]!)];
  if (g[0] === 0x2001 && g[1] === 0) return [ipv4FromGroups(g[2]!, g[3]!), ipv4FromGroups(g[6]! ^ 0xffff, g[7]! ^ 0xffff)];
  return [];
}

/** True for addresses a user-supplied URL must never reach: private, loopback, link-local, metadata, reserved. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family !== 6) return true; // not an address at all: refuse rather than guess
  if (blocked.check(bare, 'ipv6')) return true;
  return embeddedIpv4(bare).some((v4) => blocked.check(v4, 'ipv4'));
}

const isAllowedHost = (url: URL, options: UrlGuardOptions): boolean =>
  (options.allowedHosts ?? []).some(
    (entry) => entry.toLowerCase() === url.hostname.toLowerCase() || entry.toLowerCase() === url.host.toLowerCase(),
  );

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

/**
 * Why the URL may not be fetched, judged from its text alone (scheme, credentials, a literal
 * address, a name that is always local); undefined when only DNS can tell. The API checks URL
 * fields with it (a name's addresses may change before the fetch, which checks them again).
 */
export function unsafeUrlReason(input: string, options: UrlGuardOptions = {}): string | undefined {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return 'not a valid URL';
  }
  const allowed = isAllowedHost(url, options);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) return `the ${url.protocol} scheme is not allowed: use https`;
  if (url.username || url.password) return 'URLs with credentials are not allowed';
  if (allowed) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return isPrivateAddress(host) ? `the address ${host} is private or reserved` : undefined;
  if (/(^|\.)localhost\.?$/i.test(host)) return 'the host is local';
  return undefined;
}

/**
 * The parsed URL when it is safe to fetch; UnsafeUrlError naming the reason otherwise.
 * Resolves the host and checks every answer.
 */
export async function assertSafeUrl(input: string, options: UrlGuardOptions = {}): Promise<URL> {
  const reason = unsafeUrlReason(input, options);
  if (reason) throw new UnsafeUrlError(reason);
  const url = new URL(input);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isAllowedHost(url, options) || isIP(host)) return url;
  let addresses: LookupAddress[];
  try {
    addresses = await resolveAll(host);
  } catch {
    throw new UnsafeUrlError(`the host ${host} does not resolve`);
  }
  if (addresses.length === 0 || addresses.some((a) => isPrivateAddress(a.address)))
    throw new UnsafeUrlError(`the host ${host} resolves to a private or reserved address`);
  return url;
}

/** A resolver for sockets that refuses private answers, so the checked address is the one connected to. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  resolveAll(hostname).then(
    (addresses) => {
      const candidates = addresses.filter((a) => !options.family || a.family === options.family);
      if (candidates.length === 0 || candidates.some((a) => isPrivateAddress(a.address))) {
        callback(new UnsafeUrlError(`the host ${hostname} resolves to a private or reserved address`), '', 0);
      } else if (options.all) {
        (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, candidates);
      } else {
        callback(null, candidates[0]!.address, candidates[0]!.family);
      }
    },
    (err: NodeJS.ErrnoException) => callback(err, '', 0),
  );
};

export const MAX_REDIRECTS = 5;

export interface SafeFetchInit {
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** The request body (outgoing webhooks POST their signed envelope). */
  body?: string;
  /** Bounds the whole exchange, body included (timeoutMs only bounds socket inactivity). */
  signal?: AbortSignal;
  /** false: a 3xx is returned as it is (a signed webhook is never re-sent elsewhere). */
  followRedirects?: boolean;
}

function requestOnce(url: URL, init: SafeFetchInit, allowed: boolean): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      method: init.method ?? 'GET',
      headers: init.headers,
      timeout: init.timeoutMs ?? 15_000,
      ...(init.signal ? { signal: init.signal } : {}),
      ...(allowed ? {} : { lookup: guardedLookup }),
    });
    req.once('response', resolve);
    req.once('timeout', () => req.destroy(new UrlFetchError(`timed out fetching from ${url.hostname}`, 'ETIMEDOUT')));
    req.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err instanceof UnsafeUrlError || err instanceof UrlFetchError
          ? err
          : new UrlFetchError(`could not fetch from ${url.hostname}`, err.code),
      ),
    );
    req.end(init.body);
  });
}

/**
 * fetch for user-supplied URLs: every hop (at most MAX_REDIRECTS redirects) passes
 * assertSafeUrl and connects only to checked addresses. Returns a WHATWG Response whose
 * `url` is the final hop.
 */
export async function safeFetch(input: string, init: SafeFetchInit = {}, options: UrlGuardOptions = {}): Promise<Response> {
  let url = await assertSafeUrl(input, options);
  for (let redirects = 0; ; redirects++) {
    const res = await requestOnce(url, init, isAllowedHost(url, options));
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location && init.followRedirects !== false) {
      res.resume();
      if (redirects >= MAX_REDIRECTS) throw new UnsafeUrlError(`more than ${MAX_REDIRECTS} redirects`);
      url = await assertSafeUrl(new URL(location, url).toString(), options);
      continue;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
      else if (value !== undefined) headers.set(name, value);
    }
    const body = init.method === 'HEAD' || status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
    const response = new Response(body, { status, statusText: res.statusMessage, headers });
    Object.defineProperty(response, 'url', { value: url.toString() });
    return response;
  }
}

/**
 * Guard options from config: SSRF_ALLOWED_HOSTS (comma-separated host or host:port, for
 * local sandboxes) is honoured outside production only.
 */
export function urlGuardOptions(
  config: Pick<Config, 'NODE_ENV' | 'SSRF_ALLOWED_HOSTS'>,
  extraHosts: readonly string[] = [],
): UrlGuardOptions {
  if (config.NODE_ENV === 'production') return { allowedHosts: [] };
  const fromConfig = (config.SSRF_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return { allowedHosts: [...fromConfig, ...extraHosts] };
}
