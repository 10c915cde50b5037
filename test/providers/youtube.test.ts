import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { providerCall } from '../../providers/call';
import { requestedRetryDelayMs } from '../../providers/errors';
import { ProviderLimiter, systemClock, type Clock } from '../../providers/rate-limit';
import { createGoogleAuthAdapter } from '../../providers/google/auth';
import { publishOnce, type SocialPostInput } from '../../providers/social';
import { markedCaption, postMarker } from '../../providers/social/http';
import { createYoutubeAdapter, type YoutubeAdapter } from '../../providers/youtube/adapter';
import { YoutubePublisher } from '../../providers/youtube/publisher';
import { QuotaBudget, quotaDay } from '../../providers/youtube/quota';
import { quotaUnitsUsed } from '../../db/repositories/provider-quota';
import { googleErrorBody, startGoogleSandbox, type GoogleSandbox } from '../../sandbox/google';
import { solidPng } from '../../sandbox/png';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { applicationFailureOf, serverClock, startProbeWorker, startTimeSkippingEnvironment, type ProbeWorker } from './fixtures/probe';

const VIDEO = 'dQw4w9WgXcQ';
const TOKEN = 'ya29.owner-token';

let sandbox: GoogleSandbox;
let database: TestDatabase;
let projectSeq = 0;

beforeAll(async () => {
  [sandbox, database] = await Promise.all([startGoogleSandbox(), createTestDatabase()]);
});
afterAll(async () => {
  await sandbox?.stop();
  await database?.drop();
});
beforeEach(() => sandbox.reset());

/** A YouTube adapter on the real googleapis client, pointed at the sandbox, with its own quota project. */
function youtube(options: { budget?: number; clock?: Clock; projectKey?: string } = {}): {
  yt: YoutubeAdapter;
  projectKey: string;
  limiter: ProviderLimiter;
} {
  const projectKey = options.projectKey ?? `project-${++projectSeq}`;
  const clock = options.clock ?? systemClock;
  const limiter = new ProviderLimiter('youtube', { maxConcurrent: 4, clock });
  const yt = createYoutubeAdapter({
    apiKey: 'test-api-key',
    rootUrl: `${sandbox.url}/`,
    quota: new QuotaBudget({ db: database.db, provider: 'youtube', projectKey, dailyBudget: options.budget ?? 10_000, clock }),
    call: providerCall(limiter),
  });
  return { yt, projectKey, limiter };
}

const unitsUsed = (projectKey: string, now = Date.now()) =>
  quotaUnitsUsed(database.db, { provider: 'youtube', projectKey, periodDate: quotaDay(now).periodDate });

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('YouTube adapter (googleapis → sandbox)', () => {
  it('videos.list: parses metadata, statistics, duration and thumbnails, deterministically, for 1 quota unit', async () => {
    const { yt, projectKey } = youtube();
    const video = await yt.getVideo(VIDEO);
    expect(video).toMatchObject({ id: VIDEO, liveBroadcastContent: 'none', privacyStatus: 'public', hasCaptions: true });
    expect(video.title.length).toBeGreaterThan(10);
    expect(video.channelId).toMatch(/^UC[\w-]{22}$/);
    expect(video.channelTitle).not.toBe('');
    expect(video.tags.length).toBeGreaterThan(0);
    expect(video.durationSeconds).toBeGreaterThanOrEqual(240);
    expect(video.viewCount).toBeGreaterThan(video.likeCount);
    expect(Object.keys(video.thumbnails)[0]).toBe('maxres');
    expect(await yt.getVideo(VIDEO)).toEqual(video);

    const [request] = sandbox.requests;
    expect(request).toMatchObject({
      method: 'GET',
      path: '/youtube/v3/videos',
      query: { id: VIDEO, key: 'test-api-key', part: 'snippet,contentDetails,statistics,status' },
    });
    // The raw ISO duration the sandbox sent is what we parsed.
    const raw: any = await fetch(`${sandbox.url}/youtube/v3/videos?id=${VIDEO}&key=k`).then((r) => r.json());
    const iso: string = raw.items[0].contentDetails.duration;
    const [, h, m, s] = /PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?/.exec(iso)!;
    expect(video.durationSeconds).toBe(Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0));
    expect(await unitsUsed(projectKey)).toBe(2);
  });

  it('serves real PNG thumbnails of the advertised size', async () => {
    const { yt } = youtube();
    const { high } = (await yt.getVideo(VIDEO)).thumbnails;
    const png = Buffer.from(await (await fetch(high!.url)).arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([high!.width, high!.height]);
  });

  it('answers the reserved ids: not found, private (visible to its owner only), live, no captions, 4 hours long', async () => {
    const { yt } = youtube();
    await expect(failureOf(yt.getVideo('notfound000'))).resolves.toMatchObject({ type: 'NotFound', nonRetryable: true });
    await expect(failureOf(yt.getVideo('private0000'))).resolves.toMatchObject({ type: 'NotFound' });
    await expect(yt.getVideo('private0000', { accessToken: TOKEN })).resolves.toMatchObject({ privacyStatus: 'private' });
    await expect(yt.getVideo('livestream0')).resolves.toMatchObject({ liveBroadcastContent: 'live', durationSeconds: 0 });
    await expect(yt.getVideo('nocaptions0')).resolves.toMatchObject({ hasCaptions: false });
    await expect(yt.getVideo('toolong0000')).resolves.toMatchObject({ durationSeconds: 4 * 3600 });
    // Several ids in one request, unknown ones simply absent.
    const many = await yt.getVideos([VIDEO, 'notfound000', 'livestream0']);
    expect(many.map((v) => v.id)).toEqual([VIDEO, 'livestream0']);
  });

  it('channels.list + playlistItems.list: pages through a channel uploads playlist for auto-import', async () => {
    const { yt, projectKey } = youtube();
    const channel = await yt.getChannel({ handle: '@mayabuilds' });
    expect(channel.uploadsPlaylistId).toBe(`UU${channel.id.slice(2)}`);
    expect(channel.videoCount).toBeGreaterThanOrEqual(8);
    expect(await yt.getChannel({ channelId: channel.id })).toMatchObject({ id: channel.id, title: channel.title });

    const ids: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await yt.listUploads({ uploadsPlaylistId: channel.uploadsPlaylistId, pageToken, maxResults: 5 });
      expect(page.totalResults).toBe(channel.videoCount);
      ids.push(...page.items.map((i) => i.videoId));
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    expect(new Set(ids).size).toBe(channel.videoCount);
    const videos = await yt.getVideos(ids.slice(0, 50));
    expect(videos.every((v) => v.channelId === channel.id)).toBe(true);
    expect(await unitsUsed(projectKey)).toBe(2 + Math.ceil(channel.videoCount / 5) + 1);
  });

  it('captions.list + captions.download (OAuth): the owner gets a real transcript with timed segments', async () => {
    const { yt, projectKey } = youtube();
    const tracks = await yt.listCaptionTracks(VIDEO, TOKEN);
    expect(tracks.map((t) => t.trackKind).sort()).toEqual(['asr', 'standard']);
    const vtt = await yt.downloadCaption(tracks[0]!.id, TOKEN, 'vtt');
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    const srt = await yt.downloadCaption(tracks[0]!.id, TOKEN, 'srt');
    expect(srt.startsWith('1\n00:00:01,000 -->')).toBe(true);
    expect(sandbox.requests.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(await unitsUsed(projectKey)).toBe(50 + 200 + 200);
  });

  it('transcript chain: YouTube captions first (uploaded track preferred), parsed into paragraphs and segments', async () => {
    const { yt } = youtube();
    const video = await yt.getVideo(VIDEO);
    const transcript = await yt.getTranscript({ videoId: VIDEO, accessToken: TOKEN, preferredLanguage: 'en-US' });
    expect(transcript).toMatchObject({ source: 'youtube_captions', language: 'en' });
    expect(sandbox.requests.some((r) => r.path === `/youtube/v3/captions/std.${VIDEO}.en`)).toBe(true);
    expect(transcript.segments.length).toBeGreaterThan(50);
    expect(transcript.segments.at(-1)!.end).toBeLessThanOrEqual(video.durationSeconds);
    expect(transcript.segments.at(-1)!.end).toBeGreaterThan(video.durationSeconds - 30);
    expect(transcript.text.split('\n\n').length).toBeGreaterThan(3);
    expect(transcript.text).not.toMatch(/lorem|ipsum/i);
    expect(await yt.getTranscript({ videoId: VIDEO, accessToken: TOKEN })).toEqual(transcript);
  });

  it('transcript chain: falls back to the user-supplied SRT when there are no captions, no token, or a revoked token', async () => {
    const { yt } = youtube();
    const supplied = { content: '1\n00:00:00,000 --> 00:00:02,000\nMy own words.\n', format: 'srt' as const, language: 'de' };
    const expected = {
      source: 'user_supplied',
      language: 'de',
      text: 'My own words.',
      segments: [{ start: 0, end: 2, text: 'My own words.' }],
    };
    await expect(yt.getTranscript({ videoId: 'nocaptions0', accessToken: TOKEN, supplied })).resolves.toEqual(expected);
    await expect(yt.getTranscript({ videoId: VIDEO, supplied })).resolves.toEqual(expected);
    await expect(yt.getTranscript({ videoId: VIDEO, accessToken: 'revoked-token', supplied })).resolves.toEqual(expected);
  });

  it('transcript chain: nothing to use → non-retryable TranscriptUnavailable, nothing invented', async () => {
    const { yt } = youtube();
    await expect(failureOf(yt.getTranscript({ videoId: 'nocaptions0', accessToken: TOKEN }))).resolves.toMatchObject({
      type: 'TranscriptUnavailable',
      nonRetryable: true,
    });
    await expect(failureOf(yt.getTranscript({ videoId: VIDEO, supplied: { content: '   ' } }))).resolves.toMatchObject({
      type: 'TranscriptUnavailable',
    });
  });

  it('videos.insert (multipart upload to the per-call rootUrl) and thumbnails.set: bytes arrive intact', async () => {
    const { yt, projectKey } = youtube();
    const bytes = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from('ftypmp42'),
      Buffer.alloc(4096, 0xab),
      Buffer.from([0xff, 0x00, 0x0d, 0x0a]),
    ]);
    const progress: number[] = [];
    const uploaded = await yt.uploadVideo({
      accessToken: TOKEN,
      body: bytes,
      title: 'Five thumbnail rules',
      description: 'Clip',
      tags: ['shorts'],
      privacyStatus: 'private',
      publishAt: '2026-12-01T15:00:00Z',
      onProgress: (n) => progress.push(n),
    });
    expect(uploaded).toMatchObject({ privacyStatus: 'private', uploadStatus: 'uploaded' });
    const stored = sandbox.uploadedVideos.get(uploaded.videoId)!;
    expect(stored).toMatchObject({
      title: 'Five thumbnail rules',
      tags: ['shorts'],
      publishAt: '2026-12-01T15:00:00Z',
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(sandbox.requests.at(-1)).toMatchObject({
      path: '/upload/youtube/v3/videos',
      query: { uploadType: 'multipart', part: 'snippet,status' },
    });
    expect(progress.at(-1)).toBe(bytes.length);

    const thumb = await yt.setThumbnail({
      accessToken: TOKEN,
      videoId: uploaded.videoId,
      image: solidPng(1280, 720, [200, 40, 40]),
      mimeType: 'image/png',
    });
    expect(thumb.url).toContain(uploaded.videoId);
    expect(sandbox.uploadedVideos.get(uploaded.videoId)!.customThumbnail).toMatchObject({ mimeType: 'image/png' });
    await expect(yt.getVideo(uploaded.videoId, { accessToken: TOKEN })).resolves.toMatchObject({
      title: 'Five thumbnail rules',
      privacyStatus: 'private',
    });
    expect(await unitsUsed(projectKey)).toBe(1600 + 50 + 1);
  });

  it('classifies faults: 429 → retryable with Retry-After as nextRetryDelay; 401 → non-retryable ProviderAuth; 5xx → retryable', async () => {
    const { yt } = youtube();
    sandbox.faults.inject({ match: { path: '/youtube/v3/videos' }, status: 429, retryAfterSeconds: 7 });
    const limited = await failureOf(yt.getVideo(VIDEO));
    expect(limited).toMatchObject({ type: 'RateLimited', nonRetryable: false });
    expect(requestedRetryDelayMs(limited)).toBe(7000);

    sandbox.faults.inject({ status: 503 });
    await expect(failureOf(youtube().yt.getVideo(VIDEO))).resolves.toMatchObject({ type: 'ProviderUnavailable', nonRetryable: false });
    await expect(failureOf(youtube().yt.listCaptionTracks(VIDEO, 'revoked-token'))).resolves.toMatchObject({
      type: 'ProviderAuth',
      nonRetryable: true,
    });
    // Every call above hit the sandbox exactly once: googleapis' own retries are off.
    expect(sandbox.requests.filter((r) => r.status >= 400)).toHaveLength(3);
  });

  it('out of budget: no request is sent and the call waits for the Pacific-midnight reset (retryable QuotaExceeded)', async () => {
    let now = Date.parse('2026-01-15T07:00:00Z'); // 23:00 PST
    const clock: Clock = { now: () => now, sleep: async () => undefined };
    const { yt, projectKey } = youtube({ budget: 2, clock });
    await yt.getVideo(VIDEO);
    await yt.getVideo(VIDEO);
    const requestsBefore = sandbox.requests.length;
    const wait = await failureOf(yt.getVideo(VIDEO));
    expect(wait).toMatchObject({ type: 'QuotaExceeded', nonRetryable: false });
    expect(requestedRetryDelayMs(wait)).toBe(60 * 60_000);
    expect(sandbox.requests.length).toBe(requestsBefore);

    now = Date.parse('2026-01-15T08:00:01Z'); // 00:00:01 PST, a new quota day
    await expect(yt.getVideo(VIDEO)).resolves.toMatchObject({ id: VIDEO });
    expect(await unitsUsed(projectKey, now)).toBe(1);
  });

  it('a quotaExceeded answer from YouTube itself marks the day spent and turns into the same wait', async () => {
    const { yt, projectKey } = youtube({ budget: 500 });
    sandbox.faults.inject({
      status: 403,
      body: googleErrorBody(403, 'The request cannot be completed because you have exceeded your quota.', 'quotaExceeded'),
    });
    const wait = await failureOf(yt.getVideo(VIDEO));
    expect(wait).toMatchObject({ type: 'QuotaExceeded', nonRetryable: false });
    expect(requestedRetryDelayMs(wait)).toBeGreaterThan(0);
    expect(await unitsUsed(projectKey)).toBe(500);
  });

  it('shares one budget across workers: concurrent reservations never overspend', async () => {
    const projectKey = `shared-${++projectSeq}`;
    const workers = [youtube({ budget: 10, projectKey }).yt, youtube({ budget: 10, projectKey }).yt];
    const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => workers[i % 2]!.getVideo(VIDEO)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(await unitsUsed(projectKey)).toBe(10);
  });
});

describe('YouTube publisher (posting workflow platform, googleapis → sandbox)', () => {
  const clip = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(8192, 0x5a)]);
  let clipUrl: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'yt-publish-'));
    await writeFile(join(dir, 'clip.mp4'), clip);
    clipUrl = pathToFileURL(join(dir, 'clip.mp4')).href;
  });

  function publisher() {
    const call = providerCall(new ProviderLimiter('google-oauth', { maxConcurrent: 2, clock: systemClock }));
    return new YoutubePublisher({
      youtube: youtube().yt,
      googleAuth: createGoogleAuthAdapter({ clientId: 'client', clientSecret: 'secret', tokenUrl: `${sandbox.url}/token`, call }),
    });
  }

  function postFor(accessToken: string, overrides: Partial<SocialPostInput> = {}): SocialPostInput {
    return {
      postId: randomUUID(),
      account: { accessToken, platformUserId: sandbox.channelOf(accessToken) },
      caption: 'Five thumbnail rules that doubled my CTR\n\n#thumbnails #creators',
      hashtags: ['thumbnails', '#creators'],
      mediaType: 'video',
      mediaUrls: [clipUrl],
      since: new Date().toISOString(),
      ...overrides,
    };
  }

  const uploadsOf = (channelId: string) => [...sandbox.uploadedVideos.values()].filter((v) => v.channelId === channelId);

  it('uploads the clip once: title from the caption, tags from hashtags, privacy from platformOptions, the post marker in the description', async () => {
    const grant = sandbox.issueGrant();
    const post = postFor(grant.accessToken, { platformOptions: { privacyStatus: 'unlisted' } });
    const published = await publishOnce(publisher(), post);
    expect(published).toEqual({
      platformPostId: expect.any(String),
      platformUrl: `https://www.youtube.com/watch?v=${published.platformPostId}`,
      alreadyPublished: false,
    });
    const [video, ...others] = uploadsOf(grant.channelId);
    expect(others).toHaveLength(0);
    expect(video).toMatchObject({
      id: published.platformPostId,
      title: 'Five thumbnail rules that doubled my CTR',
      tags: ['thumbnails', 'creators'],
      privacyStatus: 'unlisted',
      bytes: clip.length,
      sha256: createHash('sha256').update(clip).digest('hex'),
    });
    expect(video!.description).toBe(markedCaption(post));
    expect(video!.description).toContain(postMarker(post.postId));
  });

  it('a retry after YouTube accepted the upload finds it among the channel uploads (private included) and uploads nothing', async () => {
    const grant = sandbox.issueGrant();
    const post = postFor(grant.accessToken, { platformOptions: { privacyStatus: 'private', title: 'Shorts test' } });
    const yt = publisher();
    const first = await publishOnce(yt, post);
    // Another post of the same channel with the same caption must not be taken for this one.
    const other = await publishOnce(yt, postFor(grant.accessToken));
    const uploadsBefore = sandbox.requests.filter((r) => r.path === '/upload/youtube/v3/videos').length;

    const retried = await publishOnce(yt, post);
    expect(retried).toEqual({ ...first, alreadyPublished: true });
    expect(other.platformPostId).not.toBe(first.platformPostId);
    expect(sandbox.requests.filter((r) => r.path === '/upload/youtube/v3/videos')).toHaveLength(uploadsBefore);
    expect(uploadsOf(grant.channelId)).toHaveLength(2);
    const lookup = sandbox.requests.filter((r) => r.path === '/youtube/v3/channels' || r.path === '/youtube/v3/playlistItems').slice(-2);
    expect(lookup.map((r) => [r.path, r.query.mine ?? r.query.playlistId, r.headers.authorization])).toEqual([
      ['/youtube/v3/channels', 'true', `Bearer ${grant.accessToken}`],
      ['/youtube/v3/playlistItems', `UU${grant.channelId.slice(2)}`, `Bearer ${grant.accessToken}`],
    ]);
  });

  it('an expired access token is refused as ProviderAuth; the refreshed token acts for the same channel; a revoked grant cannot be refreshed', async () => {
    const grant = sandbox.issueGrant();
    sandbox.expireAccessToken(grant.accessToken);
    const yt = publisher();
    await expect(failureOf(yt.findExisting(postFor(grant.accessToken)))).resolves.toMatchObject({
      type: 'ProviderAuth',
      nonRetryable: true,
    });
    const refreshed = await yt.refreshToken(grant.refreshToken);
    expect(refreshed).toMatchObject({ accessToken: expect.stringMatching(/^ya29\./), refreshToken: grant.refreshToken });
    expect(sandbox.channelOf(refreshed.accessToken)).toBe(grant.channelId);
    await expect(yt.findExisting(postFor(refreshed.accessToken))).resolves.toBeNull();

    sandbox.revokeGrant(grant.accessToken);
    await expect(failureOf(yt.refreshToken(grant.refreshToken))).resolves.toMatchObject({ type: 'ProviderAuth', nonRetryable: true });
  });

  it('refuses what YouTube cannot take before uploading: an image post, bad platformOptions, a missing media file', async () => {
    const grant = sandbox.issueGrant();
    const yt = publisher();
    await expect(failureOf(yt.publish(postFor(grant.accessToken, { mediaType: 'image' })))).resolves.toMatchObject({
      type: 'InvalidInput',
      nonRetryable: true,
    });
    await expect(
      failureOf(yt.publish(postFor(grant.accessToken, { platformOptions: { privacyStatus: 'friends' } }))),
    ).resolves.toMatchObject({ type: 'InvalidInput' });
    await expect(
      failureOf(yt.publish(postFor(grant.accessToken, { mediaUrls: [pathToFileURL('/nonexistent/clip.mp4').href] }))),
    ).resolves.toMatchObject({ type: 'NotFound' });
    expect(uploadsOf(grant.channelId)).toHaveLength(0);
  });
});

describe('YouTube faults under real Temporal retries (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let probes: ProbeWorker;
  beforeAll(async () => {
    env = await startTimeSkippingEnvironment();
    probes = await startProbeWorker(env);
  });
  afterAll(async () => {
    await probes?.stop();
    await env?.teardown();
  });

  it('500 twice then OK → the third attempt succeeds', async () => {
    const { yt } = youtube();
    sandbox.faults.inject({ match: { path: '/youtube/v3/videos' }, status: 500, times: 2 });
    const outcome = await probes.run(async (id) => (await yt.getVideo(id)).title, VIDEO);
    expect(outcome.error).toBeUndefined();
    expect(outcome.result).toBe((await yt.getVideo(VIDEO)).title);
    expect(outcome.attemptTimes).toHaveLength(3);
  });

  it('429 with Retry-After: 30 → the next attempt runs after the advertised delay, then succeeds', async () => {
    const { yt } = youtube({ clock: serverClock });
    sandbox.faults.inject({ match: { path: '/youtube/v3/videos' }, status: 429, retryAfterSeconds: 30 });
    const outcome = await probes.run(async (id) => (await yt.getVideo(id)).id, VIDEO);
    expect(outcome.result).toBe(VIDEO);
    expect(outcome.attemptTimes).toHaveLength(2);
    expect(outcome.attemptTimes[1]! - outcome.attemptTimes[0]!).toBeGreaterThanOrEqual(30_000);
  });

  it('401 → non-retryable ProviderAuth after a single attempt', async () => {
    const { yt } = youtube();
    const outcome = await probes.run(async (id) => (await yt.listCaptionTracks(id, 'revoked-token')).length.toString(), VIDEO);
    expect(applicationFailureOf(outcome.error)).toMatchObject({ type: 'ProviderAuth', nonRetryable: true });
    expect(outcome.attemptTimes).toHaveLength(1);
  });

  it('quota exhausted → the activity waits (durably, in Temporal) for the Pacific-midnight reset, then succeeds', async () => {
    const { yt, projectKey } = youtube({ budget: 1, clock: serverClock });
    const serverNow = await env.currentTimeMs();
    const { periodDate, resetsAt } = quotaDay(serverNow);
    await database.db
      .insertInto('provider_quota_usage')
      .values({ provider: 'youtube', project_key: projectKey, period_date: periodDate, units_used: 1 })
      .execute();

    const outcome = await probes.run(async (id) => (await yt.getVideo(id)).id, VIDEO);
    expect(outcome.result).toBe(VIDEO);
    expect(outcome.attemptTimes).toHaveLength(2);
    expect(outcome.attemptTimes[1]!).toBeGreaterThanOrEqual(resetsAt);
    expect(
      await quotaUnitsUsed(database.db, { provider: 'youtube', projectKey, periodDate: quotaDay(outcome.attemptTimes[1]!).periodDate }),
    ).toBe(1);
  });
});
