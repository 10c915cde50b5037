import { MAX_REPLY_LENGTH } from '../../schemas/social-insights';
import { expiresIn, markedCaption, markedReply, matchExisting, matchReply, utcDayBounds, type SocialHttp } from './http';
import type {
  AccountInsights,
  CommentReplyInput,
  PlatformComment,
  PostMetrics,
  PublishedPost,
  SocialAccountAuth,
  SocialComments,
  SocialInsights,
  SocialPostInput,
  SocialPublisher,
  TokenGrant,
} from './types';

export interface XPublisherOptions {
  /** https://api.x.com or a sandbox. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
}

interface Tweet {
  id: string;
  text: string;
  created_at?: string;
  public_metrics?: { retweet_count: number; reply_count: number; like_count: number; quote_count: number; impression_count?: number };
  author_id?: string;
  referenced_tweets?: Array<{ type: string; id: string }>;
}

interface SearchAnswer {
  data?: Tweet[];
  includes?: { users?: Array<{ id: string; username: string }> };
}

const tweetUrl = (id: string, username?: string) => `https://x.com/${username ?? 'i'}/status/${id}`;

/** X API v2 (`POST /2/tweets`): the caption, with media shared as links (no chunked media upload). */
export class XPublisher implements SocialPublisher, SocialInsights, SocialComments {
  readonly platform = 'x' as const;
  readonly maxReplyLength = MAX_REPLY_LENGTH.x;

  constructor(
    private readonly http: SocialHttp,
    private readonly options: XPublisherOptions,
  ) {}

  async publish(post: SocialPostInput): Promise<PublishedPost> {
    const text = [post.caption, ...post.mediaUrls].join(' ');
    const { body } = await this.http.request<{ data: Tweet }>(`${this.options.baseUrl}/2/tweets`, {
      method: 'POST',
      bearer: post.account.accessToken,
      json: { text: markedCaption({ ...post, caption: text }) },
    });
    return { platformPostId: body.data.id, platformUrl: tweetUrl(body.data.id, post.account.username) };
  }

  async findExisting(post: SocialPostInput): Promise<PublishedPost | null> {
    const { body } = await this.http.request<{ data?: Tweet[] }>(
      `${this.options.baseUrl}/2/users/${encodeURIComponent(post.account.platformUserId)}/tweets?max_results=20&tweet.fields=created_at`,
      { bearer: post.account.accessToken },
    );
    const caption = [post.caption, ...post.mediaUrls].join(' ');
    return matchExisting({ ...post, caption }, body.data ?? [], (t) => ({
      text: t.text,
      createdAt: t.created_at,
      published: { platformPostId: t.id, platformUrl: tweetUrl(t.id, post.account.username) },
    }));
  }

  async fetchMetrics(account: SocialAccountAuth, platformPostId: string): Promise<PostMetrics> {
    const { body } = await this.http.request<{ data: Tweet }>(
      `${this.options.baseUrl}/2/tweets/${encodeURIComponent(platformPostId)}?tweet.fields=public_metrics`,
      {
        bearer: account.accessToken,
      },
    );
    const m = body.data.public_metrics;
    return {
      views: m?.impression_count ?? null,
      likes: m?.like_count ?? null,
      comments: m?.reply_count ?? null,
      shares: m ? m.retweet_count + m.quote_count : null,
    };
  }

  /**
   * X has no account-level daily analytics in API v2: the follower count comes from the user's
   * public_metrics, the day's figures are the sums over the posts the account made that day.
   */
  async fetchDailyInsights(account: SocialAccountAuth, date: string): Promise<AccountInsights> {
    const user = encodeURIComponent(account.platformUserId);
    const { body: profile } = await this.http.request<{ data: { public_metrics?: { followers_count: number; tweet_count: number } } }>(
      `${this.options.baseUrl}/2/users/${user}?user.fields=public_metrics`,
      { bearer: account.accessToken },
    );
    const { since, until } = utcDayBounds(date);
    const window = `start_time=${new Date(since * 1000).toISOString()}&end_time=${new Date(until * 1000).toISOString()}`;
    const { body } = await this.http.request<{ data?: Tweet[] }>(
      `${this.options.baseUrl}/2/users/${user}/tweets?max_results=100&tweet.fields=public_metrics,created_at&${window}`,
      { bearer: account.accessToken },
    );
    const tweets = body.data ?? [];
    const sum = (pick: (m: NonNullable<Tweet['public_metrics']>) => number) =>
      tweets.reduce((total, t) => total + (t.public_metrics ? pick(t.public_metrics) : 0), 0);
    const likes = sum((m) => m.like_count);
    const comments = sum((m) => m.reply_count);
    const shares = sum((m) => m.retweet_count + m.quote_count);
    return {
      followers: profile.data.public_metrics?.followers_count ?? null,
      followersGained: null,
      followersLost: null,
      impressions: sum((m) => m.impression_count ?? 0),
      reach: null,
      engagement: likes + comments + shares,
      views: null,
      likes,
      comments,
      shares,
      postsPublished: tweets.length,
      raw: { profile: profile.data, tweets: tweets.map((t) => ({ id: t.id, public_metrics: t.public_metrics })) },
    };
  }

  private async search(account: SocialAccountAuth, query: string): Promise<SearchAnswer> {
    const params = new URLSearchParams({
      query,
      max_results: '100',
      'tweet.fields': 'author_id,created_at,referenced_tweets',
      expansions: 'author_id',
      'user.fields': 'username',
    });
    const { body } = await this.http.request<SearchAnswer>(`${this.options.baseUrl}/2/tweets/search/recent?${params.toString()}`, {
      bearer: account.accessToken,
    });
    return body;
  }

  /** The replies in the post's conversation, except the account's own. */
  async listComments(account: SocialAccountAuth, platformPostId: string): Promise<PlatformComment[]> {
    const answer = await this.search(account, `conversation_id:${platformPostId} -from:${account.platformUserId}`);
    const users = new Map((answer.includes?.users ?? []).map((u) => [u.id, u.username]));
    return (answer.data ?? []).map((t) => ({
      id: t.id,
      text: t.text,
      authorId: t.author_id ?? null,
      authorUsername: (t.author_id && users.get(t.author_id)) || null,
      postedAt: t.created_at ?? new Date().toISOString(),
    }));
  }

  async reply(input: CommentReplyInput): Promise<{ platformReplyId: string }> {
    const { body } = await this.http.request<{ data: Tweet }>(`${this.options.baseUrl}/2/tweets`, {
      method: 'POST',
      bearer: input.account.accessToken,
      json: { text: markedReply(input), reply: { in_reply_to_tweet_id: input.commentId } },
    });
    return { platformReplyId: body.data.id };
  }

  async findReply(input: CommentReplyInput): Promise<{ platformReplyId: string } | null> {
    const answer = await this.search(input.account, `conversation_id:${input.platformPostId} from:${input.account.platformUserId}`);
    const answers = (answer.data ?? []).filter((t) =>
      t.referenced_tweets?.some((r) => r.type === 'replied_to' && r.id === input.commentId),
    );
    return matchReply(input, answers, (t) => ({ id: t.id, text: t.text, createdAt: t.created_at }));
  }

  async refreshToken(refreshToken: string): Promise<TokenGrant> {
    const basic = Buffer.from(`${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(this.options.clientSecret)}`).toString(
      'base64',
    );
    const { body } = await this.http.request<{ access_token: string; refresh_token?: string; expires_in?: number }>(
      `${this.options.baseUrl}/2/oauth2/token`,
      {
        method: 'POST',
        headers: { authorization: `Basic ${basic}` },
        form: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: this.options.clientId },
      },
    );
    return { accessToken: body.access_token, refreshToken: body.refresh_token ?? refreshToken, expiresAt: expiresIn(body.expires_in) };
  }
}
