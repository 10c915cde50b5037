import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import {
  findComment,
  insertNewComments,
  listUnclassifiedComments,
  markSocialAccountRevoked,
  recentPublishedTargets,
  recordCommentReply,
  setCommentSentiments,
  upsertAccountAnalytics,
} from '../db/repositories/social-insights';
import type { SocialAccount } from '../db/repositories/posts';
import { commentsOf, insightsOf, replyOnce, type SocialComments } from '../providers/social';
import { FailureType } from '../schemas/failures';
import {
  COMMENT_SENTIMENTS,
  COMMENTS_POLL_MAX_POSTS,
  COMMENTS_POLL_WINDOW_DAYS,
  SENTIMENT_BATCH_SIZE,
  type AccountSyncResult,
  type CommentReplyResult,
  type CommentSentiment,
} from '../schemas/social-insights';
import { heartbeating } from './common';
import type { ActivityDeps } from './deps';
import { notifyOnce, type NotificationOutcome } from './notifications';
import { accountName, createSocialAccountAccess } from './social-account-access';

/** A token expiring within this is renewed by the comments poll (every 5 minutes), before any call needs it. */
export const TOKEN_RENEW_AHEAD_MS = 15 * 60_000;

const SENTIMENT_SYSTEM = [
  'You classify the sentiment of social media comments left under a creator’s posts.',
  'Return JSON only: an array with one object per comment, in the order given:',
  '{"id": "<the comment id>", "sentiment": "positive" | "negative" | "neutral", "score": <number from -1 to 1>}.',
].join('\n');

/** The UTC day before `now`, `YYYY-MM-DD`: the last complete day a platform reports. */
export const previousUtcDay = (now: Date): string => new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);

/** The model's answer → one sentiment per comment asked about; a comment it skipped or garbled counts as neutral. */
export function parseSentiments(answer: string, ids: string[]): Array<{ id: string; sentiment: CommentSentiment; score: number }> {
  let listed: unknown;
  try {
    listed = JSON.parse(/\[[\s\S]*\]/.exec(answer)?.[0] ?? 'null');
  } catch {
    listed = null;
  }
  const byId = new Map<string, { sentiment: CommentSentiment; score: number }>();
  for (const item of Array.isArray(listed) ? (listed as Array<Record<string, unknown>>) : []) {
    const sentiment = COMMENT_SENTIMENTS.find((s) => s === item.sentiment);
    const score = typeof item.score === 'number' && Number.isFinite(item.score) ? Math.max(-1, Math.min(1, item.score)) : 0;
    if (typeof item.id === 'string' && sentiment) byId.set(item.id, { sentiment, score });
  }
  return ids.map((id) => ({ id, ...(byId.get(id) ?? { sentiment: 'neutral' as const, score: 0 }) }));
}

/**
 * ClipFlow's account engagement: daily analytics, the comments poll (token renewal, new
 * comments, sentiment by the model in batches), replies published once, and what happens when a
 * platform revokes an account (marked, schedules paused, one email).
 */
export function createSocialEngagementActivities(deps: ActivityDeps) {
  const { db, logger, providers } = deps;
  const access = createSocialAccountAccess(deps);

  /** The comments API of an account's platform, or null (Ayrshare profiles, platforms without one here). */
  function commentsApi(account: SocialAccount): SocialComments | null {
    return account.platform === 'ayrshare' ? null : commentsOf(access.publisherFor(account).publisher);
  }

  return {
    /** The account's figures of one UTC day, upserted (one row per account and day), with its follower count and last sync. */
    async syncAccountAnalytics({ socialAccountId, date }: { socialAccountId: string; date?: string }): Promise<AccountSyncResult> {
      const day = date ?? previousUtcDay(new Date());
      const account = await access.usableAccount(socialAccountId);
      const insights = account.platform === 'ayrshare' ? null : insightsOf(access.publisherFor(account).publisher);
      if (!insights)
        throw ApplicationFailure.nonRetryable(`analytics are not available for ${account.platform} accounts`, FailureType.InvalidInput);
      const figures = await access.withAccountToken(account, (auth) => insights.fetchDailyInsights(auth, day));
      await db.transaction().execute((tx) => upsertAccountAnalytics(tx, socialAccountId, day, figures));
      logger.info({ socialAccountId, date: day, followers: figures.followers }, 'account analytics synced');
      return { socialAccountId, date: day, followers: figures.followers };
    },

    /** Renews the account's token when it expires within TOKEN_RENEW_AHEAD_MS (a refused refresh fails as ProviderAuth). */
    async renewTokenAhead({ socialAccountId }: { socialAccountId: string }): Promise<{ refreshed: boolean }> {
      const account = await access.usableAccount(socialAccountId);
      const expiresAt = account.token_expires_at?.getTime();
      if (account.platform === 'ayrshare' || expiresAt === undefined || expiresAt - Date.now() > TOKEN_RENEW_AHEAD_MS)
        return { refreshed: false };
      await access.refreshTokens(account.id, access.openTokens(account).access_token);
      return { refreshed: true };
    },

    /** New comments under the account's recent posts (each listing under the platform's limiter), stored once each. */
    async pollComments({ socialAccountId }: { socialAccountId: string }): Promise<{ postsChecked: number; newComments: number }> {
      const account = await access.usableAccount(socialAccountId);
      const api = commentsApi(account);
      if (!api) return { postsChecked: 0, newComments: 0 };
      const since = new Date(Date.now() - COMMENTS_POLL_WINDOW_DAYS * 86_400_000);
      const targets = await recentPublishedTargets(db, socialAccountId, since, COMMENTS_POLL_MAX_POSTS);
      return heartbeating(async () => {
        let newComments = 0;
        for (const target of targets) {
          const platformPostId = target.platform_post_id!;
          const listed = await access.withAccountToken(account, (auth) => api.listComments(auth, platformPostId));
          newComments += await insertNewComments(
            db,
            listed.map((c) => ({
              postId: target.post_id,
              socialAccountId,
              platformPostId,
              platformCommentId: c.id,
              authorId: c.authorId,
              authorUsername: c.authorUsername,
              text: c.text,
              postedAt: new Date(c.postedAt),
            })),
          );
        }
        if (newComments > 0) logger.info({ socialAccountId, newComments }, 'new comments stored');
        return { postsChecked: targets.length, newComments };
      });
    },

    /**
     * One batch of the account's unclassified comments through the model (its cost recorded as AI
     * usage of the user and run); a comment already classified keeps its first answer.
     */
    async classifyCommentSentiments(input: {
      socialAccountId: string;
      userId: string;
      runId: string;
    }): Promise<{ classified: number; more: boolean }> {
      const pending = await listUnclassifiedComments(db, input.socialAccountId, SENTIMENT_BATCH_SIZE + 1);
      const batch = pending.slice(0, SENTIMENT_BATCH_SIZE);
      if (batch.length === 0) return { classified: 0, more: false };
      const answer = await providers.anthropic.generate({
        system: SENTIMENT_SYSTEM,
        prompt: `Classify the sentiment of these comments:\n<comments>\n${JSON.stringify(batch.map((c) => ({ id: c.id, text: c.text })))}\n</comments>`,
        maxTokens: 40 * batch.length + 100,
        userId: input.userId,
        runId: input.runId,
        operation: 'comments.sentiment',
      });
      await setCommentSentiments(
        db,
        parseSentiments(
          answer.text,
          batch.map((c) => c.id),
        ),
      );
      return { classified: batch.length, more: pending.length > batch.length };
    },

    /**
     * Publishes the reply at most once (replyOnce: our earlier reply is looked for by the marker of
     * the comment row first) and records it on the comment; a recorded reply is returned as is.
     */
    async publishCommentReply(input: { commentId: string; userId: string; text: string; since: string }): Promise<CommentReplyResult> {
      const comment = await findComment(db, input.commentId);
      if (!comment) throw ApplicationFailure.nonRetryable(`comment ${input.commentId} not found`, FailureType.NotFound);
      if (comment.replied && comment.reply_platform_id && comment.replied_at)
        return {
          commentId: comment.id,
          platformReplyId: comment.reply_platform_id,
          repliedAt: comment.replied_at.toISOString(),
          alreadyReplied: true,
        };
      const account = await access.usableAccount(comment.social_account_id);
      const api = commentsApi(account);
      if (!api)
        throw ApplicationFailure.nonRetryable(`replies are not available for ${account.platform} accounts`, FailureType.InvalidInput);
      if ([...input.text].length > api.maxReplyLength)
        throw ApplicationFailure.nonRetryable(
          `a reply on ${account.platform} takes at most ${api.maxReplyLength} characters`,
          FailureType.InvalidInput,
        );
      const reply = await access.withAccountToken(account, (auth) =>
        replyOnce(api, {
          account: auth,
          platformPostId: comment.platform_post_id,
          commentId: comment.platform_comment_id,
          replyKey: comment.id,
          text: input.text,
          since: input.since,
        }),
      );
      const repliedAt = await recordCommentReply(db, comment.id, {
        text: input.text,
        platformReplyId: reply.platformReplyId,
        repliedBy: input.userId,
      });
      logger.info(
        { commentId: comment.id, platformReplyId: reply.platformReplyId, alreadyReplied: reply.alreadyReplied },
        'comment reply published',
      );
      return {
        commentId: comment.id,
        platformReplyId: reply.platformReplyId,
        repliedAt: repliedAt.toISOString(),
        alreadyReplied: reply.alreadyReplied,
      };
    },

    /**
     * After a ProviderAuth failure: an account our token handling left `expired` becomes `revoked`,
     * its schedules are paused and its owner is emailed once (per revocation: the key carries the
     * sealed tokens, which a reconnect replaces). An account active again or disconnected is left alone.
     */
    async handleAccountAccessLost({
      socialAccountId,
    }: {
      socialAccountId: string;
    }): Promise<{ revoked: boolean; paused: string[]; email?: NotificationOutcome }> {
      const account = await markSocialAccountRevoked(db, socialAccountId);
      if (!account) return { revoked: false, paused: [] };
      const reason = account.last_error ?? 'the platform refused our access';
      const paused = deps.socialSchedules ? (await deps.socialSchedules.pause(account.id, `revoked: ${reason}`)).paused : [];
      const grant = createHash('sha256').update(account.encrypted_tokens).digest('hex').slice(0, 16);
      const email = await notifyOnce(deps, {
        userId: account.user_id,
        kind: 'social_account_revoked',
        dedupeKey: `social_account_revoked:${account.id}:${grant}`,
        subject: `Reconnect your ${accountName(account)}`,
        lines: [
          `We can no longer act for your ${accountName(account)}: ${reason}.`,
          'Its analytics sync and comments inbox are paused, and posts to it cannot be published.',
          'Connect the account again to resume them.',
        ],
      });
      logger.warn({ socialAccountId, paused, email }, 'social account revoked');
      return { revoked: true, paused, email };
    },
  };
}

export type SocialEngagementActivities = ReturnType<typeof createSocialEngagementActivities>;
