import { expiresIn, markedCaption, matchExisting, type SocialHttp } from './http';
import type {
  AccountInsights,
  PostMetrics,
  PublishedPost,
  SocialAccountAuth,
  SocialInsights,
  SocialPostInput,
  SocialPublisher,
  TokenGrant,
} from './types';

export interface FacebookPublisherOptions {
  /** https://graph.facebook.com or a sandbox. */
  baseUrl: string;
  apiVersion?: string;
  /** The Meta app, for exchanging long-lived tokens. */
  clientId: string;
  clientSecret: string;
}

interface FeedPost {
  id: string;
  message?: string;
  permalink_url?: string;
  created_time?: string;
}

/** Facebook Page posting: photos, videos (pulled from a URL) and link/text posts on the page feed. */
export class FacebookPublisher implements SocialPublisher, SocialInsights {
  readonly platform = 'facebook' as const;

  constructor(
    private readonly http: SocialHttp,
    private readonly options: FacebookPublisherOptions,
  ) {}

  private api(path: string): string {
    return `${this.options.baseUrl}/${this.options.apiVersion ?? 'v23.0'}${path}`;
  }

  async publish(post: SocialPostInput): Promise<PublishedPost> {
    const { account } = post;
    const page = account.platformUserId;
    const [url] = post.mediaUrls;
    const text = markedCaption(post);
    let postId: string;
    if (url && post.mediaType === 'image') {
      const { body } = await this.http.request<{ id: string; post_id: string }>(this.api(`/${page}/photos`), {
        method: 'POST',
        bearer: account.accessToken,
        form: { url, caption: text },
      });
      postId = body.post_id;
    } else if (url && post.mediaType === 'video') {
      const { body } = await this.http.request<{ id: string }>(this.api(`/${page}/videos`), {
        method: 'POST',
        bearer: account.accessToken,
        form: { file_url: url, description: text },
      });
      postId = body.id;
    } else {
      const form: Record<string, string> = { message: text };
      if (url) form.link = url;
      const { body } = await this.http.request<{ id: string }>(this.api(`/${page}/feed`), {
        method: 'POST',
        bearer: account.accessToken,
        form,
      });
      postId = body.id;
    }
    const { body } = await this.http.request<FeedPost>(this.api(`/${postId}?fields=id,permalink_url`), { bearer: account.accessToken });
    return { platformPostId: postId, platformUrl: body.permalink_url ?? `https://www.facebook.com/${postId}` };
  }

  async findExisting(post: SocialPostInput): Promise<PublishedPost | null> {
    const { body } = await this.http.request<{ data: FeedPost[] }>(
      this.api(`/${post.account.platformUserId}/feed?fields=id,message,permalink_url,created_time&limit=50`),
      { bearer: post.account.accessToken },
    );
    return matchExisting(post, body.data, (p) => ({
      text: p.message ?? '',
      createdAt: p.created_time,
      published: { platformPostId: p.id, platformUrl: p.permalink_url ?? '' },
    }));
  }

  async fetchMetrics(account: SocialAccountAuth, platformPostId: string): Promise<PostMetrics> {
    const { body } = await this.http.request<{
      reactions?: { summary?: { total_count: number } };
      comments?: { summary?: { total_count: number } };
      shares?: { count: number };
    }>(this.api(`/${platformPostId}?fields=reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares`), {
      bearer: account.accessToken,
    });
    return {
      views: null,
      likes: body.reactions?.summary?.total_count ?? 0,
      comments: body.comments?.summary?.total_count ?? 0,
      shares: body.shares?.count ?? 0,
    };
  }

  /** The page's insights of one day (`period=day`) and its follower count. */
  async fetchDailyInsights(account: SocialAccountAuth, date: string): Promise<AccountInsights> {
    const page = account.platformUserId;
    const { body: profile } = await this.http.request<{ followers_count?: number; fan_count?: number }>(
      this.api(`/${page}?fields=followers_count,fan_count`),
      { bearer: account.accessToken },
    );
    const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const metrics = 'page_impressions,page_impressions_unique,page_post_engagements,page_fan_adds,page_fan_removes,page_video_views';
    const { body } = await this.http.request<{ data: Array<{ name: string; values: Array<{ value: number }> }> }>(
      this.api(`/${page}/insights?metric=${metrics}&period=day&since=${date}&until=${next}`),
      { bearer: account.accessToken },
    );
    const metric = (name: string) => body.data.find((m) => m.name === name)?.values[0]?.value ?? null;
    return {
      followers: profile.followers_count ?? profile.fan_count ?? null,
      followersGained: metric('page_fan_adds'),
      followersLost: metric('page_fan_removes'),
      impressions: metric('page_impressions'),
      reach: metric('page_impressions_unique'),
      engagement: metric('page_post_engagements'),
      views: metric('page_video_views'),
      likes: null,
      comments: null,
      shares: null,
      postsPublished: null,
      raw: { profile, insights: body.data },
    };
  }

  /** Exchanges a long-lived token for a fresh one (Facebook has no separate refresh token). */
  async refreshToken(longLivedToken: string): Promise<TokenGrant> {
    const query = new URLSearchParams({
      grant_type: 'fb_exchange_token',
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      fb_exchange_token: longLivedToken,
    });
    const { body } = await this.http.request<{ access_token: string; expires_in?: number }>(
      this.api(`/oauth/access_token?${query.toString()}`),
    );
    return { accessToken: body.access_token, refreshToken: body.access_token, expiresAt: expiresIn(body.expires_in) };
  }
}
