import { expiresIn, markedCaption, matchExisting, postMarker, SocialApiError, type SocialHttp } from './http';
import type { PostMetrics, PublishedPost, SocialAccountAuth, SocialPostInput, SocialPublisher, TokenGrant } from './types';

export interface TikTokPublisherOptions {
  /** https://open.tiktokapis.com or a sandbox. */
  baseUrl: string;
  clientKey: string;
  clientSecret: string;
  pollIntervalMs?: number;
  maxPolls?: number;
}

interface TikTokVideo {
  id: string;
  title?: string;
  video_description?: string;
  share_url?: string;
  create_time?: number;
  view_count?: number;
  like_count?: number;
  comment_count?: number;
  share_count?: number;
}

/** TikTok Content Posting API: direct post pulled from a URL, then the publish status is polled. */
export class TikTokPublisher implements SocialPublisher {
  readonly platform = 'tiktok' as const;

  constructor(
    private readonly http: SocialHttp,
    private readonly options: TikTokPublisherOptions,
  ) {}

  private async videos(account: SocialAccountAuth, ids: string[], fields: string): Promise<TikTokVideo[]> {
    const { body } = await this.http.request<{ data: { videos: TikTokVideo[] } }>(
      `${this.options.baseUrl}/v2/video/query/?fields=${fields}`,
      {
        method: 'POST',
        bearer: account.accessToken,
        json: { filters: { video_ids: ids } },
      },
    );
    return body.data.videos;
  }

  async publish(post: SocialPostInput): Promise<PublishedPost> {
    const { account } = post;
    const photo = post.mediaType !== 'video';
    const init = photo
      ? {
          url: `${this.options.baseUrl}/v2/post/publish/content/init/`,
          json: {
            post_info: { title: post.caption.slice(0, 90), description: markedCaption(post), privacy_level: 'PUBLIC_TO_EVERYONE' },
            source_info: { source: 'PULL_FROM_URL', photo_images: post.mediaUrls, photo_cover_index: 0 },
            post_mode: 'DIRECT_POST',
            media_type: 'PHOTO',
          },
        }
      : {
          url: `${this.options.baseUrl}/v2/post/publish/video/init/`,
          json: {
            post_info: { title: markedCaption(post), privacy_level: 'PUBLIC_TO_EVERYONE' },
            source_info: { source: 'PULL_FROM_URL', video_url: post.mediaUrls[0] },
          },
        };
    const { body } = await this.http.request<{ data: { publish_id: string } }>(init.url, {
      method: 'POST',
      bearer: account.accessToken,
      json: init.json,
    });
    const approximateId = await this.waitForPublish(account, body.data.publish_id);
    // The status answer carries the post id as a JSON number, which loses digits beyond 2^53 in
    // JavaScript; the exact id (a string) comes from the account's video list.
    const exact = await this.findExisting(post);
    return (
      exact ?? {
        platformPostId: approximateId,
        platformUrl: `https://www.tiktok.com/@${account.username ?? account.platformUserId}/video/${approximateId}`,
      }
    );
  }

  private async waitForPublish(account: SocialAccountAuth, publishId: string): Promise<string> {
    const maxPolls = this.options.maxPolls ?? 60;
    for (let poll = 0; poll < maxPolls; poll += 1) {
      const { body } = await this.http.request<{
        data: { status: string; fail_reason?: string; publicaly_available_post_id?: Array<string | number> };
      }>(`${this.options.baseUrl}/v2/post/publish/status/fetch/`, {
        method: 'POST',
        bearer: account.accessToken,
        json: { publish_id: publishId },
      });
      const { status, fail_reason: reason, publicaly_available_post_id: ids } = body.data;
      if (status === 'PUBLISH_COMPLETE' && ids?.[0] !== undefined) return String(ids[0]);
      if (status === 'FAILED') throw new Error(`tiktok: publish ${publishId} failed: ${reason ?? 'unknown reason'}`);
      await new Promise((r) => setTimeout(r, this.options.pollIntervalMs ?? 3000));
    }
    throw new Error(`tiktok: publish ${publishId} still processing after ${maxPolls} checks`);
  }

  async findExisting(post: SocialPostInput): Promise<PublishedPost | null> {
    const { body } = await this.http.request<{ data: { videos: TikTokVideo[] } }>(
      `${this.options.baseUrl}/v2/video/list/?fields=id,title,video_description,share_url,create_time`,
      { method: 'POST', bearer: post.account.accessToken, json: { max_count: 20 } },
    );
    return matchExisting(post, body.data.videos, (v) => ({
      // Video posts carry the caption as the title, photo posts as the description.
      text: [v.title, v.video_description].find((t) => t?.includes(postMarker(post.postId))) ?? (v.video_description || v.title || ''),
      createdAt: v.create_time ? new Date(v.create_time * 1000).toISOString() : undefined,
      published: { platformPostId: v.id, platformUrl: v.share_url ?? '' },
    }));
  }

  async fetchMetrics(account: SocialAccountAuth, platformPostId: string): Promise<PostMetrics> {
    const [video] = await this.videos(account, [platformPostId], 'id,view_count,like_count,comment_count,share_count');
    if (!video)
      throw new SocialApiError('tiktok', 'POST', `${this.options.baseUrl}/v2/video/query/`, 404, new Headers(), {
        error: { code: 'not_found', message: `no video ${platformPostId}` },
      });
    return {
      views: video.view_count ?? null,
      likes: video.like_count ?? null,
      comments: video.comment_count ?? null,
      shares: video.share_count ?? null,
    };
  }

  async refreshToken(refreshToken: string): Promise<TokenGrant> {
    const url = `${this.options.baseUrl}/v2/oauth/token/`;
    const { body } = await this.http.request<{ access_token?: string; refresh_token?: string; expires_in?: number; error?: string }>(url, {
      method: 'POST',
      form: {
        client_key: this.options.clientKey,
        client_secret: this.options.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      },
    });
    // TikTok may answer an OAuth error with HTTP 200 and an `error` field.
    if (body.error || !body.access_token) throw new SocialApiError('tiktok', 'POST', url, 400, new Headers(), body);
    return { accessToken: body.access_token, refreshToken: body.refresh_token ?? refreshToken, expiresAt: expiresIn(body.expires_in) };
  }
}
