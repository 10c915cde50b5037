import type { RequestHandler, Response } from 'express';
import { findLiveApiKeyById, type ApiKeyOwner } from '../db/repositories/api-keys';
import { apiKeyLookupsOf } from './api-key-cache';
import type { ApiScope } from '../schemas/api-keys';
import type { ApiDeps } from './deps';
import { getPlanLimits, type PlanLimits } from '../db/repositories/plans';
import { HttpProblem } from './problem';
import { rateLimited, TokenBucketLimiter, type AnonymousRateLimit } from './rate-limit';
import { verifyStreamToken } from './stream-token';

/** Who is calling, set on res.locals.auth by `authenticate` (or by the stream-token check). */
export interface AuthContext {
  userId: string;
  keyId: string;
  role: 'user' | 'admin';
  plan: string;
  /** The key's scopes; `admin` only survives for users whose role is admin. */
  scopes: string[];
  via: 'api-key' | 'stream-token';
}

export const unauthorized = (detail: string): HttpProblem =>
  new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer realm="api"' });

function setAuth(res: Response, owner: ApiKeyOwner, via: AuthContext['via']): AuthContext {
  const auth: AuthContext = {
    userId: owner.key.user_id,
    keyId: owner.key.id,
    role: owner.role,
    plan: owner.plan,
    scopes: owner.key.scopes.filter((s) => s !== 'admin' || owner.role === 'admin'),
    via,
  };
  res.locals.auth = auth;
  res.locals.userId = auth.userId;
  return auth;
}

/** Plan limits change rarely; a short cache keeps the rate limiter off PostgreSQL per request. */
const PLAN_LIMITS_TTL_MS = 30_000;

/**
 * Authenticates `Authorization: Bearer <key>` when present and applies the rate limits: all keys
 * of one user share the plan's requests per minute, and a key's own rate_limit lowers it for that
 * key. A malformed or unknown key spends the client IP's anonymous budget. A request without the header
 * passes through unauthenticated: routes that need a caller say so with requireScope, so public
 * routes (health, docs, webhooks) need no list of exceptions.
 */
export function authenticate(deps: Pick<ApiDeps, 'db'>, anonymous: AnonymousRateLimit): RequestHandler {
  const limiter = new TokenBucketLimiter();
  const keys = apiKeyLookupsOf(deps.db);
  const planCache = new Map<string, { limits: PlanLimits; until: number }>();
  const planLimits = async (userId: string): Promise<PlanLimits> => {
    const cached = planCache.get(userId);
    if (cached && cached.until > Date.now()) return cached.limits;
    const limits = await getPlanLimits(deps.db, userId);
    planCache.set(userId, { limits, until: Date.now() + PLAN_LIMITS_TTL_MS });
    return limits;
  };

  return async (req, res, next) => {
    const header = req.header('authorization');
    if (header === undefined) return next();
    const match = /^Bearer +([\x21-\x7e]{1,512})$/i.exec(header.trim());
    const owner = match?.[1] ? await keys.find(match[1]) : undefined;
    if (!owner) {
      anonymous.charge(req);
      throw unauthorized(match ? 'the API key is unknown, expired or revoked' : 'send the API key as "Authorization: Bearer <key>"');
    }
    const auth = setAuth(res, owner, 'api-key');

    const userPerMinute = (await planLimits(auth.userId)).apiRateLimitPerMinute;
    const keyPerMinute = owner.key.rate_limit ?? Infinity;
    res.setHeader('RateLimit-Limit', String(Math.min(keyPerMinute, userPerMinute)));
    let remaining = Infinity;
    if (keyPerMinute < userPerMinute) {
      const forKey = limiter.take(`key:${auth.keyId}`, keyPerMinute);
      if (!forKey.allowed) throw rateLimited(`this key allows ${keyPerMinute} requests per minute`, keyPerMinute, forKey.retryAfterSeconds);
      remaining = forKey.remaining;
    }
    const forUser = limiter.take(`user:${auth.userId}`, userPerMinute);
    if (!forUser.allowed)
      throw rateLimited(
        `your plan allows ${userPerMinute} requests per minute, shared by all your API keys`,
        userPerMinute,
        forUser.retryAfterSeconds,
      );
    res.setHeader('RateLimit-Remaining', String(Math.min(remaining, forUser.remaining)));
    keys.recordUse(auth.keyId);
    next();
  };
}

/**
 * Accepts `?access_token=<stream token>` (see stream-token.ts) when no Authorization header
 * authenticated the request. Mounted only on the SSE route.
 */
export function streamTokenAuth(deps: Pick<ApiDeps, 'db' | 'config'>): RequestHandler {
  return async (req, res, next) => {
    const token = req.query.access_token;
    if (res.locals.auth || token === undefined) return next();
    const claims = typeof token === 'string' ? verifyStreamToken(deps.config, token) : undefined;
    const owner = claims ? await findLiveApiKeyById(deps.db, claims.keyId) : undefined;
    if (!claims || !owner || owner.key.user_id !== claims.userId)
      throw unauthorized('the access token is invalid or expired; request a new one');
    setAuth(res, owner, 'stream-token');
    next();
  };
}

/** 401 without a caller, 403 when the caller's key lacks the scope. */
export function requireScope(scope: ApiScope): RequestHandler {
  return (_req, res, next) => {
    const auth = res.locals.auth;
    if (!auth) throw unauthorized('this endpoint needs an API key: "Authorization: Bearer <key>"');
    if (!auth.scopes.includes(scope))
      throw new HttpProblem(403, 'forbidden', 'Forbidden', `this API key lacks the "${scope}" scope`, { requiredScope: scope });
    next();
  };
}

/** The authenticated caller; only valid behind requireScope. */
export function caller(res: Response): AuthContext {
  const auth = res.locals.auth;
  if (!auth) throw unauthorized('this endpoint needs an API key');
  return auth;
}
