import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import express from 'express';
import { audioExtractionArgs } from '../activities/video-ingest/transcribe';
import { resolveMediaBinaries } from '../lib/media';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';
import { startAssemblyAiSandbox } from '../sandbox/assemblyai';
import type { IngestResult, IngestStarted } from '../schemas/video-ingest';
import { protoMs } from './lib/history';
import { close, listen } from './lib/http-server';
import { withImportPlatform } from './lib/import-platform';
import { atMostTimes, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult } from './lib/result';
import type { BenchStack } from './lib/stack';
import { summarize } from './lib/stats';

const run = promisify(execFile);

const SIZES = {
  quick: { seconds: 20, n: 3, warmup: 1 },
  full: { seconds: 60, n: 7, warmup: 1 },
};
const SOURCE = { width: 1280, height: 720, fps: 30, segmentSeconds: 5 };
/** The AssemblyAI sandbox's clock: a transcript is done as soon as its audio is read (ffprobe + silencedetect), within two ticks. */
const SANDBOX_STEP_MS = 10;

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/** Where one ingest run's time went, from its history (server clock): per activity type, the provider wait, the whole workflow. */
function phasesOf(history: History): Map<string, number> {
  const events = history.events ?? [];
  const phases = new Map<string, number>();
  const add = (name: string, ms: number) => phases.set(name, (phases.get(name) ?? 0) + ms);
  const scheduled = new Map<string, { name: string; at: number }>();
  let taskScheduledAt = 0;
  let transcriptionDoneAt: number | undefined;
  for (const e of events) {
    const at = protoMs(e.eventTime);
    if (e.workflowTaskScheduledEventAttributes) taskScheduledAt = at;
    if (e.workflowTaskCompletedEventAttributes) add('workflow tasks', at - taskScheduledAt);
    const schedule = e.activityTaskScheduledEventAttributes;
    if (schedule) scheduled.set(String(e.eventId), { name: schedule.activityType?.name ?? '?', at });
    const started = e.activityTaskStartedEventAttributes;
    const waited = started && scheduled.get(String(started.scheduledEventId));
    if (waited) add('activities waiting in task queues (within their times)', at - waited.at);
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) {
      const activity = scheduled.get(String(completed.scheduledEventId));
      if (activity) add(activity.name, at - activity.at);
      if (activity?.name === 'startIngestTranscription') transcriptionDoneAt = at;
    }
    // The transcript's time at the provider: submitted → its webhook's signal (a poll that found it done shows as pollProviderJob).
    if (transcriptionDoneAt !== undefined && e.workflowExecutionSignaledEventAttributes) {
      add('transcript at the sandbox → webhook signal', at - transcriptionDoneAt);
      transcriptionDoneAt = undefined;
    }
  }
  const first = events[0];
  const last = events.find((e) => e.workflowExecutionCompletedEventAttributes);
  if (first && last) add('workflow', protoMs(last.eventTime) - protoMs(first.eventTime));
  return phases;
}

/** `name p50 ms` for each phase, in the order first seen. */
function phaseMedians(samples: Array<Map<string, number>>): string {
  const names = [...new Set(samples.flatMap((s) => [...s.keys()]))];
  return names.map((name) => `${name} ${Math.round(summarize(samples.map((s) => s.get(name) ?? 0)).p50)}`).join(', ');
}

/**
 * A source of `seconds`: a few seconds encoded once, then repeated by stream copy (encoding a whole
 * minute of 720p would take longer than the benchmark on a busy 2-core machine).
 */
async function generateVideo(ffmpeg: string, path: string, seconds: number): Promise<void> {
  const { width, height, fps, segmentSeconds } = SOURCE;
  const segment = `${path}.segment.mp4`;
  await run(ffmpeg, [
    ...['-nostdin', '-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${segmentSeconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${segmentSeconds}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-shortest', segment],
  ]);
  const loops = Math.ceil(seconds / segmentSeconds) - 1;
  await run(ffmpeg, [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-stream_loop',
    String(loops),
    '-i',
    segment,
    '-c',
    'copy',
    '-t',
    String(seconds),
    path,
  ]);
  await rm(segment);
}

/**
 * B12: a video file ingested through the API (download on the media queue, ffprobe, audio
 * extraction, speech-to-text at the AssemblyAI sandbox, analysis, ready) against downloading the
 * same URL to disk and running the ingest's own ffmpeg audio extraction on it, one after the other.
 */
export function ingestBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B12',
    title: 'Ingest (issue R) vs raw download + ffmpeg audio extraction',
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      const dir = await mkdtemp(join(context.workDir, 'b12-'));
      const ffmpeg = resolveMediaBinaries().ffmpeg.path;
      const source = join(dir, 'talk.mp4');
      context.log(`B12 generating a ${size.seconds} s ${SOURCE.width}x${SOURCE.height} H.264/AAC video`);
      await generateVideo(ffmpeg, source, size.seconds);
      const sourceBytes = (await stat(source)).size;

      const app = express();
      app.get('/talk.mp4', (_req, res) => res.sendFile(source));
      const files = await listen(app);
      const url = `${files.url}/talk.mp4`;
      const assemblyai = await startAssemblyAiSandbox({
        apiKey: SANDBOX_CREDENTIALS.assemblyAiApiKey,
        stepMs: SANDBOX_STEP_MS,
        processingSteps: 0,
      });
      const env = {
        // Not production only so that SSRF_ALLOWED_HOSTS lets the API and the download reach the local file server.
        NODE_ENV: 'test',
        SSRF_ALLOWED_HOSTS: new URL(files.url).host,
        DATA_DIR: join(dir, 'data'),
        ASSEMBLYAI_WEBHOOK_SECRET: randomBytes(24).toString('base64url'),
      };
      try {
        return await withImportPlatform(s, { assemblyai: assemblyai.url }, { media: true, env }, async (platform) => {
          const { authorization } = await platform.newCaller('enterprise');

          const ours = async () => {
            const begin = performance.now();
            const res = await fetch(`${platform.apiUrl}/v1/videos/import-file`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization },
              body: JSON.stringify({ url }),
            });
            const started = (await res.json()) as Partial<IngestStarted> & { detail?: string };
            if (res.status !== 202 || !started.runId) throw new Error(`import-file refused: ${res.status} ${started.detail ?? ''}`);
            const handle = s.client.workflow.getHandle(started.runId);
            const result = (await handle.result()) as IngestResult;
            const wallMs = performance.now() - begin;
            if (result.status !== 'ready' || result.transcriptSkipped !== null || result.transcriptWords === 0)
              throw new Error(`ingest did not transcribe: ${JSON.stringify(result)}`);
            const phases = phasesOf(await handle.fetchHistory());
            phases.set('outside the workflow (POST, start, result)', wallMs - (phases.get('workflow') ?? 0));
            return { wallMs, phases, words: result.transcriptWords };
          };

          let file = 0;
          const raw = async () => {
            const video = join(dir, `raw-${file}.mp4`);
            const audio = join(dir, `raw-${file++}.m4a`);
            const begin = performance.now();
            const res = await fetch(url);
            if (!res.ok || !res.body) throw new Error(`download failed: HTTP ${res.status}`);
            await pipeline(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), createWriteStream(video));
            const downloadedAt = performance.now();
            await run(ffmpeg, audioExtractionArgs(video, audio));
            const end = performance.now();
            await Promise.all([rm(video), rm(audio)]);
            return { wallMs: end - begin, downloadMs: downloadedAt - begin, extractMs: end - downloadedAt };
          };

          context.log(`B12 ${size.warmup} warm-up + ${size.n} measured pairs (interleaved, alternating which goes first)`);
          const samples = { ours: [] as Array<Awaited<ReturnType<typeof ours>>>, raw: [] as Array<Awaited<ReturnType<typeof raw>>> };
          for (let i = 0; i < size.warmup + size.n; i++) {
            const pair = i % 2 === 0 ? { o: await ours(), r: await raw() } : { r: await raw(), o: await ours() };
            if (i < size.warmup) continue;
            samples.ours.push(pair.o);
            samples.raw.push(pair.r);
          }

          const oursMs = summarize(samples.ours.map((x) => x.wallMs));
          const rawMs = summarize(samples.raw.map((x) => x.wallMs));
          const p50 = (values: number[]) => Math.round(summarize(values).p50);
          return {
            id: 'B12',
            title: this.title,
            status: 'measured',
            n: size.n,
            warmup: size.warmup,
            concurrency: 1,
            series: [
              {
                label: `POST /v1/videos/import-file → ingest result (ready, speech-to-text at the sandbox)`,
                role: 'ours',
                latencyMs: oursMs,
                throughputPerSec: 1000 / oursMs.mean,
              },
              {
                label: 'fetch → file, then the same ffmpeg audio extraction',
                role: 'baseline',
                latencyMs: rawMs,
                throughputPerSec: 1000 / rawMs.mean,
              },
            ],
            checks: [atMostTimes('ingest wall p50', oursMs.p50, rawMs.p50, 1.5)],
            notes: [
              `Source: ${size.seconds} s ${SOURCE.width}x${SOURCE.height}@${SOURCE.fps} lavfi testsrc2 + a 440 Hz tone (${SOURCE.segmentSeconds} s encoded, repeated by stream copy), H.264 (ultrafast)/AAC, ${(sourceBytes / 1e6).toFixed(1)} MB, served by a local HTTP server (express sendFile) on 127.0.0.1.`,
              `Ours: POST /v1/videos/import-file {url} (API key, pre-flight GET of the URL, video row + plan slot, run start) → the ingest workflow's result, checked ready with ${samples.ours[0]?.words ?? 0} transcribed words: download on the media queue (streamed to disk with the size limit, heartbeats), ffprobe, copy into the local media store, audio extraction with the same ffmpeg arguments as the baseline, the audio uploaded to the AssemblyAI sandbox and submitted, the sandbox's webhook signalling the run, transcript saved, key moments, ready. The real main and media workers and the API run in-process with the production settings except NODE_ENV=test, which is needed for SSRF_ALLOWED_HOSTS to let the download reach 127.0.0.1.`,
              `The AssemblyAI sandbox adds no waiting of its own (a ${SANDBOX_STEP_MS} ms clock, no processing steps): its time is reading the audio (ffprobe + ffmpeg silencedetect on this machine) to place the words, standing in for the transcription real AssemblyAI does elsewhere, in minutes. It is counted in ours; the baseline transcribes nothing.`,
              `Baseline: fetch of the same URL streamed to a file, then ffmpeg ${audioExtractionArgs('<video>', '<audio>').join(' ')}, in sequence: download p50 ${p50(samples.raw.map((x) => x.downloadMs))} ms, extraction p50 ${p50(samples.raw.map((x) => x.extractMs))} ms.`,
              `Where ours spends its time (p50 ms from the run's history: activities scheduled → completed, workflow tasks scheduled → completed including their local activities): ${phaseMedians(samples.ours.map((x) => x.phases))}. The sandbox's webhooks our API answered 200: ${assemblyai.webhooks.filter((w) => w.responseStatus === 200).length} of ${assemblyai.webhooks.length}.`,
            ],
          };
        });
      } finally {
        await assemblyai.stop();
        await close(files.server);
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
