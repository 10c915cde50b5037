import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveMediaBinaries } from '../lib/media/binaries';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';
import { createSandboxServer, HttpError, type Route, type RouteRequest, type SandboxDefinition, type SandboxServer } from './http';
import { createSandboxWebhookSender, type SentWebhookRecord } from './webhook-sender';

const execFileAsync = promisify(execFile);

type Status = 'queued' | 'processing' | 'completed' | 'error';

export interface AssemblyAiSandboxOptions {
  apiKey: string;
  host?: string;
  port?: number;
  /** One step of every transcript's clock: queued → processing after one step, done `processingSteps` later. */
  stepMs?: number;
  processingSteps?: number;
  /** The language "detected" in every file. */
  languageCode?: string;
  /** Replaces the origin of the `webhook_url`s transcripts were submitted with (tests whose API port is known late). */
  webhookOrigin?: string;
}

export interface SandboxWord {
  text: string;
  /** Milliseconds, as AssemblyAI sends them. */
  start: number;
  end: number;
  confidence: number;
}

interface TranscriptJob {
  id: string;
  status: Status;
  audio_url: string;
  language_detection: boolean;
  webhook_url?: string;
  webhookHeader?: { name: string; value: string };
  step: number;
  text: string | null;
  words: SandboxWord[] | null;
  language_code: string | null;
  audio_duration: number | null;
  error?: string;
  /** Set by failNext(): the transcript ends `error` with this message. */
  failWith?: string;
  /** Reading the audio (fetch + ffprobe + silencedetect), started when processing starts. */
  analysis?: Promise<Analysis>;
  analysed?: Analysis;
}

type Analysis = { durationSeconds: number; voiced: Array<[number, number]> } | { error: string };

export interface SentAssemblyAiWebhook extends SentWebhookRecord {
  transcriptId: string;
  status: Status;
}

export interface AssemblyAiSandbox {
  url: string;
  server: SandboxServer;
  transcripts: Map<string, TranscriptJob>;
  webhooks: SentAssemblyAiWebhook[];
  /** Fault switch: webhooks are not sent (recorded as dropped), so polling must finish the transcripts. */
  dropWebhooks(drop: boolean): void;
  /** The next transcript submitted ends `error` with this message. */
  failNext(error: string): void;
  setWebhookOrigin(origin: string | undefined): void;
  stop(): Promise<void>;
}

/** AssemblyAI's error body: `{error}` (the SDK throws its text). */
const assemblyError = (status: number, error: string) => new HttpError(status, error, { error });

/** Words spoken in every voiced stretch, in order; deterministic so tests and replays agree. */
const VOCABULARY = (
  'today we look at how small habits change a working day and why the first minutes matter most ' +
  'start with one clear goal write it down and keep the rest of the list for later ' +
  'short breaks help the mind reset so plan them like meetings and protect them ' +
  'at the end of the day review what worked and choose tomorrow’s first task'
).split(' ');
/** A word every 400 ms (300 ms spoken, 100 ms pause): a calm talking pace. */
const WORD_MS = 300;
const GAP_MS = 100;
/** A sentence ends (with a full stop) every this many words. */
const SENTENCE_WORDS = 12;

/** Voiced stretches: the whole file minus ffmpeg's silencedetect intervals. */
function voicedStretches(durationSeconds: number, silencedetectLog: string): Array<[number, number]> {
  const silences: Array<[number, number]> = [];
  let open: number | undefined;
  for (const line of silencedetectLog.split('\n')) {
    const start = /silence_start: ([\d.]+)/.exec(line);
    const end = /silence_end: ([\d.]+)/.exec(line);
    if (start) open = Number(start[1]);
    if (end) {
      silences.push([open ?? 0, Number(end[1])]);
      open = undefined;
    }
  }
  if (open !== undefined) silences.push([open, durationSeconds]);
  const voiced: Array<[number, number]> = [];
  let cursor = 0;
  for (const [from, to] of silences) {
    if (from > cursor) voiced.push([cursor, from]);
    cursor = Math.max(cursor, to);
  }
  if (cursor < durationSeconds) voiced.push([cursor, durationSeconds]);
  return voiced.filter(([from, to]) => to - from >= 0.3);
}

/** Deterministic words over the voiced stretches, with confidences from the word's position. */
export function speechOver(voiced: Array<[number, number]>): SandboxWord[] {
  const words: SandboxWord[] = [];
  for (const [from, to] of voiced) {
    for (let start = Math.round(from * 1000); start + WORD_MS <= to * 1000; start += WORD_MS + GAP_MS) {
      const index = words.length;
      const base = VOCABULARY[index % VOCABULARY.length]!;
      const sentenceEnd = (index + 1) % SENTENCE_WORDS === 0;
      const text = (index % SENTENCE_WORDS === 0 ? base[0]!.toUpperCase() + base.slice(1) : base) + (sentenceEnd ? '.' : '');
      words.push({ text, start, end: start + WORD_MS, confidence: 0.85 + ((index * 7) % 15) / 100 });
    }
  }
  return words;
}

/**
 * AssemblyAI's v2 REST API as the `assemblyai` SDK calls it: POST /v2/upload, POST /v2/transcript
 * (audio_url, language_detection, webhook_url + webhook_auth_header_*), GET and DELETE
 * /v2/transcript/:id. Transcripts move queued → processing → completed (or error) on the sandbox's
 * clock. Processing fetches the audio, ffprobes its real duration and runs silencedetect, so the
 * words it returns (ms timings, confidence) fall only where the audio is not silent; a file it
 * cannot fetch or decode ends `error` as AssemblyAI's does. Webhooks post `{transcript_id, status}`
 * with the auth header the submit asked for.
 */
export async function startAssemblyAiSandbox(options: AssemblyAiSandboxOptions): Promise<AssemblyAiSandbox> {
  const stepMs = options.stepMs ?? 500;
  const processingSteps = options.processingSteps ?? 2;
  const languageCode = options.languageCode ?? 'en';
  const binaries = resolveMediaBinaries();
  const transcripts = new Map<string, TranscriptJob>();
  const uploads = new Map<string, Buffer>();
  const failures: string[] = [];
  const webhooks = createSandboxWebhookSender<SentAssemblyAiWebhook>('assemblyai', options.webhookOrigin);
  const pending = new Set<Promise<unknown>>();
  let baseUrl = '';

  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    void work.finally(() => pending.delete(work)).catch(() => undefined);
    return work;
  };

  const authorize = (req: RouteRequest) => {
    // The SDK sends the bare key (no "Bearer").
    if (req.headers.authorization !== options.apiKey) throw assemblyError(401, 'Authentication error, API token missing/invalid');
  };

  const view = (t: TranscriptJob) => ({
    id: t.id,
    status: t.status,
    audio_url: t.audio_url,
    language_detection: t.language_detection,
    language_code: t.language_code,
    text: t.text,
    words: t.words,
    audio_duration: t.audio_duration,
    confidence: t.words?.length ? t.words.reduce((sum, w) => sum + w.confidence, 0) / t.words.length : null,
    webhook_url: t.webhook_url ?? null,
    webhook_auth: t.webhookHeader !== undefined,
    webhook_auth_header_name: t.webhookHeader?.name ?? null,
    acoustic_model: 'assemblyai_default',
    language_model: 'assemblyai_default',
    punctuate: true,
    format_text: true,
    ...(t.status === 'error' ? { error: t.error } : {}),
  });

  async function readAudio(url: string): Promise<Buffer> {
    const upload = /\/v2\/uploads\/([\w-]+)$/.exec(url);
    if (upload && url.startsWith(baseUrl)) {
      const bytes = uploads.get(upload[1]!);
      if (!bytes) throw new Error('upload not found');
      return bytes;
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async function analyse(t: TranscriptJob): Promise<Analysis> {
    let bytes: Buffer;
    try {
      bytes = await readAudio(t.audio_url);
    } catch {
      return {
        error: `Download error, unable to download ${t.audio_url}. Please make sure the file exists and is accessible from the internet.`,
      };
    }
    const dir = await mkdtemp(join(tmpdir(), 'assemblyai-sandbox-'));
    try {
      const file = join(dir, 'audio');
      await writeFile(file, bytes);
      const probe = await execFileAsync(binaries.ffprobe.path, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
      const durationSeconds = Number.parseFloat(probe.stdout.trim());
      if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) throw new Error('no duration');
      const silence = await execFileAsync(binaries.ffmpeg.path, [
        '-nostdin',
        '-i',
        file,
        '-af',
        'silencedetect=noise=-40dB:d=0.5',
        '-f',
        'null',
        '-',
      ]);
      return { durationSeconds, voiced: voicedStretches(durationSeconds, silence.stderr) };
    } catch {
      return { error: 'File does not appear to contain audio. File type is application/octet-stream (data).' };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** AssemblyAI's webhook: `{transcript_id, status}` with the auth header the submit asked for. */
  function deliver(t: TranscriptJob): void {
    if (!t.webhook_url) return;
    const auth = t.webhookHeader ? { [t.webhookHeader.name]: t.webhookHeader.value } : {};
    webhooks.send(
      t.webhook_url,
      { transcriptId: t.id, status: t.status },
      JSON.stringify({ transcript_id: t.id, status: t.status }),
      () => auth,
    );
  }

  function finish(t: TranscriptJob, analysis: Analysis): void {
    if (t.failWith !== undefined || 'error' in analysis) {
      t.status = 'error';
      t.error = t.failWith ?? ('error' in analysis ? analysis.error : undefined);
    } else {
      t.status = 'completed';
      t.words = speechOver(analysis.voiced);
      t.text = t.words.map((w) => w.text).join(' ');
      t.language_code = t.language_detection ? languageCode : 'en_us';
      t.audio_duration = Math.round(analysis.durationSeconds);
    }
    deliver(t);
  }

  /** One tick of every live transcript's clock. */
  function advance(): void {
    for (const t of transcripts.values()) {
      if (t.status === 'completed' || t.status === 'error') continue;
      t.step += 1;
      if (t.status === 'queued') {
        t.status = 'processing';
        t.analysis = track(analyse(t)).then((a) => (t.analysed = a));
        continue;
      }
      if (t.step > processingSteps && t.analysed) finish(t, t.analysed);
    }
  }
  const clock = setInterval(advance, stepMs);

  const transcriptOf = (id: string): TranscriptJob => {
    const t = transcripts.get(id);
    if (!t) throw assemblyError(404, 'Transcript not found');
    return t;
  };

  const routes: Route[] = [
    {
      method: 'POST',
      path: '/v2/upload',
      handle: (req) => {
        authorize(req);
        if (req.body.length === 0) throw assemblyError(400, 'Upload failed, the file is empty');
        const id = createHash('sha256').update(req.body).digest('hex').slice(0, 32);
        uploads.set(id, req.body);
        return { json: { upload_url: `${baseUrl}/v2/uploads/${id}` } };
      },
    },
    {
      method: 'POST',
      path: '/v2/transcript',
      handle: (req) => {
        authorize(req);
        const body = req.json<Record<string, unknown>>() ?? {};
        if (typeof body.audio_url !== 'string' || !/^https?:\/\//.test(body.audio_url))
          throw assemblyError(400, 'Invalid audio_url: it must be a URL AssemblyAI can download');
        const headerName = body.webhook_auth_header_name;
        const headerValue = body.webhook_auth_header_value;
        if ((typeof headerName === 'string') !== (typeof headerValue === 'string'))
          throw assemblyError(400, 'webhook_auth_header_name and webhook_auth_header_value must be set together');
        const t: TranscriptJob = {
          id: randomUUID(),
          status: 'queued',
          audio_url: body.audio_url,
          language_detection: body.language_detection === true,
          ...(typeof body.webhook_url === 'string' ? { webhook_url: body.webhook_url } : {}),
          ...(typeof headerName === 'string' && typeof headerValue === 'string'
            ? { webhookHeader: { name: headerName, value: headerValue } }
            : {}),
          step: 0,
          text: null,
          words: null,
          language_code: null,
          audio_duration: null,
          failWith: failures.shift(),
        };
        transcripts.set(t.id, t);
        return { json: view(t) };
      },
    },
    {
      method: 'GET',
      path: '/v2/transcript/:id',
      handle: (req) => {
        authorize(req);
        return { json: view(transcriptOf(req.params.id!)) };
      },
    },
    {
      method: 'DELETE',
      path: '/v2/transcript/:id',
      handle: (req) => {
        authorize(req);
        const t = transcriptOf(req.params.id!);
        // Deleting removes the text; one still running is stopped.
        if (t.status === 'queued' || t.status === 'processing') {
          t.status = 'error';
          t.error = 'Transcript deleted';
        }
        t.text = t.text === null ? null : 'Deleted by user.';
        t.words = t.words === null ? null : [];
        return { json: view(t) };
      },
    },
    {
      method: 'GET',
      path: '/v2/uploads/:id',
      handle: (req) => {
        const bytes = uploads.get(req.params.id!);
        if (!bytes) throw assemblyError(404, 'Upload not found');
        return { headers: { 'content-type': 'application/octet-stream' }, text: bytes };
      },
    },
  ];

  const adminRoutes: Route[] = [
    webhooks.adminRoute,
    {
      method: 'POST',
      path: '/__sandbox/assemblyai/fail-next',
      handle: (req) => {
        failures.push(req.json<{ error?: string }>()?.error ?? 'Transcription failed');
        return { status: 204 };
      },
    },
  ];

  const server = await createSandboxServer({
    name: 'assemblyai',
    routes,
    adminRoutes,
    host: options.host,
    port: options.port,
    errorBody: (_status, message) => ({ error: message }),
    onReset: () => {
      transcripts.clear();
      uploads.clear();
      failures.length = 0;
      webhooks.reset();
    },
  });
  baseUrl = server.url;

  return {
    url: server.url,
    server,
    transcripts,
    webhooks: webhooks.sent,
    dropWebhooks: webhooks.dropWebhooks,
    failNext: (error) => {
      failures.push(error);
    },
    setWebhookOrigin: webhooks.setWebhookOrigin,
    async stop() {
      clearInterval(clock);
      await Promise.allSettled([...pending, webhooks.settle()]);
      await server.stop();
    },
  };
}

export const assemblyAiSandbox: SandboxDefinition = {
  name: 'assemblyai',
  enabled: (config) => !config.ASSEMBLYAI_API_KEY,
  start: () => startAssemblyAiSandbox({ apiKey: SANDBOX_CREDENTIALS.assemblyAiApiKey, stepMs: 1_000 }),
};
