import { createHash, randomBytes } from 'node:crypto';
import {
  createSandboxServer,
  HttpError,
  type Route,
  type RouteRequest,
  type RouteResponse,
  type SandboxServer,
  type SandboxDefinition,
} from './http';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';

export type SandboxSocialPlatform = 'instagram' | 'facebook' | 'tiktok' | 'linkedin' | 'x';
const PLATFORMS: readonly SandboxSocialPlatform[] = ['instagram', 'facebook', 'tiktok', 'linkedin', 'x'];

export interface SocialSandboxOptions {
  /** The OAuth app every platform's token endpoint expects. */
  clientId: string;
  clientSecret: string;
  /** Lifetime of issued access tokens (default one hour). */
  accessTokenTtlSeconds?: number;
  host?: string;
  port?: number;
}

interface TokenRecord {
  platform: SandboxSocialPlatform;
  userId: string;
  expiresAt: number;
  revoked: boolean;
}

export interface SandboxSocialPost {
  id: string;
  platform: SandboxSocialPlatform;
  userId: string;
  text: string;
  mediaUrls: string[];
  mediaType: string;
  createdAt: number;
  url: string;
  /** Metric reads so far: each read advances the counters one deterministic step. */
  metricReads: number;
}

/** A comment under a post (`parentId` null) or a reply to a comment. */
export interface SandboxSocialComment {
  id: string;
  platform: SandboxSocialPlatform;
  /** The post of the conversation. */
  postId: string;
  parentId: string | null;
  userId: string;
  username: string;
  text: string;
  createdAt: number;
}

export interface IssuedAccount {
  platform: SandboxSocialPlatform;
  platformUserId: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
}

export interface SocialSandbox {
  url: string;
  server: SandboxServer;
  posts: SandboxSocialPost[];
  comments: SandboxSocialComment[];
  /** Someone else comments on a post (a platform post id of any of the five platforms). */
  addComment(platform: SandboxSocialPlatform, postId: string, text: string, username?: string): SandboxSocialComment;
  /** Connects an account: tokens the sandbox accepts for that platform user. */
  issueAccount(platform: SandboxSocialPlatform, userId?: string, username?: string): IssuedAccount;
  /** Makes an access token expired (refreshable) or revokes the whole grant (access and refresh tokens). */
  expireToken(accessToken: string): void;
  revokeGrant(token: string): void;
  stop(): Promise<void>;
}

/** The platform's own shape of "your token is no good". */
function unauthorized(platform: SandboxSocialPlatform, reason: 'expired' | 'revoked' | 'missing'): HttpError {
  const message = `access token ${reason}`;
  switch (platform) {
    case 'instagram':
    case 'facebook':
      // Meta answers 400 with OAuthException code 190 (subcode 463 = expired, 460 = revoked).
      return new HttpError(400, message, {
        error: {
          message: `Error validating access token: ${message}`,
          type: 'OAuthException',
          code: 190,
          error_subcode: reason === 'expired' ? 463 : 460,
          fbtrace_id: randomBytes(8).toString('hex'),
        },
      });
    case 'tiktok':
      return new HttpError(401, message, {
        data: {},
        error: {
          code: 'access_token_invalid',
          message: `The access token is invalid or not found in the request: ${message}`,
          log_id: randomBytes(8).toString('hex'),
        },
      });
    case 'linkedin':
      return new HttpError(401, message, {
        status: 401,
        serviceErrorCode: 65601,
        code: reason === 'expired' ? 'EXPIRED_ACCESS_TOKEN' : 'REVOKED_ACCESS_TOKEN',
        message: `The token used in the request has been ${reason}`,
      });
    case 'x':
      return new HttpError(401, message, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' });
  }
}

const invalidGrant = (description: string) => new HttpError(400, description, { error: 'invalid_grant', error_description: description });

/** A stable 0..999 number per post id, so every post's counters differ but never change between runs. */
const seedOf = (id: string) => createHash('sha1').update(id).digest().readUInt16BE(0) % 1000;

/** Counters after `reads` metric reads: they only grow, by a fixed step per read. */
export function sandboxMetrics(post: Pick<SandboxSocialPost, 'id' | 'metricReads'>) {
  const views = 100 + seedOf(post.id) + post.metricReads * 250;
  return { views, likes: Math.floor(views / 12), comments: Math.floor(views / 90), shares: Math.floor(views / 150) };
}

/** A stable number per string, for figures that differ between accounts and days but never between runs. */
const hashOf = (text: string) => createHash('sha1').update(text).digest();

/**
 * Plausible figures of one account's UTC day (`YYYY-MM-DD`): followers grow by a few dozen a day
 * from a per-account base; reach, impressions and interactions vary from day to day. The same
 * account and day always give the same numbers.
 */
export function sandboxDailyInsights(userId: string, date: string) {
  const day = hashOf(`${userId}:${date}`);
  const base = 1000 + (hashOf(userId).readUInt16BE(0) % 9000);
  const days = Math.max(0, Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000) - 20_000);
  const gained = 5 + (day[0]! % 40);
  const lost = day[1]! % 10;
  const reach = 300 + (day.readUInt16BE(2) % 3000);
  const impressions = Math.round(reach * (1.3 + (day[4]! % 50) / 100));
  const likes = Math.floor(reach / 15) + (day[5]! % 20);
  const comments = Math.floor(likes / 8);
  const shares = Math.floor(likes / 12);
  return {
    followers: base + days * 20 + gained - lost,
    gained,
    lost,
    reach,
    impressions,
    views: impressions * 2,
    likes,
    comments,
    shares,
    engagement: likes + comments + shares,
  };
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * One emulator for Instagram (Graph API content publishing), Facebook Pages, TikTok (Content
 * Posting API), LinkedIn (Posts API) and X (API v2), each under `/<platform>`: bearer tokens that
 * expire and can be revoked, each platform's token endpoint, posts that can be listed (so a
 * retried publish can find its earlier post) and metrics that grow deterministically.
 * Tokens the sandbox never issued are accepted as belonging to the user named in the request,
 * so tokens imported by hand work in a demo.
 */
export async function startSocialSandbox(options: SocialSandboxOptions): Promise<SocialSandbox> {
  const ttl = options.accessTokenTtlSeconds ?? 3600;
  const tokens = new Map<string, TokenRecord>();
  const refreshTokens = new Map<string, TokenRecord>();
  const codes = new Map<string, { platform: SandboxSocialPlatform; userId: string }>();
  const posts: SandboxSocialPost[] = [];
  const comments: SandboxSocialComment[] = [];
  const igContainers = new Map<string, { userId: string; text: string; mediaUrls: string[]; mediaType: string; checks: number }>();
  const tiktokPublishes = new Map<
    string,
    { userId: string; text: string; mediaUrls: string[]; mediaType: string; checks: number; postId?: string }
  >();
  let sequence = 0;
  const next = () => (sequence += 1);
  /** Ids in each platform's real shape: LinkedIn person URNs, numeric X/Facebook/Instagram ids; TikTok's open_id is opaque. */
  const newUserId = (platform: SandboxSocialPlatform) =>
    platform === 'linkedin'
      ? `urn:li:person:sbx${next()}`
      : platform === 'tiktok'
        ? `tiktok-user-${next()}`
        : String(1_000_000_000 + next());

  function issue(platform: SandboxSocialPlatform, userId: string): { accessToken: string; refreshToken: string; expiresAt: number } {
    const expiresAt = Date.now() + ttl * 1000;
    const accessToken = `${platform}-at-${randomBytes(12).toString('hex')}`;
    const refreshToken = `${platform}-rt-${randomBytes(12).toString('hex')}`;
    tokens.set(accessToken, { platform, userId, expiresAt, revoked: false });
    refreshTokens.set(refreshToken, { platform, userId, expiresAt: Number.MAX_SAFE_INTEGER, revoked: false });
    return { accessToken, refreshToken, expiresAt };
  }

  function bearer(req: RouteRequest): string | undefined {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    return req.query.get('access_token') ?? undefined;
  }

  /** The user a request acts as; unknown tokens are adopted for `claimedUser`. */
  function authenticate(platform: SandboxSocialPlatform, req: RouteRequest, claimedUser?: string): string {
    const token = bearer(req);
    if (!token) throw unauthorized(platform, 'missing');
    let record = tokens.get(token);
    if (!record) {
      record = { platform, userId: claimedUser ?? `${platform}-user`, expiresAt: Date.now() + ttl * 1000, revoked: false };
      tokens.set(token, record);
    }
    if (record.platform !== platform || record.revoked) throw unauthorized(platform, 'revoked');
    if (record.expiresAt <= Date.now()) throw unauthorized(platform, 'expired');
    return record.userId;
  }

  function checkClient(clientId: string | undefined, clientSecret: string | undefined): void {
    if (clientId !== options.clientId || clientSecret !== options.clientSecret)
      throw new HttpError(401, 'invalid client', { error: 'invalid_client', error_description: 'Client authentication failed' });
  }

  /** OAuth 2 token endpoint logic shared by TikTok, LinkedIn and X (they differ in field names only). */
  function grant(platform: SandboxSocialPlatform, form: URLSearchParams, rotateRefreshToken: boolean) {
    const type = form.get('grant_type');
    if (type === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      if (!code || code.platform !== platform) throw invalidGrant('authorization code is invalid or was already used');
      codes.delete(form.get('code') ?? '');
      const issued = issue(platform, code.userId);
      return { ...issued, userId: code.userId };
    }
    if (type !== 'refresh_token')
      throw new HttpError(400, 'unsupported grant', { error: 'unsupported_grant_type', error_description: `grant_type ${type ?? ''}` });
    const refreshToken = form.get('refresh_token') ?? '';
    let record = refreshTokens.get(refreshToken);
    if (!record) {
      record = { platform, userId: `${platform}-user`, expiresAt: Number.MAX_SAFE_INTEGER, revoked: false };
      refreshTokens.set(refreshToken, record);
    }
    if (record.revoked || record.platform !== platform) throw invalidGrant('refresh token is invalid, expired or revoked');
    const issued = issue(platform, record.userId);
    if (rotateRefreshToken) record.revoked = true;
    else refreshTokens.delete(issued.refreshToken);
    return { ...issued, refreshToken: rotateRefreshToken ? issued.refreshToken : refreshToken, userId: record.userId };
  }

  /** Graph API (Instagram/Facebook) long-lived token refresh: a valid token buys a fresh one. */
  function graphRefresh(platform: 'instagram' | 'facebook', token: string) {
    const record = tokens.get(token) ?? { platform, userId: `${platform}-user`, expiresAt: Date.now() + ttl * 1000, revoked: false };
    if (record.revoked) throw unauthorized(platform, 'revoked');
    if (record.expiresAt <= Date.now()) throw unauthorized(platform, 'expired');
    const { accessToken } = issue(platform, record.userId);
    return { access_token: accessToken, token_type: 'bearer', expires_in: ttl };
  }

  function addPost(
    platform: SandboxSocialPlatform,
    userId: string,
    text: string,
    mediaUrls: string[],
    mediaType: string,
  ): SandboxSocialPost {
    const n = next();
    const id = {
      instagram: `1790000000${String(n).padStart(7, '0')}`,
      facebook: `${userId}_${1000000 + n}`,
      tiktok: `7300000000${String(n).padStart(9, '0')}`,
      linkedin: `urn:li:share:7100000000${String(n).padStart(9, '0')}`,
      x: `1850000000${String(n).padStart(9, '0')}`,
    }[platform];
    const url = {
      instagram: `https://www.instagram.com/p/SBX${n.toString(36).toUpperCase()}/`,
      facebook: `https://www.facebook.com/${id.replace('_', '/posts/')}`,
      tiktok: `https://www.tiktok.com/@${userId}/video/${id}`,
      linkedin: `https://www.linkedin.com/feed/update/${id}/`,
      x: `https://x.com/i/status/${id}`,
    }[platform];
    const post: SandboxSocialPost = { id, platform, userId, text, mediaUrls, mediaType, createdAt: Date.now(), url, metricReads: 0 };
    posts.push(post);
    return post;
  }

  const isPost = (platform: SandboxSocialPlatform, id: string) => posts.some((p) => p.platform === platform && p.id === id);

  function findPost(platform: SandboxSocialPlatform, id: string): SandboxSocialPost {
    const post = posts.find((p) => p.platform === platform && p.id === id);
    if (!post)
      throw new HttpError(404, `no ${platform} post ${id}`, {
        error: { message: `Unsupported get request. Object with ID '${id}' does not exist`, code: 100 },
      });
    return post;
  }

  function addComment(
    platform: SandboxSocialPlatform,
    postId: string,
    parentId: string | null,
    userId: string,
    username: string,
    text: string,
  ): SandboxSocialComment {
    const n = next();
    const id = {
      instagram: `1795000000${String(n).padStart(7, '0')}`,
      facebook: `${postId.split('_')[1] ?? postId}_${2000000 + n}`,
      tiktok: `7350000000${String(n).padStart(9, '0')}`,
      linkedin: `urn:li:comment:(${postId},7200000000${String(n).padStart(9, '0')})`,
      x: `1860000000${String(n).padStart(9, '0')}`,
    }[platform];
    const comment: SandboxSocialComment = { id, platform, postId, parentId, userId, username, text, createdAt: Date.now() };
    comments.push(comment);
    return comment;
  }
  const findComment = (platform: SandboxSocialPlatform, id: string) => comments.find((c) => c.platform === platform && c.id === id);
  const newest = (list: SandboxSocialComment[]) => [...list].sort((a, b) => b.createdAt - a.createdAt);
  /** The day a Graph API `since` names (unix seconds or YYYY-MM-DD), else today (UTC). */
  const dayOf = (since: string | null) =>
    since ? utcDay(/^\d+$/.test(since) ? Number(since) * 1000 : Date.parse(since)) : utcDay(Date.now());
  const graphDaily = (values: Record<string, number>, names: string[]) => ({
    data: names
      .filter((name) => name in values)
      .map((name) => ({ name, period: 'day', values: [{ value: values[name], end_time: iso(Date.now()) }] })),
  });

  const recent = (platform: SandboxSocialPlatform, userId: string) =>
    posts.filter((p) => p.platform === platform && p.userId === userId).sort((a, b) => b.createdAt - a.createdAt);
  const metricsOf = (post: SandboxSocialPost) => {
    post.metricReads += 1;
    return sandboxMetrics(post);
  };
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
  const form = (req: RouteRequest) => {
    const params = req.form();
    for (const [k, v] of req.query) if (!params.has(k)) params.set(k, v);
    return params;
  };

  const instagram: Route[] = [
    {
      method: 'GET',
      path: '/instagram/refresh_access_token',
      handle: (req) => {
        if (req.query.get('grant_type') !== 'ig_refresh_token') throw new HttpError(400, 'grant_type must be ig_refresh_token');
        return { json: graphRefresh('instagram', req.query.get('access_token') ?? '') };
      },
    },
    {
      method: 'POST',
      path: '/instagram/:version/:userId/media',
      handle: (req) => {
        const userId = authenticate('instagram', req, req.params.userId);
        const params = form(req);
        const mediaUrls = params.get('children')
          ? (params.get('children') ?? '').split(',').flatMap((child) => igContainers.get(child)?.mediaUrls ?? [])
          : [params.get('image_url') ?? params.get('video_url') ?? ''];
        if (mediaUrls.some((u) => !/^https?:\/\//.test(u)))
          throw new HttpError(400, 'media URL missing', {
            error: { message: 'The parameter image_url or video_url is required', code: 100 },
          });
        const id = `1800000000${String(next()).padStart(7, '0')}`;
        igContainers.set(id, {
          userId,
          text: params.get('caption') ?? '',
          mediaUrls,
          mediaType: params.get('media_type') ?? 'IMAGE',
          checks: 0,
        });
        return { json: { id } };
      },
    },
    {
      method: 'POST',
      path: '/instagram/:version/:userId/media_publish',
      handle: (req) => {
        const userId = authenticate('instagram', req, req.params.userId);
        const container = igContainers.get(form(req).get('creation_id') ?? '');
        if (!container || container.userId !== userId)
          throw new HttpError(400, 'unknown container', { error: { message: 'Media ID is not available', code: 9007 } });
        igContainers.delete(form(req).get('creation_id') ?? '');
        return { json: { id: addPost('instagram', userId, container.text, container.mediaUrls, container.mediaType).id } };
      },
    },
    {
      method: 'GET',
      path: '/instagram/:version/:userId/media',
      handle: (req) => {
        const userId = authenticate('instagram', req, req.params.userId);
        return {
          json: {
            data: recent('instagram', userId).map((p) => ({ id: p.id, caption: p.text, permalink: p.url, timestamp: iso(p.createdAt) })),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/instagram/:version/:id/insights',
      handle: (req) => {
        const userId = authenticate('instagram', req, req.params.id);
        if (!isPost('instagram', req.params.id ?? '')) {
          // The account's insights (period=day) of the day `since` names.
          const day = sandboxDailyInsights(userId, dayOf(req.query.get('since')));
          const values = { ...day, total_interactions: day.engagement, follower_count: day.gained };
          return { json: graphDaily(values, (req.query.get('metric') ?? '').split(',')) };
        }
        const metrics = metricsOf(findPost('instagram', req.params.id ?? ''));
        const data = Object.entries(metrics).map(([name, value]) => ({
          name,
          period: 'lifetime',
          values: [{ value }],
          id: `${req.params.id}/insights/${name}/lifetime`,
        }));
        return { json: { data } };
      },
    },
    {
      method: 'GET',
      path: '/instagram/:version/:id',
      handle: (req) => {
        authenticate('instagram', req);
        const container = igContainers.get(req.params.id ?? '');
        if (container) {
          // Videos need one extra check before they are ready, like a real upload being processed.
          container.checks += 1;
          const ready = container.mediaType === 'IMAGE' || container.checks > 1;
          return { json: { id: req.params.id, status_code: ready ? 'FINISHED' : 'IN_PROGRESS' } };
        }
        if (!isPost('instagram', req.params.id ?? '')) {
          const userId = authenticate('instagram', req, req.params.id);
          const { followers } = sandboxDailyInsights(userId, utcDay(Date.now()));
          return { json: { id: userId, followers_count: followers, media_count: recent('instagram', userId).length } };
        }
        const post = findPost('instagram', req.params.id ?? '');
        return { json: { id: post.id, caption: post.text, permalink: post.url, timestamp: iso(post.createdAt) } };
      },
    },
    {
      method: 'GET',
      path: '/instagram/:version/:id/comments',
      handle: (req) => {
        authenticate('instagram', req);
        const post = findPost('instagram', req.params.id ?? '');
        const data = newest(comments.filter((c) => c.platform === 'instagram' && c.postId === post.id && c.parentId === null)).map((c) => ({
          id: c.id,
          text: c.text,
          username: c.username,
          timestamp: iso(c.createdAt),
          from: { id: c.userId, username: c.username },
        }));
        return { json: { data } };
      },
    },
    {
      method: 'GET',
      path: '/instagram/:version/:commentId/replies',
      handle: (req) => {
        authenticate('instagram', req);
        const parent = findComment('instagram', req.params.commentId ?? '');
        if (!parent) throw new HttpError(400, 'unknown comment', { error: { message: 'Unsupported get request', code: 100 } });
        const data = newest(comments.filter((c) => c.parentId === parent.id)).map((c) => ({
          id: c.id,
          text: c.text,
          username: c.username,
          timestamp: iso(c.createdAt),
        }));
        return { json: { data } };
      },
    },
    {
      method: 'POST',
      path: '/instagram/:version/:commentId/replies',
      handle: (req) => {
        const userId = authenticate('instagram', req);
        const parent = findComment('instagram', req.params.commentId ?? '');
        if (!parent) throw new HttpError(400, 'unknown comment', { error: { message: 'Unsupported post request', code: 100 } });
        const message = form(req).get('message') ?? '';
        if (!message || [...message].length > 2200)
          throw new HttpError(400, 'bad message', { error: { message: 'The message must be 1 to 2200 characters', code: 100 } });
        return { json: { id: addComment('instagram', parent.postId, parent.id, userId, `user_${userId}`, message).id } };
      },
    },
  ];

  const facebook: Route[] = [
    {
      method: 'GET',
      path: '/facebook/:version/oauth/access_token',
      handle: (req) => {
        checkClient(req.query.get('client_id') ?? undefined, req.query.get('client_secret') ?? undefined);
        if (req.query.get('grant_type') !== 'fb_exchange_token') throw new HttpError(400, 'grant_type must be fb_exchange_token');
        return { json: graphRefresh('facebook', req.query.get('fb_exchange_token') ?? '') };
      },
    },
    ...(['photos', 'videos', 'feed'] as const).map((edge): Route => ({
      method: 'POST',
      path: `/facebook/:version/:pageId/${edge}`,
      handle: (req) => {
        const pageId = authenticate('facebook', req, req.params.pageId);
        const params = form(req);
        const text = params.get(edge === 'photos' ? 'caption' : edge === 'videos' ? 'description' : 'message') ?? '';
        const media = params.get(edge === 'photos' ? 'url' : edge === 'videos' ? 'file_url' : 'link');
        const post = addPost('facebook', pageId, text, media ? [media] : [], edge === 'feed' ? 'text' : edge);
        return { json: edge === 'photos' ? { id: post.id.split('_')[1], post_id: post.id } : { id: post.id } };
      },
    })),
    {
      method: 'GET',
      path: '/facebook/:version/:pageId/insights',
      handle: (req) => {
        const pageId = authenticate('facebook', req, req.params.pageId);
        const day = sandboxDailyInsights(pageId, dayOf(req.query.get('since')));
        const values = {
          page_impressions: day.impressions,
          page_impressions_unique: day.reach,
          page_post_engagements: day.engagement,
          page_fan_adds: day.gained,
          page_fan_removes: day.lost,
          page_video_views: day.views,
        };
        return { json: graphDaily(values, (req.query.get('metric') ?? '').split(',')) };
      },
    },
    {
      method: 'GET',
      path: '/facebook/:version/:pageId/feed',
      handle: (req) => {
        const pageId = authenticate('facebook', req, req.params.pageId);
        return {
          json: {
            data: recent('facebook', pageId).map((p) => ({
              id: p.id,
              message: p.text,
              permalink_url: p.url,
              created_time: iso(p.createdAt),
            })),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/facebook/:version/:id',
      handle: (req) => {
        if (!isPost('facebook', req.params.id ?? '')) {
          const pageId = authenticate('facebook', req, req.params.id);
          const { followers } = sandboxDailyInsights(pageId, utcDay(Date.now()));
          return { json: { id: pageId, followers_count: followers, fan_count: followers } };
        }
        authenticate('facebook', req);
        const post = findPost('facebook', req.params.id ?? '');
        const fields = req.query.get('fields') ?? '';
        if (!fields.includes('reactions'))
          return { json: { id: post.id, message: post.text, permalink_url: post.url, created_time: iso(post.createdAt) } };
        const m = metricsOf(post);
        return {
          json: {
            id: post.id,
            reactions: { data: [], summary: { total_count: m.likes } },
            comments: { data: [], summary: { total_count: m.comments } },
            shares: { count: m.shares },
          },
        };
      },
    },
  ];

  const tiktokVideo = (p: SandboxSocialPost, fields: string) => {
    const all: Record<string, unknown> = {
      id: p.id,
      title: p.mediaType === 'video' ? p.text : p.text.slice(0, 90),
      video_description: p.text,
      share_url: p.url,
      create_time: Math.floor(p.createdAt / 1000),
    };
    if (fields.includes('view_count')) {
      const m = metricsOf(p);
      Object.assign(all, { view_count: m.views, like_count: m.likes, comment_count: m.comments, share_count: m.shares });
    }
    return Object.fromEntries(Object.entries(all).filter(([k]) => fields.split(',').includes(k)));
  };
  const tiktokOk = (data: unknown): RouteResponse => ({
    json: { data, error: { code: 'ok', message: '', log_id: randomBytes(8).toString('hex') } },
  });

  const tiktok: Route[] = [
    ...(['video', 'content'] as const).map((kind): Route => ({
      method: 'POST',
      path: `/tiktok/v2/post/publish/${kind}/init/`,
      handle: (req) => {
        const userId = authenticate('tiktok', req);
        const body = req.json<{
          post_info?: { title?: string; description?: string };
          source_info?: { video_url?: string; photo_images?: string[] };
        }>();
        const publishId = `v_pub_url~v2-1.${String(next()).padStart(10, '0')}`;
        const text = kind === 'video' ? (body?.post_info?.title ?? '') : (body?.post_info?.description ?? '');
        const mediaUrls = kind === 'video' ? [body?.source_info?.video_url ?? ''] : (body?.source_info?.photo_images ?? []);
        tiktokPublishes.set(publishId, { userId, text, mediaUrls, mediaType: kind === 'video' ? 'video' : 'photo', checks: 0 });
        return tiktokOk({ publish_id: publishId });
      },
    })),
    {
      method: 'POST',
      path: '/tiktok/v2/post/publish/status/fetch/',
      handle: (req) => {
        authenticate('tiktok', req);
        const publishId = req.json<{ publish_id?: string }>()?.publish_id ?? '';
        const publish = tiktokPublishes.get(publishId);
        if (!publish)
          throw new HttpError(400, 'unknown publish id', { data: {}, error: { code: 'invalid_params', message: 'publish_id not found' } });
        publish.checks += 1;
        // The pull from the URL takes one status check; then the post is public.
        if (publish.checks < 2) return tiktokOk({ status: 'PROCESSING_DOWNLOAD' });
        publish.postId ??= addPost('tiktok', publish.userId, publish.text, publish.mediaUrls, publish.mediaType).id;
        return tiktokOk({ status: 'PUBLISH_COMPLETE', publicaly_available_post_id: [Number(publish.postId)] });
      },
    },
    {
      method: 'POST',
      path: '/tiktok/v2/video/query/',
      handle: (req) => {
        const userId = authenticate('tiktok', req);
        const ids = req.json<{ filters?: { video_ids?: string[] } }>()?.filters?.video_ids ?? [];
        const fields = req.query.get('fields') ?? 'id';
        return tiktokOk({
          videos: recent('tiktok', userId)
            .filter((p) => ids.includes(p.id))
            .map((p) => tiktokVideo(p, fields)),
        });
      },
    },
    {
      method: 'POST',
      path: '/tiktok/v2/video/list/',
      handle: (req) => {
        const userId = authenticate('tiktok', req);
        const max = req.json<{ max_count?: number }>()?.max_count ?? 20;
        const fields = req.query.get('fields') ?? 'id';
        return tiktokOk({
          videos: recent('tiktok', userId)
            .slice(0, max)
            .map((p) => tiktokVideo(p, fields)),
          cursor: 0,
          has_more: false,
        });
      },
    },
    {
      method: 'POST',
      path: '/tiktok/v2/oauth/token/',
      handle: (req) => {
        const params = req.form();
        checkClient(params.get('client_key') ?? undefined, params.get('client_secret') ?? undefined);
        const issued = grant('tiktok', params, false);
        return {
          json: {
            access_token: issued.accessToken,
            expires_in: ttl,
            open_id: issued.userId,
            refresh_expires_in: 31_536_000,
            refresh_token: issued.refreshToken,
            scope: 'user.info.basic,video.publish,video.list',
            token_type: 'Bearer',
          },
        };
      },
    },
  ];

  const linkedin: Route[] = [
    {
      method: 'POST',
      path: '/linkedin/rest/posts',
      handle: (req) => {
        const body = req.json<{ author?: string; commentary?: string; content?: { article?: { source?: string } } }>();
        const userId = authenticate('linkedin', req, body?.author);
        if (!body?.author?.startsWith('urn:li:'))
          throw new HttpError(422, 'author must be a URN', { status: 422, message: 'ERROR :: /author :: is not a valid URN' });
        const source = body.content?.article?.source;
        const post = addPost('linkedin', userId, body.commentary ?? '', source ? [source] : [], source ? 'article' : 'text');
        return { status: 201, headers: { 'x-restli-id': post.id } };
      },
    },
    {
      method: 'GET',
      path: '/linkedin/rest/posts',
      handle: (req) => {
        const author = req.query.get('author') ?? '';
        const userId = authenticate('linkedin', req, author);
        return {
          json: {
            elements: recent('linkedin', userId).map((p) => ({
              id: p.id,
              author,
              commentary: p.text,
              createdAt: p.createdAt,
              lifecycleState: 'PUBLISHED',
            })),
            paging: { start: 0, count: 50 },
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/linkedin/rest/socialActions/:urn',
      handle: (req) => {
        authenticate('linkedin', req);
        const m = metricsOf(findPost('linkedin', req.params.urn ?? ''));
        return {
          json: {
            likesSummary: { totalLikes: m.likes, likedByCurrentUser: false },
            commentsSummary: { aggregatedTotalComments: m.comments, totalFirstLevelComments: m.comments },
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/linkedin/oauth/v2/accessToken',
      handle: (req) => {
        const params = req.form();
        checkClient(params.get('client_id') ?? undefined, params.get('client_secret') ?? undefined);
        const issued = grant('linkedin', params, false);
        return {
          json: {
            access_token: issued.accessToken,
            expires_in: ttl,
            refresh_token: issued.refreshToken,
            refresh_token_expires_in: 31_536_000,
            scope: 'w_member_social',
          },
        };
      },
    },
  ];

  const x: Route[] = [
    {
      method: 'POST',
      path: '/x/2/tweets',
      handle: (req) => {
        const userId = authenticate('x', req);
        const body = req.json<{ text?: string; reply?: { in_reply_to_tweet_id?: string } }>();
        const text = body?.text ?? '';
        if (!text)
          throw new HttpError(400, 'text required', {
            errors: [{ message: 'text is required' }],
            title: 'Invalid Request',
            type: 'https://api.twitter.com/2/problems/invalid-request',
          });
        const inReplyTo = body?.reply?.in_reply_to_tweet_id;
        if (inReplyTo) {
          // A reply to a comment: it joins the comment's conversation.
          const parent = findComment('x', inReplyTo);
          if (!parent)
            throw new HttpError(400, 'unknown tweet', { errors: [{ message: `no tweet ${inReplyTo}` }], title: 'Invalid Request' });
          if ([...text].length > 280)
            throw new HttpError(400, 'text too long', { errors: [{ message: 'Your Tweet text is too long.' }], title: 'Invalid Request' });
          const reply = addComment('x', parent.postId, parent.id, userId, `user_${userId}`, text);
          return { status: 201, json: { data: { id: reply.id, text, edit_history_tweet_ids: [reply.id] } } };
        }
        const post = addPost('x', userId, text, [], 'text');
        return { status: 201, json: { data: { id: post.id, text, edit_history_tweet_ids: [post.id] } } };
      },
    },
    {
      method: 'GET',
      path: '/x/2/users/:id/tweets',
      handle: (req) => {
        const userId = authenticate('x', req, req.params.id);
        const max = Number(req.query.get('max_results') ?? 10);
        const start = Date.parse(req.query.get('start_time') ?? '') || 0;
        const end = Date.parse(req.query.get('end_time') ?? '') || Number.MAX_SAFE_INTEGER;
        const withMetrics = (req.query.get('tweet.fields') ?? '').includes('public_metrics');
        const data = recent('x', userId)
          .filter((p) => p.createdAt >= start && p.createdAt < end)
          .slice(0, max)
          .map((p) => {
            const m = sandboxMetrics(p);
            return {
              id: p.id,
              text: p.text,
              created_at: new Date(p.createdAt).toISOString(),
              edit_history_tweet_ids: [p.id],
              ...(withMetrics
                ? {
                    public_metrics: {
                      retweet_count: m.shares,
                      reply_count: m.comments,
                      like_count: m.likes,
                      quote_count: 0,
                      impression_count: m.views,
                    },
                  }
                : {}),
            };
          });
        return { json: data.length ? { data, meta: { result_count: data.length } } : { meta: { result_count: 0 } } };
      },
    },
    {
      method: 'GET',
      path: '/x/2/users/:id',
      handle: (req) => {
        const userId = authenticate('x', req, req.params.id);
        const { followers } = sandboxDailyInsights(userId, utcDay(Date.now()));
        return {
          json: {
            data: {
              id: userId,
              username: `user_${userId}`,
              public_metrics: {
                followers_count: followers,
                following_count: 180,
                tweet_count: recent('x', userId).length,
                listed_count: 3,
              },
            },
          },
        };
      },
    },
    {
      // Only the operators we use: `conversation_id:<id>`, `from:<user id>` and `-from:<user id>`.
      method: 'GET',
      path: '/x/2/tweets/search/recent',
      handle: (req) => {
        authenticate('x', req);
        const query = req.query.get('query') ?? '';
        const conversation = /(?:^|\s)conversation_id:(\S+)/.exec(query)?.[1];
        const from = /(?:^|\s)from:(\S+)/.exec(query)?.[1];
        const notFrom = /(?:^|\s)-from:(\S+)/.exec(query)?.[1];
        const found = newest(
          comments.filter(
            (c) =>
              c.platform === 'x' &&
              (!conversation || c.postId === conversation) &&
              (!from || c.userId === from) &&
              (!notFrom || c.userId !== notFrom),
          ),
        ).slice(0, Number(req.query.get('max_results') ?? 10));
        if (found.length === 0) return { json: { meta: { result_count: 0 } } };
        const data = found.map((c) => ({
          id: c.id,
          text: c.text,
          author_id: c.userId,
          created_at: new Date(c.createdAt).toISOString(),
          conversation_id: c.postId,
          referenced_tweets: [{ type: 'replied_to', id: c.parentId ?? c.postId }],
        }));
        const users = [...new Map(found.map((c) => [c.userId, { id: c.userId, username: c.username }])).values()];
        return { json: { data, includes: { users }, meta: { result_count: data.length } } };
      },
    },
    {
      method: 'GET',
      path: '/x/2/tweets/:id',
      handle: (req) => {
        authenticate('x', req);
        const post = findPost('x', req.params.id ?? '');
        const m = metricsOf(post);
        return {
          json: {
            data: {
              id: post.id,
              text: post.text,
              public_metrics: {
                retweet_count: m.shares,
                reply_count: m.comments,
                like_count: m.likes,
                quote_count: 0,
                bookmark_count: 0,
                impression_count: m.views,
              },
            },
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/x/2/oauth2/token',
      handle: (req) => {
        const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
        const [id, secret] = basic.split(':').map((s) => decodeURIComponent(s));
        checkClient(id, secret);
        const issued = grant('x', req.form(), true);
        return {
          json: {
            token_type: 'bearer',
            expires_in: ttl,
            access_token: issued.accessToken,
            scope: 'tweet.read tweet.write users.read offline.access',
            refresh_token: issued.refreshToken,
          },
        };
      },
    },
  ];

  const isPlatform = (value: unknown): value is SandboxSocialPlatform => PLATFORMS.includes(value as SandboxSocialPlatform);

  const sandbox: Omit<SocialSandbox, 'url' | 'server' | 'stop'> = {
    posts,
    comments,
    addComment(platform, postId, text, username) {
      findPost(platform, postId);
      const author = username ?? `fan_${randomBytes(3).toString('hex')}`;
      return addComment(platform, postId, null, `${platform}-fan-${author}`, author, text);
    },
    issueAccount(platform, userId, username) {
      const platformUserId = userId ?? newUserId(platform);
      const issued = issue(platform, platformUserId);
      return {
        platform,
        platformUserId,
        username: username ?? `sandbox_${platform}`,
        ...issued,
        expiresAt: new Date(issued.expiresAt).toISOString(),
      };
    },
    expireToken(accessToken) {
      const record = tokens.get(accessToken);
      if (!record) throw new HttpError(404, 'unknown access token');
      record.expiresAt = Date.now() - 1;
    },
    revokeGrant(token) {
      const record = tokens.get(token) ?? refreshTokens.get(token);
      if (!record) throw new HttpError(404, 'unknown token');
      for (const r of [...tokens.values(), ...refreshTokens.values()])
        if (r.platform === record.platform && r.userId === record.userId) r.revoked = true;
    },
  };

  const adminRoutes: Route[] = [
    {
      method: 'POST',
      path: '/__sandbox/social/accounts',
      handle: (req) => {
        const body = req.json<{ platform?: string; userId?: string; username?: string }>();
        if (!isPlatform(body?.platform)) throw new HttpError(400, `platform must be one of ${PLATFORMS.join(', ')}`);
        return { status: 201, json: sandbox.issueAccount(body.platform, body.userId, body.username) };
      },
    },
    {
      method: 'POST',
      path: '/__sandbox/social/tokens/expire',
      handle: (req) => {
        sandbox.expireToken(req.json<{ token?: string }>()?.token ?? '');
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/__sandbox/social/tokens/revoke',
      handle: (req) => {
        sandbox.revokeGrant(req.json<{ token?: string }>()?.token ?? '');
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/__sandbox/social/comments',
      handle: (req) => {
        const body = req.json<{ platform?: string; postId?: string; text?: string; username?: string }>();
        if (!isPlatform(body?.platform) || !body.postId || !body.text) throw new HttpError(400, 'needs platform, postId and text');
        return { status: 201, json: sandbox.addComment(body.platform, body.postId, body.text, body.username) };
      },
    },
    {
      method: 'GET',
      path: '/__sandbox/social/comments',
      handle: (req) => ({
        json: { comments: comments.filter((c) => !req.query.get('platform') || c.platform === req.query.get('platform')) },
      }),
    },
    {
      method: 'GET',
      path: '/__sandbox/social/posts',
      handle: (req) => ({ json: { posts: posts.filter((p) => !req.query.get('platform') || p.platform === req.query.get('platform')) } }),
    },
    {
      // The consent screen of an OAuth connect flow: approves at once and redirects with a code.
      method: 'GET',
      path: '/__sandbox/social/:platform/authorize',
      handle: (req) => {
        const platform = req.params.platform;
        const redirect = req.query.get('redirect_uri');
        if (!isPlatform(platform) || !redirect) throw new HttpError(400, 'needs a known platform and redirect_uri');
        const code = randomBytes(12).toString('hex');
        codes.set(code, { platform, userId: req.query.get('user') ?? newUserId(platform) });
        const target = new URL(redirect);
        target.searchParams.set('code', code);
        if (req.query.get('state')) target.searchParams.set('state', req.query.get('state') ?? '');
        return { status: 302, headers: { location: target.toString() } };
      },
    },
  ];

  const server = await createSandboxServer({
    name: 'social',
    routes: [...instagram, ...facebook, ...tiktok, ...linkedin, ...x],
    adminRoutes,
    host: options.host,
    port: options.port,
    errorBody: (status, message) => ({ error: { message, code: status } }),
    onReset: () => {
      tokens.clear();
      refreshTokens.clear();
      codes.clear();
      posts.length = 0;
      comments.length = 0;
      igContainers.clear();
      tiktokPublishes.clear();
    },
  });

  return { ...sandbox, url: server.url, server, stop: () => server.stop() };
}

export const socialSandbox: SandboxDefinition = {
  name: 'social',
  enabled: (config) => !config.SOCIAL_CLIENTS_JSON,
  start: () => startSocialSandbox(SANDBOX_CREDENTIALS.social),
};
