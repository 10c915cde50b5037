import { randomBytes } from 'node:crypto';
import type { VideoImportResult } from '../../schemas/video-import';
import { createCaller } from '../api/fixtures';
import { api, type TestPlatform } from '../helpers/platform';

/** What the chaos cases import: one generation per content type, each a row of its own. */
export const CONTENT_TYPES = ['summary', 'chapters', 'blog_post', 'quotes', 'newsletter'];
const TRANSCRIPT = [
  'Every week I answer the three questions my audience asked most in the comments.',
  'Answering in public turns one reply into a video that helps thousands of viewers.',
  'I keep a list of those questions in a notebook next to the camera all week long.',
].join(' ');

export interface StartedImport {
  userId: string;
  videoId: string;
  runId: string;
}

/** Starts a video import through the API for a new user (transcript given, so YouTube serves only metadata). */
export async function startVideoImport(platform: TestPlatform): Promise<StartedImport> {
  const caller = await createCaller(platform.database.db, { plan: 'basic' });
  const url = `https://youtu.be/${randomBytes(8).toString('base64url').slice(0, 11)}`;
  const started = await api(
    platform.apiUrl,
    'POST',
    '/v1/videos/import',
    { url, contentTypes: CONTENT_TYPES, transcript: { content: TRANSCRIPT } },
    caller.auth,
  );
  expect(started.status).toBe(202);
  return { userId: caller.userId, videoId: started.json.videoId, runId: started.json.runId };
}

/** Resolves once the fan-out is under way: some content is written, the rest is still being generated. */
export async function untilGenerating(platform: TestPlatform, { videoId }: StartedImport): Promise<void> {
  const written = () => platform.database.db.selectFrom('video_content').select('id').where('video_id', '=', videoId).execute();
  const deadline = Date.now() + 60_000;
  while ((await written()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect((await written()).length).toBeGreaterThan(0);
  expect((await written()).length).toBeLessThan(CONTENT_TYPES.length);
}

/** The import finished with every content type written exactly once, its quota slot used once, one run row. */
export async function expectImportedOnce(platform: TestPlatform, started: StartedImport, result: VideoImportResult): Promise<void> {
  const { db } = platform.database;
  expect([...result.generatedContentTypes].sort()).toEqual([...CONTENT_TYPES].sort());
  expect(result.failedContentTypes).toEqual([]);
  const rows = await db
    .selectFrom('video_content')
    .select(['content_type_id', 'version'])
    .where('video_id', '=', started.videoId)
    .execute();
  expect(rows).toHaveLength(CONTENT_TYPES.length);
  expect(new Set(rows.map((r) => r.content_type_id)).size).toBe(CONTENT_TYPES.length);
  expect(rows.every((r) => r.version === 1)).toBe(true);
  const usage = await db
    .selectFrom('subscription_usage')
    .select(['videos_processed', 'videos_reserved'])
    .where('user_id', '=', started.userId)
    .execute();
  expect(usage).toEqual([{ videos_processed: 1, videos_reserved: 0 }]);
  const runs = await db.selectFrom('job_runs').select(['status', 'progress']).where('user_id', '=', started.userId).execute();
  expect(runs).toEqual([{ status: 'completed', progress: 100 }]);
  const video = await db
    .selectFrom('videos')
    .select(['processing_status', 'progress'])
    .where('id', '=', started.videoId)
    .executeTakeFirstOrThrow();
  expect(video).toEqual({ processing_status: 'completed', progress: 100 });
}
