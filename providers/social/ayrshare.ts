import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../schemas/failures';
import type { ProviderCall } from '../call';
import { ProviderHttpError } from '../errors';
import { markedCaption, matchExisting } from './http';
import type { PostMetrics, PublishedPost, PublishPlatform, SocialAccountAuth, SocialPostInput, SocialPublisher, TokenGrant } from './types';

export const PRODUCTION_AYRSHARE_URL = 'https://api.ayrshare.com';

/** Ayrshare's names of the networks we post to. */
const AYRSHARE_NETWORK: Record<PublishPlatform, string> = {
  instagram: 'instagram',
  facebook: 'facebook',
  tiktok: 'tiktok',
  linkedin: 'linkedin',
  x: 'twitter',
  youtube: 'youtube',
};

interface AyrsharePlatformPost {
  status: string;
  id?: string;
  platform: string;
  postUrl?: string;
}

interface AyrshareError {
  platform?: string;
  code?: number;
  message?: string;
}

/** POST /api/post, GET /api/post/:id and the items of GET /api/history. */
interface AyrsharePost {
  status: string;
  id?: string;
  post?: string;
  created?: string;
  postIds?: AyrsharePlatformPost[];
  errors?: AyrshareError[];
}

export interface AyrshareOptions {
  /** https://api.ayrshare.com or the sandbox. */
  baseUrl: string;
  /** The Primary Profile's API key (Authorization: Bearer); each user's profile key goes in Profile-Key. */
  apiKey: string;
  call: ProviderCall;
  timeoutMs?: number;
}

/** Ayrshare's error text: its top-level message, else each network's. */
function describeErrors(data: unknown): string {
  const body = data as { message?: string; errors?: AyrshareError[] } | undefined;
  const messages = [body?.message, ...(body?.errors ?? []).map((e) => [e.platform, e.message].filter(Boolean).join(': '))];
  return messages.filter((m): m is string => typeof m === 'string' && m !== '').join('; ');
}

/**
 * Ayrshare's REST API over fetch (the `social-media-api` client hard-codes its URL and never
 * throws): non-2xx answers become ProviderHttpError carrying Ayrshare's messages, classified by the
 * shared `call` (429/5xx retryable, 401/403 ProviderAuth, other 4xx InvalidInput).
 */
export class AyrshareClient {
  constructor(private readonly options: AyrshareOptions) {}

  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, profileKey: string, json?: unknown): Promise<T> {
    const url = `${this.options.baseUrl}${path}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${this.options.apiKey}`,
      'profile-key': profileKey,
    };
    if (json !== undefined) headers['content-type'] = 'application/json';
    return this.options.call(async () => {
      const response = await fetch(url, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      const text = await response.text();
      let data: unknown = text;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      if (!response.ok) {
        const detail = describeErrors(data);
        throw new ProviderHttpError(
          response.status,
          response.headers,
          data,
          `ayrshare ${method} ${path.split('?')[0]} answered HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
        );
      }
      return data as T;
    });
  }

  /** The User Profile behind a profile key (GET /api/user): its title and the networks linked to it. */
  async profile(profileKey: string): Promise<{ title: string | null; activeSocialAccounts: string[] }> {
    const user = await this.request<{ title?: string; activeSocialAccounts?: string[] }>('GET', '/api/user', profileKey);
    return { title: user.title ?? null, activeSocialAccounts: user.activeSocialAccounts ?? [] };
  }

  /** A publisher that posts to one network through the user's Ayrshare profile (the account's token is its profile key). */
  publisherFor(platform: PublishPlatform): AyrsharePublisher {
    return new AyrsharePublisher(this, platform);
  }
}

export class AyrsharePublisher implements SocialPublisher {
  private readonly network: string;

  constructor(
    private readonly client: AyrshareClient,
    readonly platform: PublishPlatform,
  ) {
    this.network = AYRSHARE_NETWORK[platform];
  }

  private published(post: AyrsharePost): PublishedPost | null {
    const result = post.postIds?.find((p) => p.platform === this.network && p.status === 'success' && p.id);
    if (!result?.id) return null;
    return { platformPostId: result.id, platformUrl: result.postUrl ?? '', ayrsharePostId: post.id };
  }

  /** One network per request, so each target succeeds, fails and is retried on its own; the idempotency key is our post id and network. */
  async publish(post: SocialPostInput): Promise<PublishedPost> {
    const answer = await this.client.request<AyrsharePost>('POST', '/api/post', post.account.accessToken, {
      post: markedCaption(post),
      platforms: [this.network],
      ...(post.mediaUrls.length > 0 ? { mediaUrls: post.mediaUrls, isVideo: post.mediaType === 'video' } : {}),
      idempotencyKey: `${post.postId}-${this.network}`,
    });
    const published = this.published(answer);
    if (!published)
      throw ApplicationFailure.nonRetryable(
        `ayrshare: ${this.network} did not publish the post${describeErrors(answer) ? ` (${describeErrors(answer)})` : ''}`,
        FailureType.InvalidInput,
      );
    return published;
  }

  /** Our earlier post among the profile's recent Ayrshare history (the marker in its text). */
  async findExisting(post: SocialPostInput): Promise<PublishedPost | null> {
    const { history } = await this.client.request<{ history?: AyrsharePost[] }>(
      'GET',
      `/api/history?limit=50&platforms=${this.network}`,
      post.account.accessToken,
    );
    const candidates = (history ?? []).flatMap((item) => {
      const published = this.published(item);
      return published ? [{ item, published }] : [];
    });
    return matchExisting(post, candidates, ({ item, published }) => ({ text: item.post ?? '', createdAt: item.created, published }));
  }

  /** Ayrshare's analytics of one network post, looked up by the network's id. */
  async fetchMetrics(account: SocialAccountAuth, platformPostId: string): Promise<PostMetrics> {
    const answer = await this.client.request<Record<string, { analytics?: Record<string, number | undefined> } | undefined>>(
      'POST',
      '/api/analytics/post',
      account.accessToken,
      { id: platformPostId, platforms: [this.network], searchPlatformId: true },
    );
    const analytics = answer[this.network]?.analytics ?? {};
    const count = (...keys: string[]) => keys.map((k) => analytics[k]).find((v): v is number => typeof v === 'number') ?? null;
    return {
      views: count('views', 'videoViews', 'impressionCount', 'impressions'),
      likes: count('likes', 'likeCount', 'reactions'),
      comments: count('comments', 'commentsCount', 'replyCount'),
      shares: count('shares', 'shareCount', 'retweetCount'),
    };
  }

  /** A profile key does not expire: a refused one must be replaced by connecting Ayrshare again. */
  refreshToken(): Promise<TokenGrant> {
    return Promise.reject(
      ApplicationFailure.nonRetryable('the Ayrshare profile key was refused; connect Ayrshare again', FailureType.ProviderAuth),
    );
  }
}
