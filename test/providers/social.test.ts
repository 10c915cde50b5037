import { ApplicationFailure } from '@temporalio/common';
import { providerCall } from '../../providers/call';
import { ProviderLimits } from '../../providers/rate-limit';
import {
  createSocialPublishers,
  publishOnce,
  sandboxSocialEndpoints,
  type SocialPlatform,
  type SocialPostInput,
  type SocialPublishers,
} from '../../providers/social';
import { markedCaption, matchExisting, postMarker } from '../../providers/social/http';
import { type SocialSandbox, startSocialSandbox } from '../../sandbox/social';

const CLIENT = { clientId: 'test-client', clientSecret: 'test-secret' };
const PLATFORMS: SocialPlatform[] = ['instagram', 'facebook', 'tiktok', 'linkedin', 'x'];
/** Each platform's typical post: a reel/video where the platform pulls media, an image or link elsewhere. */
const MEDIA: Record<SocialPlatform, Pick<SocialPostInput, 'mediaType' | 'mediaUrls'>> = {
  instagram: { mediaType: 'video', mediaUrls: ['http://127.0.0.1:1/clip.mp4'] },
  facebook: { mediaType: 'image', mediaUrls: ['http://127.0.0.1:1/thumb.png'] },
  tiktok: { mediaType: 'video', mediaUrls: ['http://127.0.0.1:1/clip.mp4'] },
  linkedin: { mediaType: 'video', mediaUrls: ['http://127.0.0.1:1/watch'] },
  x: { mediaType: 'video', mediaUrls: ['http://127.0.0.1:1/watch'] },
};

let sandbox: SocialSandbox;
let publishers: SocialPublishers;

beforeAll(async () => {
  sandbox = await startSocialSandbox(CLIENT);
});

beforeEach(() => {
  sandbox.server.reset();
  const limits = new ProviderLimits({});
  publishers = createSocialPublishers({
    endpoints: sandboxSocialEndpoints(sandbox.url),
    clients: { instagram: CLIENT, facebook: CLIENT, tiktok: CLIENT, linkedin: CLIENT, x: CLIENT },
    callFor: (platform) => providerCall(limits.for(platform)),
    pollIntervalMs: 5,
  });
});

afterAll(() => sandbox.stop());

function postFor(platform: SocialPlatform, postId: string, account = sandbox.issueAccount(platform)): SocialPostInput {
  return {
    postId,
    account: { accessToken: account.accessToken, platformUserId: account.platformUserId, username: account.username },
    caption: `Launch day clip for ${platform} #creator`,
    ...MEDIA[platform],
    since: new Date().toISOString(),
  };
}

describe.each(PLATFORMS)('%s publisher against the sandbox', (platform) => {
  test('publishes once: a retry after a crash finds the earlier post instead of posting again', async () => {
    const publisher = publishers[platform];
    const post = postFor(platform, '5f1c9a2e-0000-4000-8000-000000000001');
    // First attempt: the platform accepts the post, then the worker dies before recording it.
    const lost = await publisher.publish(post);
    expect(lost.platformPostId).toBeTruthy();
    expect(lost.platformUrl).toMatch(/^https:\/\//);

    const retried = await publishOnce(publisher, post);
    expect(retried).toEqual({ ...lost, alreadyPublished: true });
    expect(sandbox.posts.filter((p) => p.platform === platform)).toHaveLength(1);
    expect(sandbox.posts[0]!.text).toContain(postMarker(post.postId));

    // Another post of the same account is not mistaken for ours.
    const other = { ...post, postId: '5f1c9a2e-0000-4000-8000-000000000002' };
    expect((await publishOnce(publisher, other)).alreadyPublished).toBe(false);
    expect(sandbox.posts.filter((p) => p.platform === platform)).toHaveLength(2);
  });

  test('metrics grow from one sync to the next', async () => {
    const publisher = publishers[platform];
    const post = postFor(platform, '5f1c9a2e-0000-4000-8000-000000000003');
    const { platformPostId } = await publisher.publish(post);
    const first = await publisher.fetchMetrics(post.account, platformPostId);
    const second = await publisher.fetchMetrics(post.account, platformPostId);
    expect(second.likes!).toBeGreaterThan(first.likes!);
    if (first.views !== null) expect(second.views!).toBeGreaterThan(first.views);
  });

  test('an expired token fails as ProviderAuth; the refreshed token publishes', async () => {
    const publisher = publishers[platform];
    const account = sandbox.issueAccount(platform);
    const post = postFor(platform, '5f1c9a2e-0000-4000-8000-000000000004', account);
    // Meta's long-lived tokens are refreshed with themselves, and only while still valid.
    const graph = platform === 'instagram' || platform === 'facebook';
    const grant = graph ? await publisher.refreshToken(account.accessToken) : undefined;
    sandbox.expireToken(account.accessToken);
    await expect(publisher.publish(post)).rejects.toMatchObject({ type: 'ProviderAuth', nonRetryable: true });
    const fresh = grant ?? (await publisher.refreshToken(account.refreshToken));
    expect(fresh.accessToken).not.toBe(account.accessToken);
    expect(Date.parse(fresh.expiresAt!)).toBeGreaterThan(Date.now());
    const published = await publishOnce(publisher, { ...post, account: { ...post.account, accessToken: fresh.accessToken } });
    expect(published.alreadyPublished).toBe(false);
  });

  test('a revoked grant cannot be refreshed: non-retryable ProviderAuth', async () => {
    const publisher = publishers[platform];
    const account = sandbox.issueAccount(platform);
    sandbox.revokeGrant(account.accessToken);
    const graph = platform === 'instagram' || platform === 'facebook';
    await expect(publisher.refreshToken(graph ? account.accessToken : account.refreshToken)).rejects.toMatchObject({
      type: 'ProviderAuth',
      nonRetryable: true,
    });
    await expect(publisher.findExisting(postFor(platform, 'x', account))).rejects.toMatchObject({ type: 'ProviderAuth' });
  });
});

describe('social publishing details', () => {
  test('Instagram carousel: child containers, then one carousel post', async () => {
    const post = {
      ...postFor('instagram', '5f1c9a2e-0000-4000-8000-000000000005'),
      mediaType: 'carousel' as const,
      mediaUrls: ['http://127.0.0.1:1/a.png', 'http://127.0.0.1:1/b.mp4'],
    };
    await publishers.instagram.publish(post);
    expect(sandbox.posts).toHaveLength(1);
    expect(sandbox.posts[0]).toMatchObject({ mediaType: 'CAROUSEL', mediaUrls: post.mediaUrls });
  });

  test('X rotates refresh tokens: the old one is refused after use', async () => {
    const account = sandbox.issueAccount('x');
    const grant = await publishers.x.refreshToken(account.refreshToken);
    expect(grant.refreshToken).not.toBe(account.refreshToken);
    await expect(publishers.x.refreshToken(account.refreshToken)).rejects.toMatchObject({ type: 'ProviderAuth' });
    expect((await publishers.x.refreshToken(grant.refreshToken!)).accessToken).toBeTruthy();
  });

  test('429 with Retry-After is retryable with the advertised delay', async () => {
    sandbox.server.faults.inject({ match: { method: 'POST', path: '/x/2/tweets' }, status: 429, retryAfterSeconds: 2 });
    const failure = await publishers.x.publish(postFor('x', '5f1c9a2e-0000-4000-8000-000000000006')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'RateLimited', nonRetryable: false, nextRetryDelay: 2000 });
    expect(sandbox.posts).toHaveLength(0);
  });

  test('the invisible marker leaves the visible caption unchanged; a stripped marker still matches by caption', () => {
    const post = postFor('x', '5f1c9a2e-0000-4000-8000-000000000007', {
      accessToken: 't',
      refreshToken: 'r',
      platformUserId: 'u',
      username: 'n',
      platform: 'x',
      expiresAt: '',
    });
    const marked = markedCaption(post);
    expect(marked.startsWith(post.caption)).toBe(true);
    expect([...marked.slice(post.caption.length)].every((c) => '\u2063\u200b\u200c\u200d\u2060'.includes(c))).toBe(true);
    expect(marked.length - post.caption.length).toBe(17);
    const view = (text: string) => ({ text, createdAt: new Date().toISOString(), published: { platformPostId: text, platformUrl: '' } });
    expect(matchExisting(post, ['something else', post.caption], view)?.platformPostId).toBe(post.caption);
    expect(matchExisting(post, ['something else'], view)).toBeNull();
  });
});
