import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { startAssemblyAiSandbox, type AssemblyAiSandbox } from '../../sandbox/assemblyai';
import { USER_SCOPES } from '../../schemas/api-keys';
import type { IngestResult } from '../../schemas/video-ingest';
import { makeTestVideo } from '../media/media-fixtures';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';

/**
 * kill -9 the worker process while AssemblyAI is transcribing; fresh workers pick the run up
 * (the webhook or a poll ends the wait) and finish it once: one transcript at the provider, one
 * provider_jobs row, the words saved once.
 */
describe('video ingest survives a worker killed mid-transcription', () => {
  let platform: TestPlatform;
  let assemblyai: AssemblyAiSandbox;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ingest-stt-crash-'));
    // About 4 s of processing: long enough to kill the worker while the transcript is in progress.
    assemblyai = await startAssemblyAiSandbox({ apiKey: 'sandbox-assemblyai-key', stepMs: 200, processingSteps: 20 });
    const sandboxUrls = { assemblyai: assemblyai.url };
    platform = await startTestPlatform({
      workers: 'later',
      sandboxUrls,
      env: {
        DATA_DIR: dataDir,
        SANDBOX_URLS: JSON.stringify(sandboxUrls),
        PROVIDER_POLL_INITIAL_MS: '200',
        PROVIDER_POLL_MAX_MS: '1000',
        PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      },
    });
    assemblyai.setWebhookOrigin(platform.apiUrl);
  });
  afterAll(async () => {
    await platform?.stop();
    await assemblyai?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finishes once after kill -9 and restart', async () => {
    const { database, client, apiUrl } = platform;
    const first = await platform.spawnWorkerProcess();
    const user = await createUser(database.db, { email: `stt-crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const video = await readFile(await makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 8, size: '160x90', fps: 5 }));
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(video)], { type: 'video/mp4' }), 'talk.mp4');
    const res = await fetch(`${apiUrl}/v1/videos/upload`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${plaintext}` },
    });
    expect(res.status).toBe(201);
    const { videoId, runId } = (await res.json()) as { videoId: string; runId: string };

    const transcribing = async () =>
      (await database.db.selectFrom('videos').select('processing_status').where('id', '=', videoId).executeTakeFirstOrThrow())
        .processing_status === 'transcribing' && [...assemblyai.transcripts.values()].some((t) => t.status === 'processing');
    const deadline = Date.now() + 60_000;
    while (!(await transcribing()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await transcribing()).toBe(true);
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    await platform.startWorkers(['main', 'media']);
    const result: IngestResult = await client.workflow.getHandle(runId).result();

    expect(result).toMatchObject({ status: 'ready', language: 'en' });
    expect(result.transcriptWords).toBeGreaterThan(10);
    expect(assemblyai.transcripts.size).toBe(1);
    const jobs = await database.db.selectFrom('provider_jobs').selectAll().where('workflow_id', '=', runId).execute();
    expect(jobs).toEqual([expect.objectContaining({ provider: 'assemblyai', idempotency_key: `transcript:${videoId}` })]);
    const row = await database.db.selectFrom('videos').selectAll().where('id', '=', videoId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ processing_status: 'ready', transcript_source: 'speech_to_text', language_detected: 'en' });
  });
});
