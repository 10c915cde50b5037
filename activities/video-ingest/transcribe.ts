import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Context } from '@temporalio/activity';
import type { Db } from '../../db/database';
import { findVideo } from '../../db/repositories/video-import';
import { saveSpeechTranscript } from '../../db/repositories/video-ingest';
import type { Video } from '../../db/types';
import { ConfigError } from '../../lib/config';
import type { MediaStore } from '../../lib/media/store';
import { ASSEMBLYAI, type AssemblyAiAdapter, type SpokenWord } from '../../providers/assemblyai';
import type { Providers } from '../../providers';
import { FailureType } from '../../schemas/failures';
import type { SubmittedProviderJob } from '../../schemas/provider-jobs';
import { TRANSCRIPT_JOB_KIND } from '../../schemas/video-ingest';
import type { TimedSegment } from '../clips/moments';
import { heartbeating, nonRetryable } from '../common';
import { submitProviderJobOnce } from '../provider-jobs';

const execFileAsync = promisify(execFile);

/** A transcript cue ends at a sentence end, a pause this long, or this many words (caption-sized). */
const SEGMENT_PAUSE_SECONDS = 1;
const SEGMENT_MAX_WORDS = 15;

/** What the ingest does about speech-to-text: a submitted job, or why there is none (null: a timed transcript was supplied). */
export type IngestTranscription = { job: SubmittedProviderJob; skipped: null } | { job: null; skipped: string | null };

const hasTimedTranscript = (video: Video): boolean =>
  Array.isArray(video.transcript_segments) && (video.transcript_segments as unknown[]).length > 0;

/** The speech-to-text adapter, or null when neither a key nor a sandbox is configured (tests without one). */
function speechToText(providers: Providers): AssemblyAiAdapter | null {
  try {
    return providers.assemblyai;
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

/** Word timings grouped into caption-sized cues (videos.transcript_segments with `words`). */
export function segmentsFromWords(words: readonly SpokenWord[]): TimedSegment[] {
  const segments: TimedSegment[] = [];
  let current: SpokenWord[] = [];
  const close = () => {
    if (current.length === 0) return;
    segments.push({
      start: current[0]!.start,
      end: current.at(-1)!.end,
      text: current.map((w) => w.word).join(' '),
      words: current.map((w) => ({ word: w.word, start: w.start, end: w.end })),
    });
    current = [];
  };
  for (const word of words) {
    const previous = current.at(-1);
    if (previous && word.start - previous.end >= SEGMENT_PAUSE_SECONDS) close();
    current.push(word);
    if (/[.?!]$/.test(word.word) || current.length >= SEGMENT_MAX_WORDS) close();
  }
  close();
  return segments;
}

/** The ffmpeg arguments extracting a video's audio for speech-to-text: mono, 16 kHz, 32 kbps AAC. */
export const audioExtractionArgs = (video: string, audio: string): string[] => [
  ...['-v', 'error', '-nostdin', '-y', '-i', video],
  ...['-vn', '-ac', '1', '-ar', '16000', '-c:a', 'aac', '-b:a', '32k', audio],
];

export interface TranscribeDeps {
  db: Db;
  providers: Providers;
  mediaStore: MediaStore;
  tempRoot: string;
  /** The ffmpeg binary of the media toolkit. */
  ffmpegPath: () => string;
}

/**
 * Media queue: the video's audio (mono, 16 kHz, 32 kbps AAC) is extracted with ffmpeg into the
 * media store and submitted to AssemblyAI once per video (idempotency key `transcript:<videoId>`
 * in provider_jobs: a retried or re-run activity finds the transcript an earlier one created).
 * A store without public URLs (the local one) uploads the bytes to AssemblyAI instead.
 */
export async function startIngestTranscription(
  deps: TranscribeDeps,
  input: { videoId: string; workflowId: string },
): Promise<IngestTranscription> {
  const video = await findVideo(deps.db, input.videoId);
  if (!video) throw nonRetryable(`video ${input.videoId} not found`, FailureType.NotFound);
  if (hasTimedTranscript(video)) return { job: null, skipped: null };
  if (video.has_audio !== true) return { job: null, skipped: 'the video has no audio track' };
  const stt = speechToText(deps.providers);
  if (!stt) return { job: null, skipped: 'no transcript was supplied and speech-to-text is not configured' };

  const job = await submitProviderJobOnce(
    deps.db,
    { provider: ASSEMBLYAI, idempotencyKey: `${TRANSCRIPT_JOB_KIND}:${video.id}`, workflowId: input.workflowId, kind: TRANSCRIPT_JOB_KIND },
    // Heartbeats keep a long extraction alive and let a cancel reach ffmpeg.
    () =>
      heartbeating(async () => {
        const dir = await mkdtemp(join(deps.tempRoot, 'ingest-audio-'));
        try {
          const signal = Context.current().cancellationSignal;
          const source = await deps.mediaStore.localCopy({ path: video.file_path, url: video.media_url }, dir, signal);
          const audio = join(dir, 'audio.m4a');
          await execFileAsync(deps.ffmpegPath(), audioExtractionArgs(source, audio), { signal });
          const stored = await deps.mediaStore.put(`videos/${video.id}/audio.m4a`, audio, 'video');
          const audioUrl = /^https?:\/\//.test(stored.url) ? stored.url : await stt.upload(await readFile(audio));
          return await stt.submit(audioUrl);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }),
  );
  return { job, skipped: null };
}

/** Main queue: the finished transcript's words, cues and language saved on the video (idempotent: the same words overwrite). */
export async function saveIngestTranscript(
  deps: Pick<TranscribeDeps, 'db' | 'providers'>,
  input: { videoId: string; jobId: string },
): Promise<{ words: number; language: string | null }> {
  const transcript = await deps.providers.assemblyai.finishedTranscript(input.jobId);
  if (!transcript)
    throw nonRetryable(`${ASSEMBLYAI} transcript ${input.jobId} is unknown to the provider (lost)`, FailureType.ProviderJobLost);
  await saveSpeechTranscript(deps.db, input.videoId, {
    text: transcript.text,
    segments: segmentsFromWords(transcript.words),
    language: transcript.languageCode,
  });
  return { words: transcript.words.length, language: transcript.languageCode };
}
