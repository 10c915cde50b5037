import { z } from 'zod';
import { nonBlankText, PageLimitSchema } from './common';

/** ClipFlow: daily account analytics, the comments inbox and replies. */

export const COMMENT_SENTIMENTS = ['positive', 'negative', 'neutral'] as const;
export const CommentSentimentSchema = z.enum(COMMENT_SENTIMENTS);
export type CommentSentiment = z.infer<typeof CommentSentimentSchema>;

/** Posts published this recently have their comments polled, at most this many per poll. */
export const COMMENTS_POLL_WINDOW_DAYS = 7;
export const COMMENTS_POLL_MAX_POSTS = 10;
/** Comments per model call. */
export const SENTIMENT_BATCH_SIZE = 20;

/** Characters of the invisible marker each reply carries (providers/social/http.ts postMarker). */
const REPLY_MARKER_LENGTH = 17;
/** The longest reply accepted per platform (Instagram comments 2,200 characters, X posts 280), less our marker. */
export const MAX_REPLY_LENGTH = { instagram: 2200 - REPLY_MARKER_LENGTH, x: 280 - REPLY_MARKER_LENGTH } as const;

/** The longest range GET /v1/analytics answers at once. */
export const MAX_ANALYTICS_DAYS = 366;

const QueryBooleanSchema = z.enum(['true', 'false']).transform((v) => v === 'true');

export const AnalyticsQuerySchema = z
  .object({
    accountId: z.uuid(),
    from: z.iso.date().describe('first day (UTC), YYYY-MM-DD'),
    to: z.iso.date().describe('last day (UTC), YYYY-MM-DD, inclusive'),
  })
  .refine((q) => q.from <= q.to, { path: ['to'], message: 'must not be before from' })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) < MAX_ANALYTICS_DAYS * 86_400_000, {
    path: ['to'],
    message: `at most ${MAX_ANALYTICS_DAYS} days at once`,
  });

export const AnalyticsDayViewSchema = z
  .object({
    date: z.string().describe('YYYY-MM-DD (UTC)'),
    followers: z.number().int().nullable(),
    followersGained: z.number().int().nullable(),
    followersLost: z.number().int().nullable(),
    impressions: z.number().int().nullable(),
    reach: z.number().int().nullable(),
    engagement: z.number().int().nullable(),
    engagementRate: z.number().nullable().describe('engagement / reach in percent'),
    views: z.number().int().nullable(),
    likes: z.number().int().nullable(),
    comments: z.number().int().nullable(),
    shares: z.number().int().nullable(),
    postsPublished: z.number().int().nullable(),
    syncedAt: z.string(),
  })
  .meta({ id: 'AccountAnalyticsDay' });
export type AnalyticsDayView = z.infer<typeof AnalyticsDayViewSchema>;

export const AnalyticsViewSchema = z
  .object({
    accountId: z.uuid(),
    platform: z.string(),
    followerCount: z.number().int().nullable(),
    lastSyncAt: z.string().nullable(),
    days: z.array(AnalyticsDayViewSchema),
  })
  .meta({ id: 'AccountAnalytics' });

export const CommentsQuerySchema = z.object({
  accountId: z.uuid().optional(),
  postId: z.uuid().optional(),
  unread: QueryBooleanSchema.optional().describe('true: only unread comments; false: only read ones'),
  sentiment: CommentSentimentSchema.optional(),
  limit: PageLimitSchema,
});

export const CommentViewSchema = z
  .object({
    id: z.uuid(),
    postId: z.uuid(),
    socialAccountId: z.uuid(),
    platform: z.string(),
    platformCommentId: z.string(),
    authorUsername: z.string().nullable(),
    text: z.string(),
    sentiment: CommentSentimentSchema.nullable().describe('null until the model classified it'),
    sentimentScore: z.number().nullable().describe('-1 (negative) … 1 (positive)'),
    isRead: z.boolean(),
    replied: z.boolean(),
    replyText: z.string().nullable(),
    repliedAt: z.string().nullable(),
    postedAt: z.string(),
  })
  .meta({ id: 'Comment' });
export type CommentView = z.infer<typeof CommentViewSchema>;

export const UpdateCommentBodySchema = z.object({ read: z.boolean() }).strict();

/** The length limit is the platform's (checked by the route, 422 naming `text`). */
export const ReplyCommentBodySchema = z.object({ text: nonBlankText(8000) }).strict();

// ---- workflow inputs and results ----

export interface AccountSyncInput {
  socialAccountId: string;
  userId: string;
  /** The UTC day to sync (`YYYY-MM-DD`); the previous day when omitted (a schedule's firing). */
  date?: string;
}

export interface AccountSyncResult {
  socialAccountId: string;
  date: string;
  followers: number | null;
}

export interface CommentsPollInput {
  socialAccountId: string;
  userId: string;
}

export interface CommentsPollResult {
  /** The account's token was renewed ahead of its expiry. */
  tokenRefreshed: boolean;
  postsChecked: number;
  newComments: number;
  classified: number;
  /** The platform refused the account (revoked: marked, schedules paused, owner emailed), or it was disconnected. */
  accessLost?: boolean;
}

export interface CommentReplyInput {
  commentId: string;
  /** The account the comment was left on (revoked when the platform refuses it). */
  socialAccountId: string;
  userId: string;
  text: string;
}

export interface CommentReplyResult {
  commentId: string;
  platformReplyId: string;
  repliedAt: string;
  /** The platform already had our reply (an earlier attempt was accepted but not recorded). */
  alreadyReplied: boolean;
}

/**
 * A social account's Temporal Schedules (comments poll, daily analytics): built by the API from its
 * Temporal client (api/social-schedules.ts) and handed to activities by the composition root.
 */
export interface SocialAccountSchedules {
  /** Creates the account's schedules, or unpauses them (a reconnect). */
  ensure(account: { id: string; userId: string; platform: string }): Promise<{ schedules: string[] }>;
  /** Pauses them with a note (a revoked account); absent ones are left absent. */
  pause(accountId: string, note: string): Promise<{ paused: string[] }>;
  /** Deletes them (a disconnected account). */
  remove(accountId: string): Promise<void>;
}

/** One day of an account's figures as the platform reports them; null where it has no such number. */
export interface AccountInsights {
  /** Followers now (the platform's profile count). */
  followers: number | null;
  followersGained: number | null;
  followersLost: number | null;
  impressions: number | null;
  reach: number | null;
  /** Interactions of the day (likes, comments, shares, saves as the platform counts them). */
  engagement: number | null;
  views: number | null;
  likes: number | null;
  comments: number | null;
  shares: number | null;
  postsPublished: number | null;
  /** The platform's answer, kept as read. */
  raw: unknown;
}
