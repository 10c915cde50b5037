import { createHash } from 'node:crypto';
import type { ProviderCall } from '../call';
import type { PublishedPost, SocialPostInput } from './types';

/**
 * A non-2xx answer of a platform API. Shaped like an HTTP client error (`response.status`,
 * `response.headers`, `response.data`) so the shared classification reads status, Retry-After
 * and OAuth reasons such as `invalid_grant` from it.
 */
export class SocialApiError extends Error {
  override name = 'SocialApiError';
  readonly response: { status: number; headers: Headers; data: unknown };

  constructor(platform: string, method: string, url: string, status: number, headers: Headers, data: unknown) {
    super(`${platform} ${method} ${new URL(url).pathname} answered HTTP ${status}`);
    this.response = { status, headers, data };
  }
}

export interface SocialRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  bearer?: string;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface SocialResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch for one platform's API, under the shared limiter and error classification. */
export class SocialHttp {
  constructor(
    readonly platform: string,
    private readonly call: ProviderCall,
    /** Platform errors that mean "token expired or revoked" without a 401 (Meta's Graph API: code 190 on a 400). */
    private readonly isAuthError: (status: number, data: unknown) => boolean = () => false,
    private readonly timeoutMs = 30_000,
  ) {}

  async request<T>(url: string, req: SocialRequest = {}): Promise<SocialResponse<T>> {
    const method = req.method ?? 'GET';
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (req.bearer) headers.authorization = `Bearer ${req.bearer}`;
    let body: string | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(req.form).toString();
    }
    return this.call(async () => {
      const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await response.text();
      let data: unknown = text;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      if (!response.ok) {
        const status = this.isAuthError(response.status, data) ? 401 : response.status;
        throw new SocialApiError(this.platform, method, url, status, response.headers, data);
      }
      return { status: response.status, headers: response.headers, body: data as T };
    });
  }
}

// Our post id travels in the caption as invisible characters: a separator, then 8 hex digits
// of the id's hash as 16 base-4 digits drawn from four zero-width characters.
const MARKER_START = '\u2063';
const ZERO_WIDTH = '\u200b\u200c\u200d\u2060';
// An alternation, not a character class: U+200D is a joiner and would fuse with its neighbours.
const MARKER_PATTERN = new RegExp(`${MARKER_START}(?:${[...ZERO_WIDTH].join('|')}){16}`, 'u');

export function postMarker(postId: string): string {
  // A hash, not a prefix: time-ordered ids (uuid v7) of posts made close together share prefixes.
  const hex = createHash('sha256').update(postId).digest('hex').slice(0, 8);
  let out = MARKER_START;
  for (const digit of hex) {
    const n = parseInt(digit, 16);
    out += ZERO_WIDTH.charAt(n >> 2) + ZERO_WIDTH.charAt(n & 3);
  }
  return out;
}

/** The caption as published: the text with our invisible marker appended. */
export const markedCaption = (post: SocialPostInput) => `${post.caption}${postMarker(post.postId)}`;

/**
 * Picks our earlier post among the account's recent ones: the one carrying our marker, or, if a
 * platform stripped the invisible characters, the one with exactly our caption made after `since`.
 */
export function matchExisting<T>(
  post: Pick<SocialPostInput, 'postId' | 'caption' | 'since'>,
  candidates: T[],
  view: (candidate: T) => { text: string; createdAt?: string; published: PublishedPost },
): PublishedPost | null {
  const marker = postMarker(post.postId);
  const seen = candidates.map(view);
  const byMarker = seen.find((c) => c.text.includes(marker));
  if (byMarker) return byMarker.published;
  const since = post.since ? Date.parse(post.since) : undefined;
  // A post carrying some other marker is someone else's, even with the same caption.
  const byText = seen.find(
    (c) =>
      !MARKER_PATTERN.test(c.text) &&
      c.text === post.caption &&
      (since === undefined || !c.createdAt || Date.parse(c.createdAt) >= since - 60_000),
  );
  return byText?.published ?? null;
}

/** Meta Graph API: OAuthException code 190 (token expired, revoked or invalid) is an auth failure. */
export function isGraphAuthError(_status: number, data: unknown): boolean {
  const error = (data as { error?: { code?: number } } | undefined)?.error;
  return typeof error === 'object' && error !== null && error.code === 190;
}

/** ISO time `seconds` from now, for `expires_in`. */
export const expiresIn = (seconds: number | undefined) => (seconds ? new Date(Date.now() + seconds * 1000).toISOString() : null);

/** The reply as published: its text with the invisible marker of our comment row. */
export const markedReply = (input: { text: string; replyKey: string }) => `${input.text}${postMarker(input.replyKey)}`;

/** Our earlier reply among a comment's replies: the one carrying the marker of our comment row (or exactly our text). */
export function matchReply<T>(
  input: { text: string; replyKey: string; since?: string },
  candidates: T[],
  view: (candidate: T) => { id: string; text: string; createdAt?: string },
): { platformReplyId: string } | null {
  const found = matchExisting({ postId: input.replyKey, caption: input.text, since: input.since }, candidates, (c) => {
    const { id, text, createdAt } = view(c);
    return { text, createdAt, published: { platformPostId: id, platformUrl: '' } };
  });
  return found ? { platformReplyId: found.platformPostId } : null;
}

/** `YYYY-MM-DD` → the unix seconds of that UTC day's start and of the next day's. */
export function utcDayBounds(date: string): { since: number; until: number } {
  const since = Date.parse(`${date}T00:00:00Z`) / 1000;
  return { since, until: since + 86_400 };
}
