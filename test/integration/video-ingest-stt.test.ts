import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { resolveMediaBinaries } from '../../lib/media/binaries';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startAssemblyAiSandbox, type AssemblyAiSandbox } from '../../sandbox/assemblyai';
import type { SandboxServer } from '../../sandbox/http';
import { USER_SCOPES } from '../../schemas/api-keys';
import type { ClipsResult } from '../../schemas/clips';
import type { IngestResult } from '../../schemas/video-ingest';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/** Seconds of the test video during which its tone is muted: no word may be heard there. */
const SILENCE = { from: 8, to: 12 };

/**
 * Speech-to-text of the ingest run through the HTTP API on the real stack: an upload without a
 * transcript is transcribed by the AssemblyAI sandbox (the real `assemblyai` SDK on its wire
 * protocol) into word timings and a language, whether the webhook or polling brings the result;
 * a provider error fails the run naming the cause and refunds the video slot.
 */
describe('video ingest speech-to-text (API + real stack + AssemblyAI sandbox)', () => {
  let platform: TestPlatform;
  let anthropic: SandboxServer;
  let assemblyai: AssemblyAiSandbox;
  let dataDir: string;
  let talk: Buffer;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ingest-stt-it-'));
    const path = join(dataDir, 'talk.mp4');
    // 20 s of a tone (speech stand-in) muted from 8 to 12 s; tiny video.
    await promisify(execFile)(resolveMediaBinaries().ffmpeg.path, [
      ...['-v', 'error', '-nostdin', '-y'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=5:duration=20'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000:duration=20'],
      ...['-af', `volume=enable='between(t,${SILENCE.from},${SILENCE.to})':volume=0`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', path],
    ]);
    talk = await readFile(path);
    anthropic = await startAnthropicSandbox({ port: 0 });
    assemblyai = await startAssemblyAiSandbox({ apiKey: 'sandbox-assemblyai-key', stepMs: 50, processingSteps: 2, languageCode: 'en' });
    const sandboxUrls = { anthropic: anthropic.url, assemblyai: assemblyai.url };
    platform = await startTestPlatform({
      sandboxUrls,
      env: {
        DATA_DIR: dataDir,
        SANDBOX_URLS: JSON.stringify(sandboxUrls),
        PROVIDER_POLL_INITIAL_MS: '100',
        PROVIDER_POLL_MAX_MS: '400',
        // The API's port is known once it listens: the sandbox sends webhooks there.
        PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      },
    });
    assemblyai.setWebhookOrigin(platform.apiUrl);
  });
  afterAll(async () => {
    await platform?.stop();
    await anthropic?.stop();
    await assemblyai?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    assemblyai.dropWebhooks(false);
    assemblyai.server.faults.clear();
  });

  const db = () => platform.database.db;

  async function newUser() {
    const user = await createUser(db(), { email: `stt-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    return { id: user.id, auth: { authorization: `Bearer ${plaintext}` } };
  }

  async function upload(auth: Record<string, string>, autoClips?: object): Promise<{ videoId: string; runId: string }> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(talk)], { type: 'video/mp4' }), 'talk.mp4');
    if (autoClips) form.append('autoClips', JSON.stringify(autoClips));
    const res = await fetch(`${platform.apiUrl}/v1/videos/upload`, { method: 'POST', body: form, headers: auth });
    expect(res.status).toBe(201);
    return (await res.json()) as { videoId: string; runId: string };
  }

  const outcome = (runId: string) =>
    platform.client.workflow
      .getHandle(runId)
      .result()
      .then(
        (result: IngestResult) => ({ result, error: undefined }),
        (error: any) => ({ result: undefined, error }),
      );

  const usage = (userId: string) =>
    db()
      .selectFrom('subscription_usage')
      .select(['videos_processed', 'videos_reserved'])
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();

  const transcriptJobs = (runId: string) =>
    db().selectFrom('provider_jobs').selectAll().where('workflow_id', '=', runId).where('provider', '=', 'assemblyai').execute();

  it('transcribes an upload without a transcript into word timings (none in the silence), the language and clips', async () => {
    const { auth } = await newUser();
    const { videoId, runId } = await upload(auth, { count: 1, aspectRatios: ['9:16'], minSeconds: 4, maxSeconds: 8, captions: null });

    const { result, error } = await outcome(runId);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({
      status: 'ready',
      hasAudio: true,
      language: 'en',
      transcriptSkipped: null,
      clipsRunId: `clips:${videoId}:auto`,
    });
    expect(result!.transcriptWords).toBeGreaterThan(20);

    const row = await db().selectFrom('videos').selectAll().where('id', '=', videoId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ transcript_source: 'speech_to_text', language_detected: 'en', processing_status: 'ready' });
    const words = (row.transcript_segments as Array<{ words: Array<{ word: string; start: number; end: number }> }>).flatMap(
      (s) => s.words,
    );
    expect(words).toHaveLength(result!.transcriptWords);
    expect(words.every((w) => w.start < w.end && w.end <= 20)).toBe(true);
    // Words only where the audio is not silent (silencedetect on the real audio), on both sides of it.
    expect(words.filter((w) => w.end > SILENCE.from + 0.6 && w.start < SILENCE.to - 0.6)).toEqual([]);
    expect(words.some((w) => w.start > SILENCE.to)).toBe(true);

    const view = await api(platform.apiUrl, 'GET', `/v1/videos/${videoId}`, undefined, auth);
    expect(view.json).toMatchObject({ processingStatus: 'ready', language: 'en', transcriptWords: words.length });

    // One transcript at the provider, finished by its verified webhook.
    const jobs = await transcriptJobs(runId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.idempotency_key).toBe(`transcript:${videoId}`);
    const delivered = assemblyai.webhooks.filter((w) => w.transcriptId === jobs[0]!.provider_job_id);
    expect(delivered).toEqual([expect.objectContaining({ status: 'completed', responseStatus: 200, dropped: false })]);

    const clips: ClipsResult = await platform.client.workflow.getHandle(result!.clipsRunId!).result();
    expect(clips.clips).toHaveLength(1);
  });

  it('finishes by polling when webhooks are lost and the provider answers 429 and 500 on the way', async () => {
    const { auth } = await newUser();
    assemblyai.dropWebhooks(true);
    assemblyai.server.faults.inject({ match: { method: 'POST', path: '/v2/transcript' }, status: 429, retryAfterSeconds: 0 });
    assemblyai.server.faults.inject({ match: { method: 'GET', path: '/v2/transcript/' }, status: 500 });
    const { videoId, runId } = await upload(auth);

    const { result, error } = await outcome(runId);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ status: 'ready', language: 'en' });
    expect(result!.transcriptWords).toBeGreaterThan(20);
    expect(assemblyai.server.faults.pending()).toEqual([]);
    const [job] = await transcriptJobs(runId);
    const sent = assemblyai.webhooks.filter((w) => w.transcriptId === job!.provider_job_id);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((w) => w.dropped)).toBe(true);
    // The 429 was retried into one transcript, not two.
    expect([...assemblyai.transcripts.values()].filter((t) => t.id === job!.provider_job_id)).toHaveLength(1);
    expect(assemblyai.server.requests.filter((r) => r.method === 'POST' && r.path === '/v2/transcript' && r.status === 200)).toHaveLength(
      [...assemblyai.transcripts.keys()].length,
    );
    const view = await api(platform.apiUrl, 'GET', `/v1/videos/${videoId}`, undefined, auth);
    expect(view.json).toMatchObject({ processingStatus: 'ready', transcriptWords: result!.transcriptWords });
  });

  it('fails the run naming the provider’s reason and refunds the video slot when the transcript ends in error', async () => {
    const { id: userId, auth } = await newUser();
    assemblyai.failNext('Audio duration is too short.');
    const { videoId, runId } = await upload(auth);

    const { error } = await outcome(runId);
    expect(error?.cause?.type).toBe('ProviderJobFailed');
    expect(error?.cause?.message).toContain('Audio duration is too short.');
    const view = await api(platform.apiUrl, 'GET', `/v1/videos/${videoId}`, undefined, auth);
    expect(view.json).toMatchObject({ processingStatus: 'failed', error: expect.stringContaining('Audio duration is too short.') });
    expect(await usage(userId)).toMatchObject({ videos_processed: 0, videos_reserved: 0 });
  });

  it('fails the run without retrying when AssemblyAI rejects the submission (4xx), refunding the slot', async () => {
    const { id: userId, auth } = await newUser();
    assemblyai.server.faults.inject({
      match: { method: 'POST', path: '/v2/transcript' },
      status: 400,
      body: { error: 'Transcoding failed. File does not appear to contain audio.' },
    });
    const { videoId, runId } = await upload(auth);

    const { error } = await outcome(runId);
    expect(error?.cause?.cause?.type).toBe('InvalidInput');
    const view = await api(platform.apiUrl, 'GET', `/v1/videos/${videoId}`, undefined, auth);
    expect(view.json).toMatchObject({ processingStatus: 'failed', error: expect.stringContaining('does not appear to contain audio') });
    expect(await usage(userId)).toMatchObject({ videos_processed: 0, videos_reserved: 0 });
    expect(await transcriptJobs(runId)).toEqual([expect.objectContaining({ provider_job_id: null })]);
  });

  it('refuses webhooks without our auth header and ignores ones for transcripts it never submitted', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${platform.apiUrl}/v1/webhooks/assemblyai`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ transcript_id: randomUUID(), status: 'completed' }),
      });
    expect((await post({ 'x-clipflow-webhook-token': 'guessed' })).status).toBe(400);
    const secret = (await readFile(join(dataDir, 'assemblyai-webhook-secret'), 'utf8')).trim();
    expect((await post({ 'x-clipflow-webhook-token': secret })).status).toBe(202);
  });
});
