import { MAX_REPLY_LENGTH } from '../../schemas/social-insights';
import { expiresIn, markedCaption, markedReply, matchExisting, matchReply, utcDayBounds, type SocialHttp } from './http';
import type {
  AccountInsights,
  CommentReplyInput,
  PlatformComment,
  PostMetrics,
  PublishedPost,
  SocialAccountAuth,
  SocialComments,
  SocialInsights,
  SocialPostInput,
  SocialPublisher,
  TokenGrant,
} from './types';

export interface GraphPublisherOptions {
  /** https://graph.instagram.com (Instagram API with Instagram Login) or a sandbox. */
  baseUrl: string;
  apiVersion?: string;
  /** Wait between checks of a media container that is still processing. */
  pollIntervalMs?: number;
  maxPolls?: number;
}

interface GraphComment {
  id: string;
  text?: string;
  username?: string;
  timestamp?: string;
  from?: { id?: string; username?: string };
}

type GraphInsights = { data: Array<{ name: string; values: Array<{ value: number }> }> };
const metricOf = (body: GraphInsights, name: string) => body.data.find((m) => m.name === name)?.values[0]?.value ?? null;

interface GraphMedia {
  id: string;
  caption?: string;
  permalink?: string;
  timestamp?: string;
}

/** Instagram content publishing: create a media container, wait until it is FINISHED, publish it. */
export class InstagramPublisher implements SocialPublisher, SocialInsights, SocialComments {
  readonly platform = 'instagram' as const;
  readonly maxReplyLength = MAX_REPLY_LENGTH.instagram;

  constructor(
    private readonly http: SocialHttp,
    private readonly options: GraphPublisherOptions,
  ) {}

  private api(path: string): string {
    return `${this.options.baseUrl}/${this.options.apiVersion ?? 'v23.0'}${path}`;
  }

  private async container(account: SocialAccountAuth, params: Record<string, string>): Promise<string> {
    const { body } = await this.http.request<{ id: string }>(this.api(`/${account.platformUserId}/media`), {
      method: 'POST',
      bearer: account.accessToken,
      form: params,
    });
    return body.id;
  }

  private async waitUntilFinished(account: SocialAccountAuth, containerId: string): Promise<void> {
    const maxPolls = this.options.maxPolls ?? 60;
    for (let poll = 0; poll < maxPolls; poll += 1) {
      const { body } = await this.http.request<{ status_code: string }>(this.api(`/${containerId}?fields=status_code`), {
        bearer: account.accessToken,
      });
      if (body.status_code === 'FINISHED') return;
      if (body.status_code === 'ERROR' || body.status_code === 'EXPIRED')
        throw new Error(`instagram: media container ${containerId} ended ${body.status_code}`);
      await new Promise((r) => setTimeout(r, this.options.pollIntervalMs ?? 3000));
    }
    throw new Error(`instagram: media container ${containerId} still processing after ${maxPolls} checks`);
  }

  async publish(post: SocialPostInput): Promise<PublishedPost> {
    const { account } = post;
    const media = (url: string, carouselItem: boolean): Record<string, string> => {
      const video = post.mediaType === 'video' || /\.(mp4|mov|webm)(\?|$)/i.test(url);
      const kind: Record<string, string> = video ? { media_type: carouselItem ? 'VIDEO' : 'REELS', video_url: url } : { image_url: url };
      return carouselItem ? { ...kind, is_carousel_item: 'true' } : kind;
    };
    let containerId: string;
    if (post.mediaType === 'carousel') {
      const children: string[] = [];
      for (const url of post.mediaUrls) children.push(await this.container(account, media(url, true)));
      for (const child of children) await this.waitUntilFinished(account, child);
      containerId = await this.container(account, { media_type: 'CAROUSEL', children: children.join(','), caption: markedCaption(post) });
    } else {
      const [url] = post.mediaUrls;
      if (!url) throw new Error('instagram: a post needs an image or video URL');
      containerId = await this.container(account, { ...media(url, false), caption: markedCaption(post) });
    }
    await this.waitUntilFinished(account, containerId);
    const { body } = await this.http.request<{ id: string }>(this.api(`/${account.platformUserId}/media_publish`), {
      method: 'POST',
      bearer: account.accessToken,
      form: { creation_id: containerId },
    });
    const { body: published } = await this.http.request<GraphMedia>(this.api(`/${body.id}?fields=id,permalink`), {
      bearer: account.accessToken,
    });
    return { platformPostId: body.id, platformUrl: published.permalink ?? `https://www.instagram.com/` };
  }

  async findExisting(post: SocialPostInput): Promise<PublishedPost | null> {
    const { body } = await this.http.request<{ data: GraphMedia[] }>(
      this.api(`/${post.account.platformUserId}/media?fields=id,caption,permalink,timestamp&limit=50`),
      { bearer: post.account.accessToken },
    );
    return matchExisting(post, body.data, (m) => ({
      text: m.caption ?? '',
      createdAt: m.timestamp,
      published: { platformPostId: m.id, platformUrl: m.permalink ?? '' },
    }));
  }

  async fetchMetrics(account: SocialAccountAuth, platformPostId: string): Promise<PostMetrics> {
    const { body } = await this.http.request<{ data: Array<{ name: string; values: Array<{ value: number }> }> }>(
      this.api(`/${platformPostId}/insights?metric=views,likes,comments,shares`),
      { bearer: account.accessToken },
    );
    const metric = (name: string) => body.data.find((m) => m.name === name)?.values[0]?.value ?? null;
    return { views: metric('views'), likes: metric('likes'), comments: metric('comments'), shares: metric('shares') };
  }

  /** The account's insights of one day (`period=day`) and its follower count. */
  async fetchDailyInsights(account: SocialAccountAuth, date: string): Promise<AccountInsights> {
    const { since, until } = utcDayBounds(date);
    const { body: profile } = await this.http.request<{ followers_count?: number; media_count?: number }>(
      this.api(`/${account.platformUserId}?fields=followers_count,media_count`),
      { bearer: account.accessToken },
    );
    const metrics = 'reach,impressions,follower_count,total_interactions,views,likes,comments,shares';
    const { body } = await this.http.request<GraphInsights>(
      this.api(`/${account.platformUserId}/insights?metric=${metrics}&period=day&since=${since}&until=${until}`),
      { bearer: account.accessToken },
    );
    return {
      followers: profile.followers_count ?? null,
      followersGained: metricOf(body, 'follower_count'),
      followersLost: null,
      impressions: metricOf(body, 'impressions'),
      reach: metricOf(body, 'reach'),
      engagement: metricOf(body, 'total_interactions'),
      views: metricOf(body, 'views'),
      likes: metricOf(body, 'likes'),
      comments: metricOf(body, 'comments'),
      shares: metricOf(body, 'shares'),
      postsPublished: null,
      raw: { profile, insights: body.data },
    };
  }

  async listComments(account: SocialAccountAuth, platformPostId: string): Promise<PlatformComment[]> {
    const { body } = await this.http.request<{ data: GraphComment[] }>(
      this.api(`/${platformPostId}/comments?fields=id,text,username,timestamp,from&limit=50`),
      { bearer: account.accessToken },
    );
    return body.data
      .filter((c) => c.from?.id !== account.platformUserId)
      .map((c) => ({
        id: c.id,
        text: c.text ?? '',
        authorId: c.from?.id ?? null,
        authorUsername: c.username ?? c.from?.username ?? null,
        postedAt: c.timestamp ?? new Date().toISOString(),
      }));
  }

  async reply(input: CommentReplyInput): Promise<{ platformReplyId: string }> {
    const { body } = await this.http.request<{ id: string }>(this.api(`/${input.commentId}/replies`), {
      method: 'POST',
      bearer: input.account.accessToken,
      form: { message: markedReply(input) },
    });
    return { platformReplyId: body.id };
  }

  async findReply(input: CommentReplyInput): Promise<{ platformReplyId: string } | null> {
    const { body } = await this.http.request<{ data: GraphComment[] }>(
      this.api(`/${input.commentId}/replies?fields=id,text,timestamp&limit=50`),
      { bearer: input.account.accessToken },
    );
    return matchReply(input, body.data, (c) => ({ id: c.id, text: c.text ?? '', createdAt: c.timestamp }));
  }

  /** Instagram long-lived tokens are refreshed with themselves (no separate refresh token). */
  async refreshToken(longLivedToken: string): Promise<TokenGrant> {
    const url = `${this.options.baseUrl}/refresh_access_token?grant_type=ig_refresh_token&access_token=${encodeURIComponent(longLivedToken)}`;
    const { body } = await this.http.request<{ access_token: string; expires_in?: number }>(url);
    return { accessToken: body.access_token, refreshToken: body.access_token, expiresAt: expiresIn(body.expires_in) };
  }
}
