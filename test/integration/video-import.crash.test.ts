import { randomBytes, randomUUID } from 'node:crypto';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startGoogleSandbox } from '../../sandbox/google';
import type { SandboxServer } from '../../sandbox/http';
import { USER_SCOPES } from '../../schemas/api-keys';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';

const CONTENT_TYPES = ['summary', 'chapters', 'blog_post', 'quotes', 'newsletter'];
const TRANSCRIPT = [
  'Today I want to show you how I plan a whole month of videos in a single afternoon.',
  'The first step is to write down every question your audience asked in the comments last month.',
  'I group those questions into three themes, and each theme becomes a short series of four videos.',
  'Batch filming saves me roughly nine hours a week because the lights and the camera stay set up.',
].join(' ');

/**
 * kill -9 the worker process while content generations are in flight; a fresh worker (started in
 * this process, to skip a second cold start) finishes the import exactly once.
 */
describe('video import survives a worker killed mid-generation', () => {
  let platform: TestPlatform;
  let google: SandboxServer;
  let anthropic: SandboxServer;

  beforeAll(async () => {
    // Slow model answers keep generations in flight long enough to kill the worker under them.
    [google, anthropic] = await Promise.all([startGoogleSandbox({ port: 0 }), startAnthropicSandbox({ port: 0, latencyMs: 1500 })]);
    platform = await startTestPlatform({ workers: 'later', sandboxUrls: { google: google.url, anthropic: anthropic.url } });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([google?.stop(), anthropic?.stop()]);
  });

  it('completes after kill -9 and restart: exactly one row per content type, usage committed once', async () => {
    const { database, client, apiUrl } = platform;
    // Two generations at a time: the fan-out is still running when the first rows land.
    const first = await platform.spawnWorkerProcess({ ANTHROPIC_MAX_CONCURRENCY: '2' });
    const user = await createUser(database.db, { email: `crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const started = await api(
      apiUrl,
      'POST',
      '/v1/videos/import',
      {
        url: `https://youtu.be/${randomBytes(8).toString('base64url').slice(0, 11)}`,
        contentTypes: CONTENT_TYPES,
        transcript: { content: TRANSCRIPT },
      },
      { authorization: `Bearer ${plaintext}` },
    );
    expect(started.status).toBe(202);
    const videoId: string = started.json.videoId;
    const rows = () =>
      database.db.selectFrom('video_content').select(['content_type_id', 'version']).where('video_id', '=', videoId).execute();

    // Kill once some content exists and the rest is still being generated.
    const deadline = Date.now() + 60_000;
    while ((await rows()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const written = (await rows()).length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(CONTENT_TYPES.length);
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    // The replacement runs in this process, to skip a second cold start.
    await platform.startWorkers();
    const result = await client.workflow.getHandle(started.json.runId).result();
    expect([...result.generatedContentTypes].sort()).toEqual([...CONTENT_TYPES].sort());
    expect(result.failedContentTypes).toEqual([]);

    const final = await rows();
    expect(final).toHaveLength(CONTENT_TYPES.length);
    expect(new Set(final.map((r) => r.content_type_id)).size).toBe(CONTENT_TYPES.length);
    expect(final.every((r) => r.version === 1)).toBe(true);
    const usage = await database.db
      .selectFrom('subscription_usage')
      .select(['videos_processed', 'videos_reserved'])
      .where('user_id', '=', user.id)
      .execute();
    expect(usage).toEqual([{ videos_processed: 1, videos_reserved: 0 }]);
    const run = await database.db
      .selectFrom('job_runs')
      .select(['status', 'progress'])
      .where('id', '=', started.json.runId)
      .executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'completed', progress: 100 });
    const video = await database.db
      .selectFrom('videos')
      .select(['processing_status', 'progress'])
      .where('id', '=', videoId)
      .executeTakeFirstOrThrow();
    expect(video).toEqual({ processing_status: 'completed', progress: 100 });
  });
});
