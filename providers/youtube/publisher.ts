import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { safeFetch, type UrlGuardOptions } from '../../lib/ssrf';
import { YoutubePostOptionsSchema, youtubeTitle, type YoutubePostOptions } from '../../schemas/posts';
import { FailureType } from '../../schemas/failures';
import type { GoogleAuthAdapter } from '../google/auth';
import { markedCaption, matchExisting } from '../social/http';
import type { PostMetrics, PublishedPost, SocialAccountAuth, SocialPostInput, SocialPublisher, TokenGrant } from '../social/types';
import type { YoutubeAdapter } from './adapter';

/** Earlier attempts are looked for among this many of the channel's newest uploads (one page). */
const RECENT_UPLOADS = 50;

const watchUrl = (videoId: string) => `https://www.youtube.com/watch?v=${videoId}`;

/**
 * The bytes behind a post's media URL: a file of the local media store (`file:` URLs of rendered
 * clips), or a download of a public https URL through the SSRF guard.
 */
export async function openMediaUrl(url: string, guard: UrlGuardOptions = {}): Promise<Readable> {
  const parsed = new URL(url);
  if (parsed.protocol === 'file:') {
    const path = fileURLToPath(parsed);
    const found = await stat(path).catch(() => null);
    if (!found?.isFile()) throw ApplicationFailure.nonRetryable(`the post's media file is gone: ${url}`, FailureType.NotFound);
    return createReadStream(path);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw ApplicationFailure.nonRetryable(`cannot read media from ${parsed.protocol} URLs`, FailureType.InvalidInput);
  const res = await safeFetch(url, { timeoutMs: 30_000 }, guard);
  if (res.status === 404 || res.status === 410)
    throw ApplicationFailure.nonRetryable(`the post's media is gone (HTTP ${res.status}): ${url}`, FailureType.NotFound);
  if (!res.ok || !res.body)
    throw ApplicationFailure.retryable(`downloading the post's media failed with HTTP ${res.status}`, FailureType.ProviderUnavailable);
  return Readable.fromWeb(res.body as ReadableStream<Uint8Array>);
}

export interface YoutubePublisherOptions {
  youtube: YoutubeAdapter;
  googleAuth: GoogleAuthAdapter;
  /** The bytes of a media URL; defaults to openMediaUrl with the production SSRF guard. */
  openMedia?: (url: string) => Promise<Readable>;
}

/**
 * YouTube as a posting platform, on the googleapis adapter: the clip is uploaded with
 * videos.insert (title from the caption or platformOptions, the caption with our invisible post
 * marker as the description, hashtags as tags). A retried publish first looks for the marker among
 * the channel's newest uploads (channels.list mine → its uploads playlist, read with the owner's
 * token so private and unlisted uploads count), so an upload YouTube accepted is never repeated.
 */
export class YoutubePublisher implements SocialPublisher {
  readonly platform = 'youtube' as const;

  constructor(private readonly options: YoutubePublisherOptions) {}

  private settings(post: SocialPostInput): YoutubePostOptions {
    const parsed = YoutubePostOptionsSchema.safeParse(post.platformOptions ?? {});
    if (!parsed.success)
      throw ApplicationFailure.nonRetryable(
        `invalid YouTube platformOptions: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        FailureType.InvalidInput,
      );
    return parsed.data;
  }

  async publish(post: SocialPostInput): Promise<PublishedPost> {
    const [mediaUrl] = post.mediaUrls;
    if (post.mediaType !== 'video' || !mediaUrl || post.mediaUrls.length !== 1)
      throw ApplicationFailure.nonRetryable('a YouTube post is exactly one video', FailureType.InvalidInput);
    const settings = this.settings(post);
    const title = youtubeTitle(post.caption, settings);
    if (!title)
      throw ApplicationFailure.nonRetryable('a YouTube video needs a title: a caption or platformOptions.title', FailureType.InvalidInput);
    const body = await (this.options.openMedia ?? openMediaUrl)(mediaUrl);
    const uploaded = await this.options.youtube.uploadVideo({
      accessToken: post.account.accessToken,
      body,
      title,
      description: markedCaption(post),
      tags: post.hashtags?.map((tag) => tag.replace(/^#/, '')),
      categoryId: settings.categoryId,
      privacyStatus: settings.privacyStatus ?? 'public',
      madeForKids: settings.madeForKids,
    });
    return { platformPostId: uploaded.videoId, platformUrl: watchUrl(uploaded.videoId) };
  }

  async findExisting(post: SocialPostInput): Promise<PublishedPost | null> {
    const { accessToken } = post.account;
    const channel = await this.options.youtube.getChannel({ mine: true, accessToken });
    const uploads = await this.options.youtube.listUploads({
      uploadsPlaylistId: channel.uploadsPlaylistId,
      maxResults: RECENT_UPLOADS,
      accessToken,
    });
    return matchExisting(post, uploads.items, (video) => ({
      text: video.description,
      createdAt: video.publishedAt ?? undefined,
      published: { platformPostId: video.videoId, platformUrl: watchUrl(video.videoId) },
    }));
  }

  async fetchMetrics(account: SocialAccountAuth, platformPostId: string): Promise<PostMetrics> {
    const [video] = await this.options.youtube.getVideos([platformPostId], { accessToken: account.accessToken });
    if (!video) throw ApplicationFailure.nonRetryable(`YouTube video ${platformPostId} is gone`, FailureType.NotFound);
    // YouTube reports no share count through the Data API.
    return { views: video.viewCount, likes: video.likeCount, comments: video.commentCount, shares: null };
  }

  async refreshToken(refreshToken: string): Promise<TokenGrant> {
    const grant = await this.options.googleAuth.refreshGoogleToken(refreshToken);
    return { accessToken: grant.accessToken, refreshToken: grant.refreshToken ?? refreshToken, expiresAt: grant.expiresAt.toISOString() };
  }
}
