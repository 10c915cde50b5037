import { randomBytes } from 'node:crypto';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';
import { createSandboxServer, HttpError, type Route, type RouteRequest, type SandboxDefinition, type SandboxServer } from './http';

export interface AyrshareSandboxOptions {
  apiKey: string;
  host?: string;
  port?: number;
}

/** Networks Ayrshare posts to, by its names (X is `twitter`). */
const NETWORKS = [
  'bluesky',
  'facebook',
  'gmb',
  'instagram',
  'linkedin',
  'pinterest',
  'reddit',
  'telegram',
  'threads',
  'tiktok',
  'twitter',
  'youtube',
];

interface PlatformPost {
  status: 'success' | 'error';
  id?: string;
  platform: string;
  postUrl?: string;
}

interface PlatformError {
  action: 'post';
  status: 'error';
  code: number;
  message: string;
  platform: string;
}

/** One POST /api/post as Ayrshare keeps it (history, GET /api/post/:id). */
export interface AyrshareSandboxPost {
  id: string;
  profileKey: string;
  post: string;
  platforms: string[];
  mediaUrls: string[];
  postIds: PlatformPost[];
  errors: PlatformError[];
  status: 'success' | 'error' | 'deleted';
  idempotencyKey?: string;
  created: string;
}

interface Profile {
  title: string;
  networks: Set<string>;
  /** Network → refusals still to answer (message each). */
  refusals: Map<string, string[]>;
}

export interface AyrshareSandbox {
  url: string;
  server: SandboxServer;
  /** Every post accepted for at least one network, oldest first. */
  posts: AyrshareSandboxPost[];
  /** A User Profile with these networks linked; returns its Profile-Key. */
  issueProfile(networks: string[], title?: string): string;
  /** The next `times` posts of the profile to `network` are refused with `message` (HTTP 400, per-network error). */
  refuse(profileKey: string, network: string, message: string, times?: number): void;
  stop(): Promise<void>;
}

const fail = (status: number, code: number, message: string) => new HttpError(status, message, { status: 'error', code, message });

/**
 * Ayrshare's REST API as far as we use it: `GET /api/user`, `POST /api/post` (platforms[], per-network
 * results and errors, `idempotencyKey`), `GET /api/post/:id`, `DELETE /api/post`, `GET /api/history`
 * and `POST /api/analytics/post`. Requests need `Authorization: Bearer <apiKey>` and a known
 * `Profile-Key`. Faults (429, 5xx, slow) through the shared `/__sandbox/faults`.
 */
export async function startAyrshareSandbox(options: AyrshareSandboxOptions): Promise<AyrshareSandbox> {
  const profiles = new Map<string, Profile>();
  const posts: AyrshareSandboxPost[] = [];

  function profileOf(req: RouteRequest): [string, Profile] {
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) throw fail(401, 102, 'API Key not valid.');
    const header = req.headers['profile-key'];
    const key = Array.isArray(header) ? header[0] : header;
    const profile = key ? profiles.get(key) : undefined;
    if (!key || !profile) throw fail(403, 147, 'Profile Key not found. Please verify the Profile Key.');
    return [key, profile];
  }

  const newId = () => randomBytes(10).toString('base64url');
  const networkPostId = () => `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const postUrlOf = (network: string, id: string) => `https://${network === 'twitter' ? 'x' : network}.com/ayrshare-sandbox/${id}`;
  const visible = (p: AyrshareSandboxPost) => p.status !== 'deleted';

  function publish(key: string, profile: Profile, network: string): PlatformPost | PlatformError {
    if (!profile.networks.has(network))
      return {
        action: 'post',
        status: 'error',
        code: 156,
        message: `${network} is not linked with Ayrshare. Please confirm the linkage on the Social Accounts page in your dashboard.`,
        platform: network,
      };
    const refusal = profile.refusals.get(network)?.shift();
    if (refusal !== undefined) return { action: 'post', status: 'error', code: 110, message: refusal, platform: network };
    const id = networkPostId();
    return { status: 'success', id, platform: network, postUrl: postUrlOf(network, id) };
  }

  const answerOf = (p: AyrshareSandboxPost) => ({
    status: p.status === 'deleted' ? 'deleted' : p.errors.length > 0 ? 'error' : 'success',
    errors: p.errors,
    postIds: p.postIds,
    id: p.id,
    refId: p.profileKey.slice(0, 8),
    post: p.post,
  });

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/api/user',
      handle: (req) => {
        const [key, profile] = profileOf(req);
        return { json: { title: profile.title, activeSocialAccounts: [...profile.networks], refId: key.slice(0, 8) } };
      },
    },
    {
      method: 'POST',
      path: '/api/post',
      handle: (req) => {
        const [key, profile] = profileOf(req);
        const body = req.json<{ post?: unknown; platforms?: unknown; mediaUrls?: unknown; idempotencyKey?: unknown }>() ?? {};
        if (typeof body.post !== 'string') throw fail(400, 101, 'Missing or invalid post parameter.');
        const networks = Array.isArray(body.platforms) ? body.platforms.filter((p): p is string => typeof p === 'string') : [];
        if (networks.length === 0 || networks.some((n) => !NETWORKS.includes(n)))
          throw fail(400, 108, 'Missing or invalid platforms parameter.');
        const mediaUrls = Array.isArray(body.mediaUrls) ? body.mediaUrls.filter((u): u is string => typeof u === 'string') : [];
        if (mediaUrls.some((u) => !u.startsWith('https://'))) throw fail(400, 140, 'Media URLs must be secure and begin with https://');
        const idempotencyKey = typeof body.idempotencyKey === 'string' ? body.idempotencyKey : undefined;
        // The same idempotency key identifies the same operation: its first answer again, nothing posted twice.
        const prior = idempotencyKey && posts.find((p) => p.profileKey === key && p.idempotencyKey === idempotencyKey);
        if (prior) return { status: prior.errors.length > 0 ? 400 : 200, json: answerOf(prior) };
        const results = networks.map((network) => publish(key, profile, network));
        const stored: AyrshareSandboxPost = {
          id: newId(),
          profileKey: key,
          post: body.post,
          platforms: networks,
          mediaUrls,
          postIds: results.filter((r): r is PlatformPost => r.status === 'success'),
          errors: results.filter((r): r is PlatformError => r.status === 'error' && 'action' in r),
          status: 'success',
          idempotencyKey,
          created: new Date().toISOString(),
        };
        stored.status = stored.errors.length > 0 ? 'error' : 'success';
        posts.push(stored);
        return { status: stored.errors.length > 0 ? 400 : 200, json: answerOf(stored) };
      },
    },
    {
      method: 'GET',
      path: '/api/post/:id',
      handle: (req) => {
        const [key] = profileOf(req);
        const post = posts.find((p) => p.id === req.params.id && p.profileKey === key);
        if (!post) throw fail(404, 171, 'Post not found.');
        return { json: { ...answerOf(post), platforms: post.platforms, mediaUrls: post.mediaUrls, created: post.created } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/post',
      handle: (req) => {
        const [key] = profileOf(req);
        const { id } = req.json<{ id?: string }>() ?? {};
        const post = posts.find((p) => p.id === id && p.profileKey === key && visible(p));
        if (!post) throw fail(404, 171, 'Post not found.');
        post.status = 'deleted';
        return { json: { status: 'success', id: post.id } };
      },
    },
    {
      method: 'GET',
      path: '/api/history',
      handle: (req) => {
        const [key] = profileOf(req);
        const limit = Math.min(Number(req.query.get('limit') ?? 25) || 25, 1000);
        const networks = (req.query.get('platforms') ?? '').split(',').filter(Boolean);
        const history = posts
          .filter((p) => p.profileKey === key && visible(p) && (networks.length === 0 || p.platforms.some((n) => networks.includes(n))))
          .reverse()
          .slice(0, limit)
          .map((p) => ({ ...answerOf(p), platforms: p.platforms, created: p.created, type: 'now' }));
        return { json: { history, count: history.length } };
      },
    },
    {
      method: 'POST',
      path: '/api/analytics/post',
      handle: (req) => {
        const [key] = profileOf(req);
        const body = req.json<{ id?: string; platforms?: string[]; searchPlatformId?: boolean }>() ?? {};
        const post = posts.find(
          (p) => p.profileKey === key && (body.searchPlatformId ? p.postIds.some((r) => r.id === body.id) : p.id === body.id),
        );
        if (!post) throw fail(404, 171, 'Post not found.');
        const out: Record<string, unknown> = { status: 'success', id: post.id };
        for (const result of post.postIds.filter((r) => !body.platforms || body.platforms.includes(r.platform)))
          out[result.platform] = { id: result.id, postUrl: result.postUrl, analytics: { views: 120, likes: 12, comments: 3, shares: 2 } };
        return { json: out };
      },
    },
  ];

  const adminRoutes: Route[] = [
    {
      method: 'POST',
      path: '/__sandbox/ayrshare/profiles',
      handle: (req) => {
        const body = req.json<{ platforms?: string[]; title?: string }>() ?? {};
        return { status: 201, json: { profileKey: issueProfile(body.platforms ?? [], body.title) } };
      },
    },
  ];

  function issueProfile(networks: string[], title = 'Sandbox profile'): string {
    const key = `SBX-${randomBytes(12).toString('hex').toUpperCase()}`;
    profiles.set(key, { title, networks: new Set(networks), refusals: new Map() });
    return key;
  }

  const server = await createSandboxServer({
    name: 'ayrshare',
    routes,
    adminRoutes,
    host: options.host,
    port: options.port,
    errorBody: (status, message) => ({ status: 'error', code: status, message }),
    onReset: () => {
      profiles.clear();
      posts.length = 0;
    },
  });
  return {
    url: server.url,
    server,
    posts,
    issueProfile,
    refuse(profileKey, network, message, times = 1) {
      const profile = profiles.get(profileKey);
      if (!profile) throw new Error(`unknown profile ${profileKey}`);
      profile.refusals.set(network, [...(profile.refusals.get(network) ?? []), ...Array<string>(times).fill(message)]);
    },
    stop: () => server.stop(),
  };
}

export const ayrshareSandbox: SandboxDefinition = {
  name: 'ayrshare',
  enabled: (config) => !config.AYRSHARE_API_KEY,
  start: () => startAyrshareSandbox({ apiKey: SANDBOX_CREDENTIALS.ayrshareApiKey }),
};
