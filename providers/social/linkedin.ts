import { expiresIn, markedCaption, matchExisting, type SocialHttp } from './http';
import type { PostMetrics, PublishedPost, SocialAccountAuth, SocialPostInput, SocialPublisher, TokenGrant } from './types';

export interface LinkedInPublisherOptions {
  /** https://api.linkedin.com or a sandbox. */
  baseUrl: string;
  /** https://www.linkedin.com (token endpoint host) or a sandbox. */
  oauthBaseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Monthly API version header (YYYYMM). */
  apiVersion?: string;
}

interface LinkedInPost {
  id: string;
  commentary?: string;
  createdAt?: number;
}

const postUrl = (urn: string) => `https://www.linkedin.com/feed/update/${urn}/`;

/** LinkedIn Posts API (`/rest/posts`): text posts, with the first media URL shared as an article link. */
export class LinkedInPublisher implements SocialPublisher {
  readonly platform = 'linkedin' as const;

  constructor(
    private readonly http: SocialHttp,
    private readonly options: LinkedInPublisherOptions,
  ) {}

  private headers() {
    return { 'LinkedIn-Version': this.options.apiVersion ?? '202510', 'X-Restli-Protocol-Version': '2.0.0' };
  }

  async publish(post: SocialPostInput): Promise<PublishedPost> {
    const [url] = post.mediaUrls;
    const { headers } = await this.http.request(`${this.options.baseUrl}/rest/posts`, {
      method: 'POST',
      bearer: post.account.accessToken,
      headers: this.headers(),
      json: {
        author: post.account.platformUserId,
        commentary: markedCaption(post),
        visibility: 'PUBLIC',
        distribution: { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] },
        ...(url ? { content: { article: { source: url, title: post.caption.slice(0, 200) } } } : {}),
        lifecycleState: 'PUBLISHED',
        isReshareDisabledByAuthor: false,
      },
    });
    const urn = headers.get('x-restli-id');
    if (!urn) throw new Error('linkedin: post created without an x-restli-id header');
    return { platformPostId: urn, platformUrl: postUrl(urn) };
  }

  async findExisting(post: SocialPostInput): Promise<PublishedPost | null> {
    const query = new URLSearchParams({ author: post.account.platformUserId, q: 'author', count: '50' });
    const { body } = await this.http.request<{ elements: LinkedInPost[] }>(`${this.options.baseUrl}/rest/posts?${query.toString()}`, {
      bearer: post.account.accessToken,
      headers: this.headers(),
    });
    return matchExisting(post, body.elements, (p) => ({
      text: p.commentary ?? '',
      createdAt: p.createdAt ? new Date(p.createdAt).toISOString() : undefined,
      published: { platformPostId: p.id, platformUrl: postUrl(p.id) },
    }));
  }

  async fetchMetrics(account: SocialAccountAuth, platformPostId: string): Promise<PostMetrics> {
    const { body } = await this.http.request<{
      likesSummary?: { totalLikes: number };
      commentsSummary?: { aggregatedTotalComments: number };
    }>(`${this.options.baseUrl}/rest/socialActions/${encodeURIComponent(platformPostId)}`, {
      bearer: account.accessToken,
      headers: this.headers(),
    });
    return {
      views: null,
      likes: body.likesSummary?.totalLikes ?? 0,
      comments: body.commentsSummary?.aggregatedTotalComments ?? 0,
      shares: null,
    };
  }

  async refreshToken(refreshToken: string): Promise<TokenGrant> {
    const { body } = await this.http.request<{ access_token: string; expires_in?: number; refresh_token?: string }>(
      `${this.options.oauthBaseUrl}/oauth/v2/accessToken`,
      {
        method: 'POST',
        form: {
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: this.options.clientId,
          client_secret: this.options.clientSecret,
        },
      },
    );
    return { accessToken: body.access_token, refreshToken: body.refresh_token ?? refreshToken, expiresAt: expiresIn(body.expires_in) };
  }
}
