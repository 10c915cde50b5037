import type { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { google, type youtube_v3 } from 'googleapis';
import type { ProviderCall } from '../call';
import { FailureType } from '../../schemas/failures';
import { googleUserAuth } from '../google/auth';
import { asUploadStream, googleRequestDefaults } from '../google/media';
import { YOUTUBE_QUOTA_COST, type QuotaBudget, type YoutubeOperation } from './quota';
import { resolveTranscript, type Transcript, type TranscriptRequest, type YoutubeCaptions } from './transcript-source';

export interface YoutubeThumbnail {
  url: string;
  width?: number;
  height?: number;
}

export interface YoutubeVideo {
  id: string;
  title: string;
  description: string;
  channelId: string;
  channelTitle: string;
  publishedAt: string | null;
  durationSeconds: number;
  tags: string[];
  categoryId: string | null;
  defaultLanguage: string | null;
  /** Best first: maxres, standard, high, medium, default. */
  thumbnails: Record<string, YoutubeThumbnail>;
  viewCount: number;
  likeCount: number;
  commentCount: number;
  /** 'none' for a normal video; 'live' / 'upcoming' for broadcasts. */
  liveBroadcastContent: string;
  privacyStatus: string | null;
  /** The uploader published captions (contentDetails.caption). */
  hasCaptions: boolean;
}

export interface YoutubeChannel {
  id: string;
  title: string;
  description: string;
  customUrl: string | null;
  uploadsPlaylistId: string;
  subscriberCount: number;
  videoCount: number;
  viewCount: number;
  thumbnails: Record<string, YoutubeThumbnail>;
}

export interface YoutubeUploadsPage {
  items: Array<{ videoId: string; title: string; description: string; publishedAt: string | null; position: number }>;
  nextPageToken: string | null;
  totalResults: number;
}

export interface YoutubeUploadRequest {
  accessToken: string;
  body: Readable | Buffer;
  mimeType?: string;
  title: string;
  description?: string;
  tags?: string[];
  categoryId?: string;
  privacyStatus: 'public' | 'unlisted' | 'private';
  /** RFC 3339; YouTube requires privacyStatus 'private' for a scheduled publish. */
  publishAt?: string;
  madeForKids?: boolean;
  /** Called with bytes sent so far, for activity heartbeats. */
  onProgress?: (bytesSent: number) => void;
}

export interface YoutubeAdapter extends YoutubeCaptions {
  getVideo(videoId: string, options?: { accessToken?: string }): Promise<YoutubeVideo>;
  /** Up to 50 ids per request; unknown or private ids are simply absent from the result. */
  getVideos(videoIds: string[], options?: { accessToken?: string }): Promise<YoutubeVideo[]>;
  /** A channel by id or handle (API key), or the token owner's own channel (`mine`). */
  getChannel(ref: { channelId: string } | { handle: string } | { mine: true; accessToken: string }): Promise<YoutubeChannel>;
  /** With the owner's token the list includes the channel's private and unlisted uploads. */
  listUploads(request: {
    uploadsPlaylistId: string;
    pageToken?: string;
    maxResults?: number;
    accessToken?: string;
  }): Promise<YoutubeUploadsPage>;
  uploadVideo(request: YoutubeUploadRequest): Promise<{ videoId: string; privacyStatus: string | null; uploadStatus: string | null }>;
  setThumbnail(request: {
    accessToken: string;
    videoId: string;
    image: Readable | Buffer;
    mimeType: 'image/png' | 'image/jpeg';
  }): Promise<{ url: string | null }>;
  /** YouTube captions when an owner's token is given, else the user's transcript; never invented. */
  getTranscript(request: TranscriptRequest): Promise<Transcript>;
}

export interface YoutubeAdapterOptions {
  apiKey: string;
  /** Sandbox or proxy root (e.g. http://127.0.0.1:4010/); the real API when unset. */
  rootUrl?: string;
  timeoutMs?: number;
  quota: QuotaBudget;
  call: ProviderCall;
}

const ISO_DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** ISO 8601 duration as YouTube writes it (`PT1H2M3S`, `P1DT2H`, `PT0S`) → whole seconds. */
export function parseIsoDuration(value: string | null | undefined): number {
  const m = ISO_DURATION.exec(value ?? '');
  if (!m) return 0;
  const [w, d, h, min, s] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number];
  return Math.round((((w * 7 + d) * 24 + h) * 60 + min) * 60 + s);
}

const THUMBNAIL_ORDER = ['maxres', 'standard', 'high', 'medium', 'default'] as const;

function thumbnails(t: youtube_v3.Schema$ThumbnailDetails | undefined): Record<string, YoutubeThumbnail> {
  const out: Record<string, YoutubeThumbnail> = {};
  for (const size of THUMBNAIL_ORDER) {
    const thumb = t?.[size];
    if (thumb?.url) out[size] = { url: thumb.url, width: thumb.width ?? undefined, height: thumb.height ?? undefined };
  }
  return out;
}

const count = (v: string | null | undefined) => (v ? Number(v) : 0);

function toVideo(item: youtube_v3.Schema$Video): YoutubeVideo {
  return {
    id: item.id ?? '',
    title: item.snippet?.title ?? '',
    description: item.snippet?.description ?? '',
    channelId: item.snippet?.channelId ?? '',
    channelTitle: item.snippet?.channelTitle ?? '',
    publishedAt: item.snippet?.publishedAt ?? null,
    durationSeconds: parseIsoDuration(item.contentDetails?.duration),
    tags: item.snippet?.tags ?? [],
    categoryId: item.snippet?.categoryId ?? null,
    defaultLanguage: item.snippet?.defaultLanguage ?? item.snippet?.defaultAudioLanguage ?? null,
    thumbnails: thumbnails(item.snippet?.thumbnails),
    viewCount: count(item.statistics?.viewCount),
    likeCount: count(item.statistics?.likeCount),
    commentCount: count(item.statistics?.commentCount),
    liveBroadcastContent: item.snippet?.liveBroadcastContent ?? 'none',
    privacyStatus: item.status?.privacyStatus ?? null,
    hasCaptions: item.contentDetails?.caption === 'true',
  };
}

export function createYoutubeAdapter(options: YoutubeAdapterOptions): YoutubeAdapter {
  const youtube = google.youtube({
    version: 'v3',
    auth: options.apiKey,
    rootUrl: options.rootUrl,
    ...googleRequestDefaults(options.timeoutMs ?? 60_000),
  });
  // googleapis ignores the service-level rootUrl for media uploads; it must be passed per call.
  const mediaOptions = options.rootUrl ? { rootUrl: options.rootUrl } : {};

  /** Spends the call's quota units, runs it under the limiter, and turns a provider "quota spent" into a wait. */
  async function call<T>(operation: YoutubeOperation, fn: () => Promise<T>): Promise<T> {
    try {
      return await options.call(async () => {
        await options.quota.spend(operation, YOUTUBE_QUOTA_COST[operation]);
        return fn();
      });
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FailureType.QuotaExceeded && err.nonRetryable)
        throw await options.quota.exhausted(operation);
      throw err;
    }
  }

  const adapter: YoutubeAdapter = {
    async getVideos(videoIds, { accessToken } = {}) {
      if (videoIds.length === 0) return [];
      if (videoIds.length > 50)
        throw ApplicationFailure.nonRetryable('videos.list takes at most 50 ids per request', FailureType.InvalidInput);
      const res = await call('videos.list', () =>
        youtube.videos.list({
          id: videoIds,
          part: ['snippet', 'contentDetails', 'statistics', 'status'],
          maxResults: 50,
          ...(accessToken ? { auth: googleUserAuth(accessToken) } : {}),
        }),
      );
      return (res.data.items ?? []).map(toVideo);
    },

    async getVideo(videoId, opts) {
      const [video] = await adapter.getVideos([videoId], opts);
      // YouTube answers 200 with no items both for unknown ids and for private videos of other channels.
      if (!video) throw ApplicationFailure.nonRetryable(`YouTube video ${videoId} not found or not public`, FailureType.NotFound);
      return video;
    },

    async getChannel(ref) {
      const res = await call('channels.list', () =>
        youtube.channels.list({
          part: ['snippet', 'contentDetails', 'statistics'],
          ...('channelId' in ref
            ? { id: [ref.channelId] }
            : 'handle' in ref
              ? { forHandle: ref.handle }
              : { mine: true, auth: googleUserAuth(ref.accessToken) }),
        }),
      );
      const item = res.data.items?.[0];
      const uploadsPlaylistId = item?.contentDetails?.relatedPlaylists?.uploads;
      if (!item?.id || !uploadsPlaylistId) {
        const which = 'channelId' in ref ? ref.channelId : 'handle' in ref ? ref.handle : 'of the authorized account';
        throw ApplicationFailure.nonRetryable(`YouTube channel ${which} not found`, FailureType.NotFound);
      }
      return {
        id: item.id,
        title: item.snippet?.title ?? '',
        description: item.snippet?.description ?? '',
        customUrl: item.snippet?.customUrl ?? null,
        uploadsPlaylistId,
        subscriberCount: count(item.statistics?.subscriberCount),
        videoCount: count(item.statistics?.videoCount),
        viewCount: count(item.statistics?.viewCount),
        thumbnails: thumbnails(item.snippet?.thumbnails),
      };
    },

    async listUploads({ uploadsPlaylistId, pageToken, maxResults = 50, accessToken }) {
      const res = await call('playlistItems.list', () =>
        youtube.playlistItems.list({
          playlistId: uploadsPlaylistId,
          part: ['snippet', 'contentDetails'],
          maxResults,
          pageToken,
          ...(accessToken ? { auth: googleUserAuth(accessToken) } : {}),
        }),
      );
      return {
        items: (res.data.items ?? []).flatMap((item) => {
          const videoId = item.contentDetails?.videoId ?? item.snippet?.resourceId?.videoId;
          if (!videoId) return [];
          return [
            {
              videoId,
              title: item.snippet?.title ?? '',
              description: item.snippet?.description ?? '',
              publishedAt: item.contentDetails?.videoPublishedAt ?? item.snippet?.publishedAt ?? null,
              position: item.snippet?.position ?? 0,
            },
          ];
        }),
        nextPageToken: res.data.nextPageToken ?? null,
        totalResults: res.data.pageInfo?.totalResults ?? 0,
      };
    },

    async listCaptionTracks(videoId, accessToken) {
      const res = await call('captions.list', () =>
        youtube.captions.list({ videoId, part: ['snippet'], auth: googleUserAuth(accessToken) }),
      );
      return (res.data.items ?? []).flatMap((item) =>
        item.id
          ? [
              {
                id: item.id,
                language: item.snippet?.language ?? '',
                name: item.snippet?.name ?? '',
                trackKind: (item.snippet?.trackKind ?? 'standard').toLowerCase(),
                isDraft: item.snippet?.isDraft ?? false,
              },
            ]
          : [],
      );
    },

    async downloadCaption(trackId, accessToken, format = 'vtt') {
      const res = await call('captions.download', () =>
        youtube.captions.download({ id: trackId, tfmt: format, auth: googleUserAuth(accessToken) }, { responseType: 'text' }),
      );
      return typeof res.data === 'string' ? res.data : String(res.data);
    },

    async uploadVideo(request) {
      const res = await call('videos.insert', () =>
        youtube.videos.insert(
          {
            part: ['snippet', 'status'],
            notifySubscribers: request.privacyStatus === 'public',
            auth: googleUserAuth(request.accessToken),
            requestBody: {
              snippet: {
                title: request.title,
                description: request.description ?? '',
                tags: request.tags,
                categoryId: request.categoryId ?? '22',
              },
              status: {
                privacyStatus: request.privacyStatus,
                publishAt: request.publishAt,
                selfDeclaredMadeForKids: request.madeForKids ?? false,
              },
            },
            media: { mimeType: request.mimeType ?? 'video/mp4', body: asUploadStream(request.body) },
          },
          { ...mediaOptions, onUploadProgress: (e: { bytesRead: number }) => request.onProgress?.(e.bytesRead) },
        ),
      );
      if (!res.data.id)
        throw ApplicationFailure.retryable('YouTube accepted the upload but returned no video id', FailureType.ProviderUnavailable);
      return {
        videoId: res.data.id,
        privacyStatus: res.data.status?.privacyStatus ?? null,
        uploadStatus: res.data.status?.uploadStatus ?? null,
      };
    },

    async setThumbnail({ accessToken, videoId, image, mimeType }) {
      const res = await call('thumbnails.set', () =>
        youtube.thumbnails.set(
          { videoId, auth: googleUserAuth(accessToken), media: { mimeType, body: asUploadStream(image) } },
          mediaOptions,
        ),
      );
      const best = thumbnails(res.data.items?.[0]);
      return { url: Object.values(best)[0]?.url ?? null };
    },

    getTranscript: (request) => resolveTranscript(adapter, request),
  };
  return adapter;
}
