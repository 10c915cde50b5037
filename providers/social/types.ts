import type { AccountInsights } from '../../schemas/social-insights';

/** Platforms published to over fetch (this folder). */
export type SocialPlatform = 'instagram' | 'tiktok' | 'linkedin' | 'x' | 'facebook';
/** Every platform the posting workflow publishes to: YouTube goes through googleapis (providers/youtube/publisher.ts). */
export type PublishPlatform = SocialPlatform | 'youtube';

export type { AccountInsights };

/** The connected account a call acts as (decrypted token: never logged, never in workflow history). */
export interface SocialAccountAuth {
  accessToken: string;
  /** Instagram user id, TikTok open_id, LinkedIn person/organization URN, X user id, Facebook page id. */
  platformUserId: string;
  username?: string;
}

export interface SocialPostInput {
  /** Our post id: embedded invisibly in the caption so a retried publish can find the earlier one. */
  postId: string;
  account: SocialAccountAuth;
  caption: string;
  mediaType: 'video' | 'image' | 'carousel';
  /** Public URLs of the media (e.g. Cloudinary delivery URLs) the platform pulls from. */
  mediaUrls: string[];
  /** ISO time before which a match cannot be ours (when publishing was first attempted). */
  since?: string;
  /** The post's hashtags (also in the caption), for platforms that take them separately (YouTube tags). */
  hashtags?: string[];
  /** Per-platform settings of the post (YouTube: title, privacyStatus, categoryId, madeForKids). */
  platformOptions?: Record<string, unknown>;
}

export interface PublishedPost {
  platformPostId: string;
  platformUrl: string;
  /** Published through Ayrshare: its own post id (GET/DELETE /api/post/:id). */
  ayrsharePostId?: string;
}

/** Counters as the platform reports them; null where the platform has no such number. */
export interface PostMetrics {
  views: number | null;
  likes: number | null;
  comments: number | null;
  shares: number | null;
}

export interface TokenGrant {
  accessToken: string;
  /** The refresh token to keep (some platforms rotate it, Instagram/Facebook have none). */
  refreshToken: string | null;
  expiresAt: string | null;
}

/**
 * One social platform. The posting workflow publishes idempotently with
 * `findExisting(post) ?? publish(post)` (see `publishOnce`): an attempt retried after the
 * platform accepted the post finds it instead of posting twice.
 */
export interface SocialPublisher {
  readonly platform: PublishPlatform;
  publish(post: SocialPostInput): Promise<PublishedPost>;
  findExisting(post: SocialPostInput): Promise<PublishedPost | null>;
  /** Counters of one published post, read with the account's token. */
  fetchMetrics(account: SocialAccountAuth, platformPostId: string): Promise<PostMetrics>;
  /** New tokens from a refresh token (for Instagram/Facebook: the current long-lived token). */
  refreshToken(refreshToken: string): Promise<TokenGrant>;
}

/** A comment under one of the account's posts. */
export interface PlatformComment {
  id: string;
  text: string;
  authorId: string | null;
  authorUsername: string | null;
  postedAt: string;
}

export interface CommentReplyInput {
  account: SocialAccountAuth;
  /** The platform id of the post the comment is under. */
  platformPostId: string;
  /** The platform id of the comment answered. */
  commentId: string;
  /** Our comment row id: embedded invisibly in the reply so a retried reply finds the earlier one. */
  replyKey: string;
  text: string;
  /** ISO time before which a reply cannot be ours. */
  since?: string;
}

/** An account's daily figures (Instagram, Facebook, X). */
export interface SocialInsights {
  readonly platform: SocialPlatform;
  /** The account's figures of one UTC day (`YYYY-MM-DD`) and its follower count now. */
  fetchDailyInsights(account: SocialAccountAuth, date: string): Promise<AccountInsights>;
}

/**
 * Comments under the account's posts and our replies (Instagram, X). A reply is published once
 * with `findReply(input) ?? reply(input)` (replyOnce).
 */
export interface SocialComments {
  readonly platform: SocialPlatform;
  /** The longest reply text we accept: the platform's limit less our invisible marker. */
  readonly maxReplyLength: number;
  /** Recent comments under one of the account's posts, newest first (not the account's own). */
  listComments(account: SocialAccountAuth, platformPostId: string): Promise<PlatformComment[]>;
  reply(input: CommentReplyInput): Promise<{ platformReplyId: string }>;
  findReply(input: CommentReplyInput): Promise<{ platformReplyId: string } | null>;
}
