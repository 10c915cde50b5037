import { z } from 'zod';
import { exactlyOneOf, nonBlankText, withoutRepeats } from './common';

/** Platforms a post can be scheduled to (the publishers in providers/social, YouTube in providers/youtube). */
export const POST_PLATFORMS = ['instagram', 'facebook', 'tiktok', 'linkedin', 'x', 'youtube'] as const;
export const PostPlatformSchema = z.enum(POST_PLATFORMS);
export type PostPlatform = z.infer<typeof PostPlatformSchema>;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const WeekdaySchema = z.enum(WEEKDAYS);
export type Weekday = z.infer<typeof WeekdaySchema>;

export const MEDIA_TYPES = ['video', 'image', 'carousel'] as const;
export const MediaTypeSchema = z.enum(MEDIA_TYPES);
export type MediaType = z.infer<typeof MediaTypeSchema>;

export const POST_STATUSES = [
  'draft',
  'pending_approval',
  'scheduled',
  'publishing',
  'published',
  // Several targets, some published and some failed (each target's result is in `targets`).
  'partially_published',
  'failed',
  'canceled',
] as const;
export const PostStatusSchema = z.enum(POST_STATUSES);
export type PostStatus = z.infer<typeof PostStatusSchema>;

/** ISO 8601 with an explicit offset (`Z` or `+02:00`): a bare local time is ambiguous across zones. */
export const OffsetDateTimeSchema = z.iso
  .datetime({ offset: true })
  .describe('ISO 8601 date-time with an offset, e.g. 2026-03-08T09:00:00-05:00');

/** An IANA zone name the runtime's Intl data knows (America/New_York, Europe/Berlin, UTC). */
export const TimezoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'not a known IANA time zone');

/** Public https media: the platform pulls it, or (YouTube) the worker downloads it through the SSRF guard; the API refuses private addresses with 422. */
const MediaUrlSchema = z.url({ protocol: /^https$/, error: 'an https URL' }).max(2048);

export const ConnectSocialAccountBodySchema = z
  .object({
    platform: PostPlatformSchema,
    accessToken: z.string().min(1).max(4096),
    refreshToken: z.string().min(1).max(4096).optional(),
    tokenExpiresAt: OffsetDateTimeSchema.optional(),
    platformUserId: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe(
        'Instagram user id, Facebook page id, X user id (numeric); LinkedIn author URN (a bare member id becomes urn:li:person:<id>); YouTube channel id (UC…); TikTok needs none. Other shapes are refused with 422',
      ),
    username: z.string().min(1).max(255).optional(),
  })
  .strict();
export type ConnectSocialAccountBody = z.infer<typeof ConnectSocialAccountBodySchema>;

/** Connects the user's Ayrshare profile: posts with `platforms` then go through Ayrshare for networks without an own account. */
export const ConnectAyrshareBodySchema = z
  .object({
    platform: z.literal('ayrshare'),
    profileKey: z
      .string()
      .regex(/^[A-Za-z0-9-]{8,128}$/, 'an Ayrshare profile key (letters, digits, dashes)')
      .describe("the User Profile's Profile-Key (Ayrshare dashboard or /profiles); stored sealed like OAuth tokens"),
  })
  .strict();

/** What each platform's account id looks like; a connect with any other id would fail every post at the platform. */
const PLATFORM_USER_ID_FORMATS: Partial<Record<PostPlatform, { pattern: RegExp; expected: string }>> = {
  linkedin: {
    pattern: /^urn:li:(person|organization):[A-Za-z0-9_-]{1,100}$/,
    expected: 'an author URN (urn:li:person:<id> or urn:li:organization:<id>) or a member id',
  },
  x: { pattern: /^\d{1,19}$/, expected: 'a numeric X user id' },
  facebook: { pattern: /^\d{1,20}$/, expected: 'a numeric Facebook page id' },
  instagram: { pattern: /^\d{1,20}$/, expected: 'a numeric Instagram business account id' },
  youtube: { pattern: /^UC[A-Za-z0-9_-]{22}$/, expected: 'a YouTube channel id (UC followed by 22 characters)' },
};

/**
 * The platform's canonical form of an imported account id: a bare LinkedIn member id becomes
 * `urn:li:person:<id>` (LinkedIn refuses any other author); ids of another shape are refused.
 * TikTok's open_id has no documented shape and is kept as given.
 */
export function normalizePlatformUserId(platform: PostPlatform, id: string): { id: string } | { error: string } {
  const candidate = platform === 'linkedin' && /^[A-Za-z0-9_-]{1,100}$/.test(id) ? `urn:li:person:${id}` : id;
  const format = PLATFORM_USER_ID_FORMATS[platform];
  if (format && !format.pattern.test(candidate)) return { error: `must be ${format.expected}` };
  return { id: candidate };
}

/** Platforms that can be connected through their OAuth consent screen (the others import tokens). */
export const OAUTH_CONNECT_PLATFORMS = ['youtube', 'tiktok'] as const;
export type OAuthConnectPlatform = (typeof OAUTH_CONNECT_PLATFORMS)[number];

export const StartSocialOAuthBodySchema = z
  .object({
    platform: z.enum(OAUTH_CONNECT_PLATFORMS),
    redirectUri: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL' })
      .max(2048)
      .describe(
        "your page the platform's consent screen sends the browser back to, with `code` and `state`; it must be registered with the platform's OAuth app",
      ),
  })
  .strict();

export const SocialOAuthStartedSchema = z.object({
  authorizationUrl: z.string().describe("the platform's consent screen: send the user's browser there"),
  state: z.string().describe('one-time, bound to the caller, valid until expiresAt; the redirect carries it back'),
  expiresAt: z.string(),
});

export const SocialOAuthCallbackBodySchema = z
  .object({
    code: z.string().min(1).max(4096).describe('the `code` query parameter of the redirect'),
    state: z.string().min(1).max(256).describe('the `state` query parameter of the redirect'),
  })
  .strict();

export const SocialAccountViewSchema = z
  .object({
    id: z.uuid(),
    platform: z.enum([...POST_PLATFORMS, 'ayrshare']),
    platformUserId: z.string().nullable(),
    username: z.string().nullable(),
    status: z.enum(['active', 'expired', 'revoked', 'error', 'disconnected']),
    lastError: z.string().nullable(),
    tokenExpiresAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'SocialAccount' });
export type SocialAccountView = z.infer<typeof SocialAccountViewSchema>;

// zod-to-openapi copies a regex's flags into the pattern (`…$/u`); the document gets the bare source.
const HASHTAG = /^#?[\p{L}\p{N}_]{1,100}$/u;

/** How many accounts one post may go to at once. */
export const MAX_POST_TARGETS = 10;

export const CreatePostBodySchema = z
  .object({
    socialAccountId: z.uuid().optional().describe('one account; or socialAccountIds, or platforms'),
    socialAccountIds: withoutRepeats(z.array(z.uuid()).min(1).max(MAX_POST_TARGETS), 'socialAccountIds')
      .optional()
      .describe('several accounts of yours: one publish per account, each retried on its own'),
    platforms: withoutRepeats(z.array(PostPlatformSchema).min(1).max(POST_PLATFORMS.length), 'platforms')
      .optional()
      .describe(
        'networks to post to: your connected account of each, else your Ayrshare profile (POST /v1/social-accounts {platform: "ayrshare"})',
      ),
    caption: z.string().max(100_000),
    hashtags: z
      .array(z.string().regex(HASHTAG, 'a hashtag: letters, digits, underscore').meta({ pattern: HASHTAG.source }))
      .max(100)
      .optional(),
    mentions: z
      .array(z.string().regex(/^@?[A-Za-z0-9_.]{1,100}$/, 'a handle: letters, digits, underscore, dot'))
      .max(50)
      .optional(),
    mediaUrls: z.array(MediaUrlSchema).min(1).max(35).optional(),
    clipId: z.uuid().optional().describe('a rendered clip whose 9:16 (else 16:9) file is posted'),
    mediaType: MediaTypeSchema,
    scheduledAt: OffsetDateTimeSchema.optional(),
    slot: z.literal('next').optional().describe('the next free slot of the posting schedule (PUT /v1/posting-schedule) in its time zone'),
    needsApproval: z.boolean().optional(),
    platformOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((b) => (b.scheduledAt === undefined) !== (b.slot === undefined), {
    message: 'give exactly one of scheduledAt and slot',
    path: ['scheduledAt'],
  })
  .refine((b) => !(b.mediaUrls && b.clipId), { message: 'give mediaUrls or clipId, not both', path: ['clipId'] })
  .refine((b) => [b.socialAccountId, b.socialAccountIds, b.platforms].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of socialAccountId, socialAccountIds and platforms',
    path: ['socialAccountId'],
  })
  .meta({
    allOf: [exactlyOneOf('scheduledAt', 'slot'), exactlyOneOf('socialAccountId', 'socialAccountIds', 'platforms')],
    not: { required: ['mediaUrls', 'clipId'] },
  });
export type CreatePostBody = z.infer<typeof CreatePostBodySchema>;

export const ReschedulePostBodySchema = z.object({ scheduledAt: OffsetDateTimeSchema }).strict();
export const RejectPostBodySchema = z.object({ reason: nonBlankText(1000) }).strict();
export const PostCalendarQuerySchema = z
  .object({ from: OffsetDateTimeSchema, to: OffsetDateTimeSchema })
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), {
    message: 'from must be before to',
    path: ['to'],
  });

export const PostMetricsViewSchema = z.object({
  checkpoint: z.string().nullable(),
  recordedAt: z.string(),
  views: z.number(),
  likes: z.number(),
  comments: z.number(),
  shares: z.number(),
});

export const POST_TARGET_STATUSES = ['pending', 'publishing', 'published', 'failed', 'canceled'] as const;

/** One platform of a post: its own status, the platform's post id and URL, or why it failed. */
export const PostTargetViewSchema = z
  .object({
    socialAccountId: z.uuid(),
    platform: PostPlatformSchema,
    via: z.enum(['direct', 'ayrshare']).describe("the account's own API, or the user's Ayrshare profile"),
    status: z.enum(POST_TARGET_STATUSES),
    platformPostId: z.string().nullable(),
    platformUrl: z.string().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    publishedAt: z.string().nullable(),
  })
  .meta({ id: 'PostTarget' });
export type PostTargetView = z.infer<typeof PostTargetViewSchema>;

export const PostViewSchema = z
  .object({
    id: z.uuid(),
    socialAccountId: z.uuid(),
    platform: PostPlatformSchema,
    status: PostStatusSchema,
    caption: z.string().nullable(),
    hashtags: z.array(z.string()),
    mentions: z.array(z.string()),
    mediaType: MediaTypeSchema,
    mediaUrls: z.array(z.string()),
    scheduledAt: z.string().nullable(),
    publishedAt: z.string().nullable(),
    platformPostId: z.string().nullable(),
    platformUrl: z.string().nullable(),
    error: z.string().nullable(),
    needsApproval: z.boolean(),
    approvedAt: z.string().nullable(),
    rejectionReason: z.string().nullable(),
    runId: z.string().nullable(),
    latestMetrics: PostMetricsViewSchema.nullable(),
    targets: z.array(PostTargetViewSchema).describe('every platform the post goes to, in the order given; `platform` above is the first'),
    createdAt: z.string(),
  })
  .meta({ id: 'Post' });
export type PostView = z.infer<typeof PostViewSchema>;

export const PostCreatedSchema = z.object({ postId: z.uuid(), runId: z.string(), status: PostStatusSchema, scheduledAt: z.string() });
export type PostCreated = z.infer<typeof PostCreatedSchema>;

export const PostingScheduleBodySchema = z
  .object({
    timezone: TimezoneSchema,
    days: withoutRepeats(z.array(WeekdaySchema).min(1).max(7), 'days'),
    times: withoutRepeats(
      z
        .array(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour'))
        .min(1)
        .max(48),
      'times',
    ),
    socialAccountId: z.uuid().optional().describe('a schedule for one account; default: the schedule of every account'),
  })
  .strict();
export type PostingScheduleBody = z.infer<typeof PostingScheduleBodySchema>;

export const PostingScheduleQuerySchema = z.object({
  socialAccountId: z.uuid().optional().describe("the account's schedule, else the default one; default: the default schedule"),
});

export const PostingScheduleViewSchema = z.object({
  timezone: z.string(),
  days: z.array(WeekdaySchema),
  times: z.array(z.string()),
  socialAccountId: z.uuid().nullable(),
});

// ---- workflow contract payloads (ids and times only: no tokens, no captions) ----

export interface PostWorkflowInput {
  postId: string;
  userId: string;
  /** ISO instant the post is due. */
  scheduledAt: string;
  needsApproval: boolean;
  /** post_targets ids of a post to several platforms (one publish activity each); absent for a single account. */
  targetIds?: string[];
}

export interface PostWorkflowState {
  status: PostStatus;
  scheduledAt: string;
  platformPostId: string | null;
  /** Metric checkpoints taken so far ('1h', '24h', '7d'). */
  metricsSynced: string[];
  error: { type: string; message: string } | null;
}

/**
 * Failure types of the post workflow's updates and of the activities behind them; the API maps them
 * to HTTP statuses. InvalidState → 409 (e.g. rescheduling a published post), InvalidInput → 422, SlotTaken → 409.
 */
export const PostUpdateFailure = { InvalidState: 'InvalidState', InvalidInput: 'InvalidInput', SlotTaken: 'SlotTaken' } as const;

export interface PostWorkflowResult {
  status: Extract<PostStatus, 'published' | 'partially_published' | 'failed' | 'canceled'>;
  platformPostId: string | null;
  error: { type: string; message: string } | null;
}

export interface ApprovePostRequest {
  approvedBy: string;
}
export interface ApprovePostReply {
  status: PostStatus;
  scheduledAt: string;
  /** Approved after the due time: published at once instead of waiting. */
  publishesImmediately: boolean;
}
export interface ReschedulePostReply {
  scheduledAt: string;
}

// ---- platform limits, checked at request time ----

export interface PlatformLimits {
  captionChars: number;
  hashtags: number;
  /** Media items per post by media type; absent = that media type is not supported. */
  media: Partial<Record<MediaType, { min: number; max: number }>>;
  /** URLs in the text count as this many characters (X shortens every link to t.co). */
  urlChars?: number;
  /** Media travel as links inside the text (X, LinkedIn articles). */
  mediaInText?: boolean;
}

/** The platforms' published limits (Instagram Graph API, TikTok Content Posting API, LinkedIn Posts API, X API v2, Facebook Pages). */
export const PLATFORM_LIMITS: Record<PostPlatform, PlatformLimits> = {
  instagram: {
    captionChars: 2200,
    hashtags: 30,
    media: { image: { min: 1, max: 1 }, video: { min: 1, max: 1 }, carousel: { min: 2, max: 10 } },
  },
  facebook: { captionChars: 63_206, hashtags: 30, media: { image: { min: 1, max: 1 }, video: { min: 1, max: 1 } } },
  tiktok: {
    captionChars: 2200,
    hashtags: 30,
    media: { video: { min: 1, max: 1 }, image: { min: 1, max: 1 }, carousel: { min: 2, max: 35 } },
  },
  linkedin: { captionChars: 3000, hashtags: 30, media: { image: { min: 0, max: 1 }, video: { min: 0, max: 1 } } },
  x: { captionChars: 280, hashtags: 10, urlChars: 23, mediaInText: true, media: { image: { min: 0, max: 4 }, video: { min: 0, max: 1 } } },
  // The caption becomes the video's description (5000 characters); over 15 hashtags YouTube ignores them all.
  youtube: { captionChars: 5000, hashtags: 15, media: { video: { min: 1, max: 1 } } },
};

/** `platformOptions` of a YouTube post. */
export const YoutubePostOptionsSchema = z
  .object({
    title: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .refine((t) => !/[<>]/.test(t), 'YouTube titles cannot contain < or >')
      .optional()
      .describe('default: the first line of the caption, cut to 100 characters'),
    privacyStatus: z.enum(['public', 'unlisted', 'private']).optional().describe('default public'),
    categoryId: z
      .string()
      .regex(/^\d{1,3}$/, 'a YouTube video category id')
      .optional()
      .describe('default 22 (People & Blogs)'),
    madeForKids: z.boolean().optional(),
  })
  .strict();
export type YoutubePostOptions = z.infer<typeof YoutubePostOptionsSchema>;

/** The video title YouTube gets: platformOptions.title, else the caption's first line without < and >, at most 100 characters. */
export function youtubeTitle(caption: string, options: YoutubePostOptions = {}): string {
  if (options.title) return options.title;
  const firstLine = caption.split('\n').find((line) => line.trim()) ?? '';
  return [...firstLine.replace(/[<>]/g, '').trim()].slice(0, 100).join('').trim();
}

/** The text as published: caption, then hashtags, then mentions. */
export function composeCaption(post: { caption: string; hashtags?: string[]; mentions?: string[] }): string {
  const tags = (post.hashtags ?? []).map((h) => (h.startsWith('#') ? h : `#${h}`));
  const mentions = (post.mentions ?? []).map((m) => (m.startsWith('@') ? m : `@${m}`));
  return [post.caption.trim(), [...tags, ...mentions].join(' ')].filter(Boolean).join('\n\n');
}

export interface LimitViolation {
  field: string;
  message: string;
}

/** Every way the post breaks the platform's limits, each naming the request field to fix. */
export function checkPlatformLimits(
  platform: PostPlatform,
  post: {
    caption: string;
    hashtags?: string[];
    mentions?: string[];
    mediaType: MediaType;
    mediaUrls: string[];
    platformOptions?: Record<string, unknown>;
  },
): LimitViolation[] {
  const limits = PLATFORM_LIMITS[platform];
  const violations: LimitViolation[] = [];
  const text = composeCaption(post);
  // Characters as the platforms count them: code points, not UTF-16 units.
  let length = [...text].length;
  if (limits.mediaInText) length += post.mediaUrls.length * ((limits.urlChars ?? 0) + 1);
  if (length > limits.captionChars)
    violations.push({
      field: 'caption',
      message: `${platform} allows ${limits.captionChars} characters; this post has ${length} (caption, hashtags, mentions${limits.mediaInText ? ' and media links' : ''})`,
    });
  if ((post.hashtags?.length ?? 0) > limits.hashtags)
    violations.push({ field: 'hashtags', message: `${platform} allows at most ${limits.hashtags} hashtags` });
  const media = limits.media[post.mediaType];
  if (!media) violations.push({ field: 'mediaType', message: `${platform} does not support ${post.mediaType} posts` });
  else if (post.mediaUrls.length < media.min || post.mediaUrls.length > media.max)
    violations.push({
      field: 'mediaUrls',
      message: `a ${platform} ${post.mediaType} post takes ${media.min === media.max ? media.min : `${media.min}-${media.max}`} media item(s); got ${post.mediaUrls.length}`,
    });
  if (platform === 'youtube') {
    const options = YoutubePostOptionsSchema.safeParse(post.platformOptions ?? {});
    if (!options.success)
      for (const issue of options.error.issues)
        violations.push({ field: ['platformOptions', ...issue.path.map(String)].join('.'), message: issue.message });
    else if (!youtubeTitle(text, options.data))
      violations.push({ field: 'caption', message: 'a YouTube video needs a title: write a caption or set platformOptions.title' });
  }
  return violations;
}
