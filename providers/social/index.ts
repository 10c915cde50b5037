import { z } from 'zod';
import { ConfigError } from '../../lib/config';
import type { ProviderCall } from '../call';
import { FacebookPublisher } from './facebook';
import { isGraphAuthError, SocialHttp } from './http';
import { InstagramPublisher } from './instagram';
import { LinkedInPublisher } from './linkedin';
import { TikTokPublisher } from './tiktok';
import type {
  CommentReplyInput,
  PublishedPost,
  SocialComments,
  SocialInsights,
  SocialPlatform,
  SocialPostInput,
  SocialPublisher,
} from './types';
import { XPublisher } from './x';

export type {
  AccountInsights,
  CommentReplyInput,
  PlatformComment,
  PostMetrics,
  PublishedPost,
  PublishPlatform,
  SocialAccountAuth,
  SocialPlatform,
  SocialPostInput,
  SocialComments,
  SocialInsights,
  SocialPublisher,
  TokenGrant,
} from './types';

/** Where each platform's API lives: the real hosts, or one sandbox serving all five under a path prefix. */
export interface SocialEndpoints {
  instagram: string;
  facebook: string;
  tiktok: string;
  linkedin: string;
  linkedinOauth: string;
  x: string;
}

export const PRODUCTION_SOCIAL_ENDPOINTS: SocialEndpoints = {
  instagram: 'https://graph.instagram.com',
  facebook: 'https://graph.facebook.com',
  tiktok: 'https://open.tiktokapis.com',
  linkedin: 'https://api.linkedin.com',
  linkedinOauth: 'https://www.linkedin.com',
  x: 'https://api.x.com',
};

/** The social sandbox serves every platform under `/<platform>` of its base URL. */
export function sandboxSocialEndpoints(sandboxUrl: string): SocialEndpoints {
  return {
    instagram: `${sandboxUrl}/instagram`,
    facebook: `${sandboxUrl}/facebook`,
    tiktok: `${sandboxUrl}/tiktok`,
    linkedin: `${sandboxUrl}/linkedin`,
    linkedinOauth: `${sandboxUrl}/linkedin`,
    x: `${sandboxUrl}/x`,
  };
}

export interface SocialClientCredentials {
  clientId: string;
  clientSecret: string;
}

const ClientSchema = z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) });
const ClientsSchema = z.object({
  instagram: ClientSchema,
  facebook: ClientSchema,
  tiktok: ClientSchema,
  linkedin: ClientSchema,
  x: ClientSchema,
});

/** SOCIAL_CLIENTS_JSON → the OAuth app of every platform (all five, or the config is refused); undefined = sandbox. */
export function parseSocialClients(json: string | undefined): Record<SocialPlatform, SocialClientCredentials> | undefined {
  if (json === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    raw = undefined;
  }
  const parsed = ClientsSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(
      'invalid environment variable SOCIAL_CLIENTS_JSON: expected { instagram|facebook|tiktok|linkedin|x: { clientId, clientSecret } }',
    );
  return parsed.data;
}

export interface SocialPublishersOptions {
  endpoints: SocialEndpoints;
  /** OAuth app credentials per platform (Meta's app serves Instagram and Facebook). */
  clients: Record<SocialPlatform, SocialClientCredentials>;
  /** The shared limiter/classification wrapper for each platform. */
  callFor(platform: SocialPlatform): ProviderCall;
  /** Wait between status checks of media still processing (Instagram containers, TikTok publishes). */
  pollIntervalMs?: number;
}

export type SocialPublishers = Record<SocialPlatform, SocialPublisher>;

export function createSocialPublishers(options: SocialPublishersOptions): SocialPublishers {
  const { endpoints, clients, pollIntervalMs } = options;
  const http = (platform: SocialPlatform) =>
    new SocialHttp(platform, options.callFor(platform), platform === 'instagram' || platform === 'facebook' ? isGraphAuthError : undefined);
  return {
    instagram: new InstagramPublisher(http('instagram'), { baseUrl: endpoints.instagram, pollIntervalMs }),
    facebook: new FacebookPublisher(http('facebook'), { baseUrl: endpoints.facebook, ...clients.facebook }),
    tiktok: new TikTokPublisher(http('tiktok'), {
      baseUrl: endpoints.tiktok,
      clientKey: clients.tiktok.clientId,
      clientSecret: clients.tiktok.clientSecret,
      pollIntervalMs,
    }),
    linkedin: new LinkedInPublisher(http('linkedin'), {
      baseUrl: endpoints.linkedin,
      oauthBaseUrl: endpoints.linkedinOauth,
      ...clients.linkedin,
    }),
    x: new XPublisher(http('x'), { baseUrl: endpoints.x, ...clients.x }),
  };
}

/**
 * Publishes a post at most once: an earlier attempt that the platform accepted (the worker died
 * before recording it) is found and returned instead of posting again.
 */
export async function publishOnce(
  publisher: SocialPublisher,
  post: SocialPostInput,
): Promise<PublishedPost & { alreadyPublished: boolean }> {
  const existing = await publisher.findExisting(post);
  if (existing) return { ...existing, alreadyPublished: true };
  return { ...(await publisher.publish(post)), alreadyPublished: false };
}

/** The platform's daily account figures, when its adapter reads them (Instagram, Facebook, X). */
export function insightsOf(publisher: SocialPublisher): SocialInsights | null {
  return typeof (publisher as Partial<SocialInsights>).fetchDailyInsights === 'function' ? (publisher as unknown as SocialInsights) : null;
}

/** The platform's comments and replies, when its adapter handles them (Instagram, X). */
export function commentsOf(publisher: SocialPublisher): SocialComments | null {
  return typeof (publisher as Partial<SocialComments>).listComments === 'function' ? (publisher as unknown as SocialComments) : null;
}

/**
 * Publishes a reply at most once: an earlier reply the platform accepted (the worker died before
 * recording it) is found by the marker of our comment row and returned instead of replying again.
 */
export async function replyOnce(
  comments: SocialComments,
  input: CommentReplyInput,
): Promise<{ platformReplyId: string; alreadyReplied: boolean }> {
  const existing = await comments.findReply(input);
  if (existing) return { ...existing, alreadyReplied: true };
  return { ...(await comments.reply(input)), alreadyReplied: false };
}
