import { expiresIn, markedCaption, matchExisting, type SocialHttp } from './http';
import type { PostMetrics, PublishedPost, SocialAccountAuth, SocialPostInput, SocialPublisher, TokenGrant } from './types';

export interface XPublisherOptions {
  /** https://api.x.com or a sandbox. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
}

interface Tweet {
  id: string;
  text: string;
  created_at?: string;
  public_metrics?: { retweet_count: number; reply_count: number; like_count: number; quote_count: number; impression_count?: number };
}

const tweetUrl = (id: string, username?: string) => `https://x.com/${username ?? 'i'}/status/${id}`;

/** X API v2 (`POST /2/tweets`): the caption, with media shared as links (no chunked media upload). */
export class XPublisher implements SocialPublisher {
  readonly platform = 'x' as const;

  constructor(
    private readonly http: SocialHttp,
    private readonly options: XPublisherOptions,
  ) {}

  async publish(post: SocialPostInput): Promise<PublishedPost> {
    const text = [post.caption, ...post.mediaUrls].join(' ');
    const { body } = await this.http.request<{ data: Tweet }>(`${this.options.baseUrl}/2/tweets`, {
      method: 'POST',
      bearer: post.account.accessToken,
      json: { text: markedCaption({ ...post, caption: text }) },
    });
    return { platformPostId: body.data.id, platformUrl: tweetUrl(body.data.id, post.account.username) };
  }

  async findExisting(post: SocialPostInput): Promise<PublishedPost | null> {
    const { body } = await this.http.request<{ data?: Tweet[] }>(
      `${this.options.baseUrl}/2/users/${encodeURIComponent(post.account.platformUserId)}/tweets?max_results=20&tweet.fields=created_at`,
      { bearer: post.account.accessToken },
    );
    const caption = [post.caption, ...post.mediaUrls].join(' ');
    return matchExisting({ ...post, caption }, body.data ?? [], (t) => ({
      text: t.text,
      createdAt: t.created_at,
      published: { platformPostId: t.id, platformUrl: tweetUrl(t.id, post.account.username) },
    }));
  }

  async fetchMetrics(account: SocialAccountAuth, platformPostId: string): Promise<PostMetrics> {
    const { body } = await this.http.request<{ data: Tweet }>(
      `${this.options.baseUrl}/2/tweets/${encodeURIComponent(platformPostId)}?tweet.fields=public_metrics`,
      {
        bearer: account.accessToken,
      },
    );
    const m = body.data.public_metrics;
    return {
      views: m?.impression_count ?? null,
      likes: m?.like_count ?? null,
      comments: m?.reply_count ?? null,
      shares: m ? m.retweet_count + m.quote_count : null,
    };
  }

  async refreshToken(refreshToken: string): Promise<TokenGrant> {
    const basic = Buffer.from(`${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(this.options.clientSecret)}`).toString(
      'base64',
    );
    const { body } = await this.http.request<{ access_token: string; refresh_token?: string; expires_in?: number }>(
      `${this.options.baseUrl}/2/oauth2/token`,
      {
        method: 'POST',
        headers: { authorization: `Basic ${basic}` },
        form: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: this.options.clientId },
      },
    );
    return { accessToken: body.access_token, refreshToken: body.refresh_token ?? refreshToken, expiresAt: expiresIn(body.expires_in) };
  }
}
