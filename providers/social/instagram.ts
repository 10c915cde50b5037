import { expiresIn, markedCaption, matchExisting, type SocialHttp } from './http';
import type { PostMetrics, PublishedPost, SocialAccountAuth, SocialPostInput, SocialPublisher, TokenGrant } from './types';

export interface GraphPublisherOptions {
  /** https://graph.instagram.com (Instagram API with Instagram Login) or a sandbox. */
  baseUrl: string;
  apiVersion?: string;
  /** Wait between checks of a media container that is still processing. */
  pollIntervalMs?: number;
  maxPolls?: number;
}

interface GraphMedia {
  id: string;
  caption?: string;
  permalink?: string;
  timestamp?: string;
}

/** Instagram content publishing: create a media container, wait until it is FINISHED, publish it. */
export class InstagramPublisher implements SocialPublisher {
  readonly platform = 'instagram' as const;

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

  /** Instagram long-lived tokens are refreshed with themselves (no separate refresh token). */
  async refreshToken(longLivedToken: string): Promise<TokenGrant> {
    const url = `${this.options.baseUrl}/refresh_access_token?grant_type=ig_refresh_token&access_token=${encodeURIComponent(longLivedToken)}`;
    const { body } = await this.http.request<{ access_token: string; expires_in?: number }>(url);
    return { accessToken: body.access_token, refreshToken: body.access_token, expiresAt: expiresIn(body.expires_in) };
  }
}
