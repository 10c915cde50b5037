import { createHash } from 'node:crypto';
import { between, pick, seededRandom, spokenCues, syntheticTalk, toSrt, toVtt } from './creator-talk';
import { createSandboxServer, HttpError, type Route, type RouteRequest, type SandboxServer, type SandboxDefinition } from './http';
import { solidPng } from './png';

/**
 * Google sandbox: YouTube Data API v3, Drive v3, their upload endpoints and the OAuth 2.0
 * token endpoint on one port, shaped like the real responses for the calls our adapters make.
 * Reserved ids and tokens are listed in sandbox/README.md.
 */

const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/;
const CHANNEL_ID = /^UC[A-Za-z0-9_-]{22}$/;
export const RESERVED_VIDEO_IDS = {
  notFound: 'notfound000',
  private: 'private0000',
  live: 'livestream0',
  noCaptions: 'nocaptions0',
  tooLong: 'toolong0000',
} as const;
/** Bearer tokens the sandbox rejects with 401, and refresh tokens / codes it rejects with invalid_grant. */
export const REVOKED_TOKEN_PREFIX = 'revoked';

const STATUS_NAMES: Record<number, [string, string]> = {
  400: ['badRequest', 'INVALID_ARGUMENT'],
  401: ['authError', 'UNAUTHENTICATED'],
  403: ['forbidden', 'PERMISSION_DENIED'],
  404: ['notFound', 'NOT_FOUND'],
  429: ['rateLimitExceeded', 'RESOURCE_EXHAUSTED'],
  500: ['backendError', 'INTERNAL'],
  503: ['backendError', 'UNAVAILABLE'],
};

/** Google's JSON error envelope; pass `reason` for specific cases (e.g. 403 `quotaExceeded`). */
export function googleErrorBody(status: number, message: string, reason?: string) {
  const [defaultReason, statusName] = STATUS_NAMES[status] ?? ['backendError', 'UNKNOWN'];
  return {
    error: {
      code: status,
      message,
      errors: [{ message, domain: reason === 'quotaExceeded' ? 'youtube.quota' : 'global', reason: reason ?? defaultReason }],
      status: statusName,
    },
  };
}

const googleError = (status: number, message: string, reason?: string) =>
  new HttpError(status, message, googleErrorBody(status, message, reason));

function bearer(req: RouteRequest): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/** A list parameter, sent comma-separated or repeated (googleapis repeats arrays). */
const listParam = (req: RouteRequest, name: string) =>
  req.query
    .getAll(name)
    .flatMap((v) => v.split(','))
    .filter(Boolean);

const idFrom = (seed: string, length: number) => createHash('sha256').update(seed).digest('base64url').slice(0, length);
const channelIdFor = (seed: string) => `UC${idFrom(`channel:${seed}`, 22)}`;

const CHANNEL_NAMES = [
  'Maya Builds',
  'The Edit Bay',
  'Creator Compass',
  'Small Channel Big Ideas',
  'Frame by Frame',
  'Studio Sundays',
  'The Upload Habit',
  'Clip Theory',
];

function channelName(channelId: string): string {
  return pick(seededRandom(channelId), CHANNEL_NAMES);
}

function isoDuration(totalSeconds: number): string {
  if (totalSeconds === 0) return 'P0D';
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${s}S` : ''}`;
}

const THUMB_SIZES = { default: [120, 90], medium: [320, 180], high: [480, 360], standard: [640, 480], maxres: [1280, 720] } as const;

function thumbnailSet(base: string, videoId: string, custom = false) {
  return Object.fromEntries(
    Object.entries(THUMB_SIZES).map(([size, [width, height]]) => [
      size,
      { url: `${base}/vi/${videoId}/${size}${custom ? '_custom' : ''}.png`, width, height },
    ]),
  );
}

interface UploadedVideo {
  id: string;
  channelId: string;
  title: string;
  description: string;
  tags: string[];
  categoryId: string;
  privacyStatus: string;
  publishAt?: string;
  bytes: number;
  sha256: string;
  publishedAt: string;
  customThumbnail?: { bytes: number; mimeType: string };
}

interface DriveFileRecord {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  appProperties: Record<string, string>;
  content?: Buffer;
  createdTime: string;
}

/** Parses a `multipart/related` body (googleapis uploads): JSON metadata part, then the media part. */
export function parseMultipartRelated(req: RouteRequest): { metadata: Record<string, unknown>; media: Buffer; mediaType: string } {
  const boundary = /boundary=("?)([^";]+)\1/.exec(req.headers['content-type'] ?? '')?.[2];
  if (!boundary) throw googleError(400, 'Expected a multipart/related body with a boundary.', 'badContent');
  const raw = req.body.toString('latin1'); // byte-preserving, so the media part survives intact
  const parts = raw
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => {
      const split = part.indexOf('\r\n\r\n');
      const headers = part.slice(0, split).toLowerCase();
      const body = part.slice(split + 4).replace(/\r\n$/, '');
      return {
        type: /content-type:\s*([^\r\n]+)/.exec(headers)?.[1]?.trim() ?? 'application/octet-stream',
        body: Buffer.from(body, 'latin1'),
      };
    });
  const [meta, media] = parts;
  if (!meta || !media) throw googleError(400, 'A multipart upload needs a metadata part and a media part.', 'badContent');
  return { metadata: JSON.parse(meta.body.toString('utf8')) as Record<string, unknown>, media: media.body, mediaType: media.type };
}

function unquote(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

const Q_STRING = `'((?:[^'\\\\]|\\\\.)*)'`;

/** The subset of Drive's `q` language our adapter writes. */
function driveQuery(q: string): (f: DriveFileRecord) => boolean {
  const checks: Array<(f: DriveFileRecord) => boolean> = [];
  for (const m of q.matchAll(new RegExp(`mimeType\\s*=\\s*${Q_STRING}`, 'g'))) checks.push((f) => f.mimeType === unquote(m[1] ?? ''));
  for (const m of q.matchAll(new RegExp(`(?<![\\w.])name\\s*=\\s*${Q_STRING}`, 'g'))) checks.push((f) => f.name === unquote(m[1] ?? ''));
  for (const m of q.matchAll(new RegExp(`${Q_STRING}\\s+in\\s+parents`, 'g'))) checks.push((f) => f.parents.includes(unquote(m[1] ?? '')));
  for (const m of q.matchAll(
    new RegExp(`appProperties\\s+has\\s+\\{\\s*key\\s*=\\s*${Q_STRING}\\s+and\\s+value\\s*=\\s*${Q_STRING}\\s*\\}`, 'g'),
  )) {
    checks.push((f) => f.appProperties[unquote(m[1] ?? '')] === unquote(m[2] ?? ''));
  }
  return (f) => checks.every((check) => check(f));
}

export interface IssuedGoogleGrant {
  accessToken: string;
  refreshToken: string;
  /** The YouTube channel the grant's tokens act for (channels.list mine=true). */
  channelId: string;
  expiresAt: string;
}

export interface GoogleSandbox extends SandboxServer {
  /** Videos received by videos.insert, by id. */
  uploadedVideos: Map<string, UploadedVideo>;
  driveFiles: Map<string, DriveFileRecord>;
  /** A consented grant: an access and a refresh token of one owner (one channel). */
  issueGrant(owner?: string): IssuedGoogleGrant;
  /** The access token answers 401 from now on; its refresh token still works. */
  expireAccessToken(accessToken: string): void;
  /** Revokes the consent behind a token: every token of its owner answers 401 / invalid_grant. */
  revokeGrant(token: string): void;
  /** The channel a bearer token acts for. */
  channelOf(token: string): string;
  /** Publishes a new public upload (captioned, like the back catalogue) at the top of the channel's uploads playlist; returns its video id. */
  publishUpload(channelId: string): string;
}

export async function startGoogleSandbox(options: { port?: number } = {}): Promise<GoogleSandbox> {
  const uploadedVideos = new Map<string, UploadedVideo>();
  const driveFiles = new Map<string, DriveFileRecord>();
  /** Videos listed in a channel's uploads playlist belong to that channel. */
  const videoChannel = new Map<string, string>();
  /** Uploads published through publishUpload, per channel, oldest first. */
  const publishedUploads = new Map<string, Array<{ id: string; publishedAt: string; privacyStatus: string }>>();
  let sequence = 0;
  const baseOf = (req: RouteRequest) => `http://${req.headers.host ?? '127.0.0.1'}`;
  /** Whose channel a token acts for: tokens issued here map to their grant's owner; any other token owns itself. */
  const tokenOwners = new Map<string, string>();
  const expiredTokens = new Set<string>();
  const revokedOwners = new Set<string>();
  /** One-time authorization codes from the consent screen, with the redirect URI they were issued for. */
  const authorizationCodes = new Map<string, { owner: string; redirectUri: string }>();
  const ownerOf = (token: string) => tokenOwners.get(token) ?? token;
  const channelOf = (token: string) => channelIdFor(`owner:${ownerOf(token)}`);
  const isRevoked = (token: string) => token.startsWith(REVOKED_TOKEN_PREFIX) || revokedOwners.has(ownerOf(token));

  function issueTokens(owner: string, withRefreshToken: boolean) {
    sequence += 1;
    const accessToken = `ya29.sandbox-${idFrom(`access:${owner}:${sequence}`, 32)}`;
    tokenOwners.set(accessToken, owner);
    if (!withRefreshToken) return { accessToken };
    const refreshToken = `1//sandbox-${idFrom(`refresh:${owner}:${sequence}`, 40)}`;
    tokenOwners.set(refreshToken, owner);
    return { accessToken, refreshToken };
  }

  /** OAuth calls: a bearer token that is neither revoked nor expired. */
  function requireUser(req: RouteRequest): string {
    const token = bearer(req);
    if (!token) throw googleError(401, 'Request is missing required authentication credential. Expected OAuth 2 access token.', 'required');
    if (isRevoked(token) || expiredTokens.has(token))
      throw googleError(401, 'Request had invalid authentication credentials.', 'authError');
    return token;
  }

  /**
   * Captions are served to the video's owner only, like YouTube's 403: a token this sandbox issued
   * acts for one channel; any other token is treated as the owner of every video.
   */
  function requireCaptionOwner(token: string, video: { snippet: { channelId: string } } | undefined): void {
    if (video && tokenOwners.has(token) && channelOf(token) !== video.snippet.channelId)
      throw googleError(403, 'The permissions associated with the request are not sufficient to retrieve the caption tracks.', 'forbidden');
  }

  /** Public data calls: an API key or an OAuth token. */
  function requireKeyOrUser(req: RouteRequest): { owner: boolean; token?: string } {
    if (bearer(req)) return { owner: true, token: requireUser(req) };
    const key = req.query.get('key');
    if (!key) throw googleError(403, 'The request is missing a valid API key.', 'forbidden');
    if (key.startsWith(REVOKED_TOKEN_PREFIX)) throw googleError(400, 'API key not valid. Please pass a valid API key.', 'keyInvalid');
    return { owner: false };
  }

  /** The channel's own uploads (videos.insert, publishUpload), newest first; private ones only for the channel's owner. */
  const channelUploads = (channelId: string, viewer: string | undefined) =>
    [
      ...[...uploadedVideos.values()].filter(
        (v) => v.channelId === channelId && (v.privacyStatus === 'public' || (viewer !== undefined && channelOf(viewer) === channelId)),
      ),
      ...(publishedUploads.get(channelId) ?? []),
    ].sort((a, b) => b.publishedAt.localeCompare(a.publishedAt));

  function videoResource(req: RouteRequest, id: string, owner: boolean) {
    const uploaded = uploadedVideos.get(id);
    if (uploaded) {
      return {
        kind: 'youtube#video',
        etag: idFrom(`etag:${id}`, 27),
        id,
        snippet: {
          publishedAt: uploaded.publishedAt,
          channelId: uploaded.channelId,
          title: uploaded.title,
          description: uploaded.description,
          thumbnails: thumbnailSet(baseOf(req), id, Boolean(uploaded.customThumbnail)),
          channelTitle: channelName(uploaded.channelId),
          tags: uploaded.tags,
          categoryId: uploaded.categoryId,
          liveBroadcastContent: 'none',
        },
        contentDetails: {
          duration: 'PT0S',
          dimension: '2d',
          definition: 'hd',
          caption: 'false',
          licensedContent: false,
          projection: 'rectangular',
        },
        statistics: { viewCount: '0', likeCount: '0', favoriteCount: '0', commentCount: '0' },
        status: {
          uploadStatus: 'processed',
          privacyStatus: uploaded.privacyStatus,
          publishAt: uploaded.publishAt,
          license: 'youtube',
          embeddable: true,
          publicStatsViewable: true,
          madeForKids: false,
        },
      };
    }
    if (id === RESERVED_VIDEO_IDS.notFound || !VIDEO_ID.test(id)) return undefined;
    // Other channels' private videos are invisible; the owner (an OAuth caller) sees them.
    if (id === RESERVED_VIDEO_IDS.private && !owner) return undefined;
    const rand = seededRandom(`video:${id}`);
    const talk = syntheticTalk(id);
    const channelId = videoChannel.get(id) ?? channelIdFor(pick(rand, CHANNEL_NAMES));
    const live = id === RESERVED_VIDEO_IDS.live;
    const seconds = live ? 0 : id === RESERVED_VIDEO_IDS.tooLong ? 4 * 3600 : between(rand, 240, 1680);
    const views = Math.floor(1000 * Math.exp(rand() * 7.5));
    const published = new Date(Date.UTC(2023, 0, 1) + Math.floor(rand() * 1000) * 86_400_000 + between(rand, 13, 20) * 3_600_000);
    return {
      kind: 'youtube#video',
      etag: idFrom(`etag:${id}`, 27),
      id,
      snippet: {
        publishedAt: published.toISOString().replace('.000Z', 'Z'),
        channelId,
        title: talk.title,
        description: talk.description,
        thumbnails: thumbnailSet(baseOf(req), id),
        channelTitle: channelName(channelId),
        tags: talk.tags,
        categoryId: '26',
        liveBroadcastContent: live ? 'live' : 'none',
        defaultAudioLanguage: 'en',
      },
      contentDetails: {
        duration: isoDuration(seconds),
        dimension: '2d',
        definition: 'hd',
        caption: id === RESERVED_VIDEO_IDS.noCaptions || live ? 'false' : 'true',
        licensedContent: true,
        projection: 'rectangular',
      },
      statistics: {
        viewCount: String(views),
        likeCount: String(Math.floor(views * (0.02 + rand() * 0.03))),
        favoriteCount: '0',
        commentCount: String(Math.floor(views * (0.001 + rand() * 0.004))),
      },
      status: {
        uploadStatus: 'processed',
        privacyStatus: id === RESERVED_VIDEO_IDS.private ? 'private' : 'public',
        license: 'youtube',
        embeddable: true,
        publicStatsViewable: true,
        madeForKids: false,
      },
      ...(live
        ? {
            liveStreamingDetails: {
              actualStartTime: new Date(Date.UTC(2025, 5, 1, 18)).toISOString(),
              concurrentViewers: String(between(rand, 50, 5000)),
            },
          }
        : {}),
    };
  }

  function videoDurationSeconds(req: RouteRequest, id: string): number {
    const video = videoResource(req, id, true);
    if (!video) throw googleError(404, 'The video identified by the videoId parameter could not be found.', 'videoNotFound');
    const m = /PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?/.exec(video.contentDetails.duration);
    return Number(m?.[1] ?? 0) * 3600 + Number(m?.[2] ?? 0) * 60 + Number(m?.[3] ?? 0);
  }

  function channelResource(req: RouteRequest, channelId: string, handle?: string) {
    const rand = seededRandom(`channel-stats:${channelId}`);
    const title = channelName(channelId);
    const count = uploadsCount(channelId) + (publishedUploads.get(channelId)?.length ?? 0);
    return {
      kind: 'youtube#channel',
      etag: idFrom(`etag:${channelId}`, 27),
      id: channelId,
      snippet: {
        title,
        description: `${title}: practical videos for creators about growing, editing and earning on YouTube.`,
        customUrl: handle ?? `@${title.toLowerCase().replace(/[^a-z0-9]+/g, '')}`,
        publishedAt: '2019-03-14T16:00:00Z',
        thumbnails: thumbnailSet(baseOf(req), channelId),
        country: 'US',
      },
      contentDetails: { relatedPlaylists: { likes: '', uploads: `UU${channelId.slice(2)}` } },
      statistics: {
        viewCount: String(between(rand, 200_000, 40_000_000)),
        subscriberCount: String(between(rand, 2_000, 900_000)),
        hiddenSubscriberCount: false,
        videoCount: String(count),
      },
    };
  }

  const uploadsCount = (channelId: string) => between(seededRandom(`uploads:${channelId}`), 8, 40);

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/youtube/v3/videos',
      handle(req) {
        const { owner } = requireKeyOrUser(req);
        const ids = listParam(req, 'id');
        if (ids.length > 50) throw googleError(400, 'The request specifies too many video ids.', 'invalidValue');
        const items = ids.flatMap((id) => videoResource(req, id, owner) ?? []);
        return {
          json: {
            kind: 'youtube#videoListResponse',
            etag: idFrom(`list:${ids.join()}`, 27),
            items,
            pageInfo: { totalResults: items.length, resultsPerPage: items.length },
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/youtube/v3/channels',
      handle(req) {
        const { token } = requireKeyOrUser(req);
        const handle = req.query.get('forHandle') ?? undefined;
        const mine = req.query.get('mine') === 'true';
        if (mine && !token)
          throw googleError(401, 'The request uses the mine parameter but is not properly authorized.', 'authorizationRequired');
        const ids = mine
          ? [channelOf(token ?? '')]
          : handle
            ? [channelIdFor(handle.replace(/^@/, '').toLowerCase())]
            : listParam(req, 'id').filter((id) => CHANNEL_ID.test(id));
        const items = ids.map((id) => channelResource(req, id, handle));
        return {
          json: {
            kind: 'youtube#channelListResponse',
            etag: idFrom(`channels:${ids.join()}`, 27),
            pageInfo: { totalResults: items.length, resultsPerPage: 5 },
            items,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/youtube/v3/playlistItems',
      handle(req) {
        const { token } = requireKeyOrUser(req);
        const playlistId = req.query.get('playlistId') ?? '';
        if (!/^UU[A-Za-z0-9_-]{22}$/.test(playlistId))
          throw googleError(404, "The playlist identified with the request's playlistId parameter cannot be found.", 'playlistNotFound');
        const channelId = `UC${playlistId.slice(2)}`;
        // The channel's own uploads come first (newest first), then its synthetic back catalogue.
        const uploads = channelUploads(channelId, token);
        const total = uploads.length + uploadsCount(channelId);
        const pageSize = Math.min(50, Number(req.query.get('maxResults') ?? 5));
        const offset = Number(
          Buffer.from(req.query.get('pageToken') ?? '', 'base64url')
            .toString()
            .replace('offset:', '') || 0,
        );
        const items = Array.from({ length: Math.max(0, Math.min(pageSize, total - offset)) }, (_, i) => {
          const position = offset + i;
          const uploaded = uploads[position];
          const videoId = uploaded?.id ?? idFrom(`upload:${channelId}:${position - uploads.length}`, 11);
          videoChannel.set(videoId, channelId);
          const video = videoResource(req, videoId, false);
          // Newest first, a few days apart, like a real uploads playlist.
          const publishedAt =
            uploaded?.publishedAt ??
            new Date(Date.UTC(2025, 10, 1) - (position - uploads.length) * 4 * 86_400_000).toISOString().replace('.000Z', 'Z');
          return {
            kind: 'youtube#playlistItem',
            etag: idFrom(`etag:pi:${videoId}`, 27),
            id: idFrom(`pi:${videoId}`, 48),
            snippet: {
              publishedAt,
              channelId,
              title: video?.snippet.title,
              description: video?.snippet.description,
              thumbnails: video?.snippet.thumbnails,
              channelTitle: channelName(channelId),
              playlistId,
              position,
              resourceId: { kind: 'youtube#video', videoId },
              videoOwnerChannelTitle: channelName(channelId),
              videoOwnerChannelId: channelId,
            },
            contentDetails: { videoId, videoPublishedAt: publishedAt },
            ...(uploaded ? { status: { privacyStatus: uploaded.privacyStatus } } : {}),
          };
        });
        const next = offset + pageSize < total ? Buffer.from(`offset:${offset + pageSize}`).toString('base64url') : undefined;
        return {
          json: {
            kind: 'youtube#playlistItemListResponse',
            etag: idFrom(`pl:${playlistId}:${offset}`, 27),
            nextPageToken: next,
            items,
            pageInfo: { totalResults: total, resultsPerPage: pageSize },
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/youtube/v3/captions',
      handle(req) {
        const token = requireUser(req);
        const videoId = req.query.get('videoId') ?? '';
        videoDurationSeconds(req, videoId); // 404 for unknown videos
        const video = videoResource(req, videoId, true);
        requireCaptionOwner(token, video);
        const hasCaptions = video?.contentDetails.caption === 'true';
        const track = (kind: 'standard' | 'asr') => ({
          kind: 'youtube#caption',
          etag: idFrom(`etag:cap:${kind}:${videoId}`, 27),
          id: `${kind === 'asr' ? 'asr' : 'std'}.${videoId}.en`,
          snippet: {
            videoId,
            lastUpdated: '2025-06-01T12:00:00Z',
            trackKind: kind,
            language: 'en',
            name: kind === 'asr' ? '' : 'English',
            audioTrackType: 'unknown',
            isCC: false,
            isLarge: false,
            isEasyReader: false,
            isDraft: false,
            isAutoSynced: kind === 'asr',
            status: 'serving',
          },
        });
        return {
          json: {
            kind: 'youtube#captionListResponse',
            etag: idFrom(`caps:${videoId}`, 27),
            items: hasCaptions ? [track('asr'), track('standard')] : [],
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/youtube/v3/captions/:id',
      handle(req) {
        const token = requireUser(req);
        const [, videoId = ''] = req.params.id?.split('.') ?? [];
        const video = videoResource(req, videoId, true);
        requireCaptionOwner(token, video);
        if (!video || video.contentDetails.caption !== 'true')
          throw googleError(404, 'The caption track could not be found.', 'captionNotFound');
        const cues = spokenCues(videoId, videoDurationSeconds(req, videoId));
        const format = req.query.get('tfmt') ?? 'vtt';
        if (format !== 'vtt' && format !== 'srt') throw googleError(400, `Unsupported caption format: ${format}`, 'invalidValue');
        return { headers: { 'content-type': 'application/octet-stream' }, text: format === 'srt' ? toSrt(cues) : toVtt(cues) };
      },
    },
    {
      method: 'POST',
      path: '/upload/youtube/v3/videos',
      handle(req) {
        const token = requireUser(req);
        const { metadata, media } = parseMultipartRelated(req);
        const snippet = (metadata.snippet ?? {}) as Record<string, unknown>;
        const status = (metadata.status ?? {}) as Record<string, unknown>;
        if (typeof snippet.title !== 'string' || !snippet.title.trim())
          throw googleError(400, 'The request metadata specifies an invalid or empty video title.', 'invalidTitle');
        if (media.length === 0) throw googleError(400, 'The request does not include the video content.', 'mediaBodyRequired');
        sequence += 1;
        const id = idFrom(`inserted:${sequence}:${token}`, 11);
        const video: UploadedVideo = {
          id,
          channelId: channelOf(token),
          title: snippet.title,
          description: typeof snippet.description === 'string' ? snippet.description : '',
          tags: Array.isArray(snippet.tags) ? (snippet.tags as string[]) : [],
          categoryId: typeof snippet.categoryId === 'string' ? snippet.categoryId : '22',
          privacyStatus: typeof status.privacyStatus === 'string' ? status.privacyStatus : 'public',
          publishAt: typeof status.publishAt === 'string' ? status.publishAt : undefined,
          bytes: media.length,
          sha256: createHash('sha256').update(media).digest('hex'),
          publishedAt: new Date().toISOString(),
        };
        uploadedVideos.set(id, video);
        const resource = videoResource(req, id, true);
        return { json: { ...resource, status: { ...resource?.status, uploadStatus: 'uploaded' } } };
      },
    },
    {
      method: 'POST',
      path: '/upload/youtube/v3/thumbnails/set',
      handle(req) {
        requireUser(req);
        const videoId = req.query.get('videoId') ?? '';
        const video = uploadedVideos.get(videoId);
        if (!video && !videoResource(req, videoId, true))
          throw googleError(404, 'The video identified by the videoId parameter could not be found.', 'videoNotFound');
        const mimeType = req.headers['content-type'] ?? '';
        if (!/^image\/(png|jpeg)/.test(mimeType)) throw googleError(400, "The image's content type is not supported.", 'invalidImage');
        if (req.body.length > 2 * 1024 * 1024) throw googleError(413, 'The thumbnail image file is too large.', 'mediaBodyTooLarge');
        if (video) video.customThumbnail = { bytes: req.body.length, mimeType };
        return {
          json: {
            kind: 'youtube#thumbnailSetResponse',
            etag: idFrom(`thumb:${videoId}`, 27),
            items: [thumbnailSet(baseOf(req), videoId, true)],
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/vi/:id/:file',
      handle(req) {
        const [size = 'default'] = (req.params.file ?? '').split(/[_.]/);
        const [width, height] = THUMB_SIZES[size as keyof typeof THUMB_SIZES] ?? THUMB_SIZES.default;
        const rand = seededRandom(`thumb:${req.params.id}`);
        return {
          headers: { 'content-type': 'image/png' },
          text: solidPng(width, height, [between(rand, 30, 220), between(rand, 30, 220), between(rand, 30, 220)]),
        };
      },
    },
    {
      // The consent screen: approves at once and redirects back with a one-time code (and the state).
      method: 'GET',
      path: '/o/oauth2/v2/auth',
      handle(req) {
        const redirectUri = req.query.get('redirect_uri');
        if (!req.query.get('client_id') || !redirectUri || req.query.get('response_type') !== 'code')
          throw new HttpError(400, 'invalid_request', {
            error: 'invalid_request',
            error_description: 'client_id, redirect_uri and response_type=code are required',
          });
        sequence += 1;
        const code = `4/sandbox-${idFrom(`code:${sequence}:${redirectUri}`, 40)}`;
        authorizationCodes.set(code, { owner: req.query.get('login_hint') ?? `consent-${sequence}`, redirectUri });
        const target = new URL(redirectUri);
        target.searchParams.set('code', code);
        const state = req.query.get('state');
        if (state) target.searchParams.set('state', state);
        target.searchParams.set('scope', req.query.get('scope') ?? '');
        return { status: 302, headers: { location: target.toString() } };
      },
    },
    {
      method: 'POST',
      path: '/token',
      handle(req) {
        const form = req.form();
        const oauthError = (status: number, error: string, description: string) =>
          new HttpError(status, description, { error, error_description: description });
        if (!form.get('client_id')) throw oauthError(401, 'invalid_client', 'The OAuth client was not found.');
        const grant = form.get('grant_type');
        let owner: string;
        if (grant === 'authorization_code') {
          const code = authorizationCodes.get(form.get('code') ?? '');
          if (!code) throw oauthError(400, 'invalid_grant', 'Malformed auth code.');
          authorizationCodes.delete(form.get('code') ?? '');
          if (code.redirectUri !== form.get('redirect_uri')) throw oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
          owner = code.owner;
        } else if (grant === 'refresh_token' && form.get('refresh_token')) {
          const refreshToken = form.get('refresh_token') ?? '';
          if (isRevoked(refreshToken)) throw oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
          owner = ownerOf(refreshToken);
        } else {
          throw oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant ?? ''}`);
        }
        const issued = issueTokens(owner, grant === 'authorization_code');
        return {
          json: {
            access_token: issued.accessToken,
            expires_in: 3599,
            scope:
              'https://www.googleapis.com/auth/youtube.force-ssl https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/drive.file',
            token_type: 'Bearer',
            ...(issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
          },
        };
      },
    },
    {
      // Token revocation: the whole grant behind the token stops working.
      method: 'POST',
      path: '/revoke',
      handle(req) {
        const token = req.form().get('token') ?? req.query.get('token');
        if (!token) throw new HttpError(400, 'invalid_request', { error: 'invalid_request', error_description: 'token is required' });
        revokedOwners.add(ownerOf(token));
        return { json: {} };
      },
    },
    {
      method: 'GET',
      path: '/drive/v3/about',
      handle(req) {
        const owner = ownerOf(requireUser(req));
        return { json: { kind: 'drive#about', user: { kind: 'drive#user', displayName: owner, emailAddress: `${owner}@example.com` } } };
      },
    },
    {
      method: 'GET',
      path: '/drive/v3/files',
      handle(req) {
        requireUser(req);
        const matches = driveQuery(req.query.get('q') ?? '');
        const pageSize = Number(req.query.get('pageSize') ?? 100);
        const files = [...driveFiles.values()]
          .filter(matches)
          .slice(0, pageSize)
          .map((f) => driveResource(f));
        return { json: { kind: 'drive#fileList', incompleteSearch: false, files } };
      },
    },
    {
      method: 'POST',
      path: '/drive/v3/files',
      handle(req) {
        requireUser(req);
        return { json: driveResource(createDriveFile(req.json<Record<string, unknown>>() ?? {})) };
      },
    },
    {
      method: 'POST',
      path: '/upload/drive/v3/files',
      handle(req) {
        requireUser(req);
        const { metadata, media, mediaType } = parseMultipartRelated(req);
        return { json: driveResource(createDriveFile({ mimeType: mediaType, ...metadata }, media)) };
      },
    },
    {
      method: 'GET',
      path: '/drive/v3/files/:fileId',
      handle(req) {
        requireUser(req);
        const file = driveFiles.get(req.params.fileId ?? '');
        if (!file) throw googleError(404, `File not found: ${req.params.fileId}.`, 'notFound');
        if (req.query.get('alt') === 'media') return { headers: { 'content-type': file.mimeType }, text: file.content ?? Buffer.alloc(0) };
        return { json: driveResource(file) };
      },
    },
  ];

  function createDriveFile(metadata: Record<string, unknown>, content?: Buffer): DriveFileRecord {
    if (typeof metadata.name !== 'string' || !metadata.name) throw googleError(400, 'A file name is required.', 'required');
    sequence += 1;
    const file: DriveFileRecord = {
      id: idFrom(`drive:${sequence}:${metadata.name}`, 33),
      name: metadata.name,
      mimeType: typeof metadata.mimeType === 'string' ? metadata.mimeType : 'application/octet-stream',
      parents: Array.isArray(metadata.parents) ? (metadata.parents as string[]) : ['root'],
      appProperties: (metadata.appProperties ?? {}) as Record<string, string>,
      content,
      createdTime: new Date().toISOString(),
    };
    for (const parent of file.parents) {
      if (parent !== 'root' && !driveFiles.has(parent)) throw googleError(404, `File not found: ${parent}.`, 'notFound');
    }
    driveFiles.set(file.id, file);
    return file;
  }

  function driveResource(f: DriveFileRecord) {
    const folder = f.mimeType === 'application/vnd.google-apps.folder';
    return {
      kind: 'drive#file',
      id: f.id,
      name: f.name,
      mimeType: f.mimeType,
      parents: f.parents,
      appProperties: f.appProperties,
      createdTime: f.createdTime,
      ...(folder ? {} : { size: String(f.content?.length ?? 0) }),
      webViewLink: folder ? `https://drive.google.com/drive/folders/${f.id}` : `https://drive.google.com/file/d/${f.id}/view?usp=drivesdk`,
    };
  }

  const server = await createSandboxServer({
    name: 'google',
    routes,
    port: options.port,
    errorBody: (status, message) => googleErrorBody(status, message),
    onReset: () => {
      uploadedVideos.clear();
      driveFiles.clear();
      videoChannel.clear();
      tokenOwners.clear();
      expiredTokens.clear();
      revokedOwners.clear();
      authorizationCodes.clear();
      publishedUploads.clear();
    },
  });
  return Object.assign(server, {
    uploadedVideos,
    driveFiles,
    channelOf,
    issueGrant(owner = `owner-${sequence + 1}`): IssuedGoogleGrant {
      const { accessToken, refreshToken } = issueTokens(owner, true);
      return {
        accessToken,
        refreshToken: refreshToken ?? '',
        channelId: channelOf(accessToken),
        expiresAt: new Date(Date.now() + 3599_000).toISOString(),
      };
    },
    expireAccessToken(accessToken: string) {
      expiredTokens.add(accessToken);
    },
    revokeGrant(token: string) {
      revokedOwners.add(ownerOf(token));
    },
    publishUpload(channelId: string): string {
      sequence += 1;
      const id = idFrom(`published:${channelId}:${sequence}`, 11);
      videoChannel.set(id, channelId);
      const uploads = publishedUploads.get(channelId) ?? [];
      uploads.push({ id, publishedAt: new Date().toISOString(), privacyStatus: 'public' });
      publishedUploads.set(channelId, uploads);
      return id;
    },
  });
}

export const googleSandbox: SandboxDefinition = {
  name: 'google',
  enabled: (config) => !config.GOOGLE_API_KEY,
  start: () => startGoogleSandbox(),
};
