import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { findDriveCredential } from '../../db/repositories/google-credentials';
import { getPlanForUser, type UserPlan } from '../../db/repositories/plans';
import { findVideo } from '../../db/repositories/video-import';
import {
  completeIngest,
  exactDurationSeconds,
  failIngest,
  recordIngestStage,
  saveIngestedFile,
  saveKeyMoments,
  type IngestedFile,
} from '../../db/repositories/video-ingest';
import type { Video, VideoProcessingStatus } from '../../db/types';
import { createMediaToolkit, type MediaToolkit } from '../../lib/media';
import { bareMediaType, isAcceptedVideoType, sourceFileName } from '../../lib/media/video-types';
import type { MediaStore } from '../../lib/media/store';
import { safeFetch, type UrlGuardOptions } from '../../lib/ssrf';
import { classifyProviderError, ensureOk } from '../../providers/errors';
import { createGoogleTokens } from '../../providers/google/tokens';
import { FailureType } from '../../schemas/failures';
import type { IngestedMedia, IngestSource } from '../../schemas/video-ingest';
import { pauseWindowMoments, wordsFromSegments, type TimedSegment } from '../clips/moments';
import { mediaFailure } from '../clips';
import { heartbeating, nonRetryable } from '../common';
import type { ActivityDeps } from '../deps';
import { inTransactionWithEvents, isoOrNull } from '../webhook-events';
import { downloadResumable, fromFetchResponse, SourceTooLargeError, type SourceResponse } from './download';
import { saveIngestTranscript, startIngestTranscription, type IngestTranscription } from './transcribe';

/** Heartbeat the download offset at most this often (in bytes), not on every chunk. */
const HEARTBEAT_EVERY_BYTES = 256 * 1024;
/** A source that sends nothing for this long is retried (from where it stopped). */
const SOURCE_IDLE_TIMEOUT_MS = 30_000;

/** Key moments marked on a ready video: about one per minute, 10–45 s long, cut on pauses. */
const KEY_MOMENT_SECONDS = { min: 10, max: 45 };
const MAX_KEY_MOMENTS = 10;

async function requireVideo(deps: ActivityDeps, videoId: string): Promise<Video> {
  const video = await findVideo(deps.db, videoId);
  if (!video) throw nonRetryable(`video ${videoId} not found`, FailureType.NotFound);
  return video;
}

async function requirePlan(deps: ActivityDeps, userId: string): Promise<UserPlan> {
  const plan = await getPlanForUser(deps.db, userId);
  if (!plan) throw nonRetryable(`user ${userId} not found`, FailureType.NotFound);
  return plan;
}

const isSegment = (s: unknown): s is TimedSegment =>
  typeof s === 'object' && s !== null && Number.isFinite((s as TimedSegment).start) && Number.isFinite((s as TimedSegment).end);
const timedSegments = (video: Video): TimedSegment[] => {
  const segments: unknown = video.transcript_segments;
  return Array.isArray(segments) ? segments.filter(isSegment) : [];
};

/** The main-queue ingest activities: the video row's stages, analysis and the quota's outcome. Each is safe to retry. */
export function createVideoIngestActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async recordIngestStage(input: { videoId: string; status: VideoProcessingStatus; progress: number }): Promise<void> {
      await recordIngestStage(db, input.videoId, input.status, input.progress);
    },

    /**
     * Marks the video's key moments (windows cut on pauses and cue boundaries, spread over the
     * video) and says what the transcript holds; the same transcript gives the same moments.
     */
    async analyzeIngestedVideo(input: { videoId: string }): Promise<{ transcriptWords: number; keyMoments: number }> {
      const video = await requireVideo(deps, input.videoId);
      const segments = timedSegments(video);
      const words = wordsFromSegments(segments);
      const durationSeconds = exactDurationSeconds(video) ?? 0;
      const moments = pauseWindowMoments(
        words,
        segments.map((s) => s.end),
        {
          count: Math.min(MAX_KEY_MOMENTS, Math.max(1, Math.floor(durationSeconds / 60))),
          minSeconds: Math.min(KEY_MOMENT_SECONDS.min, durationSeconds),
          maxSeconds: KEY_MOMENT_SECONDS.max,
          durationSeconds,
        },
      );
      await saveKeyMoments(
        db,
        video.id,
        moments.map((m) => ({ start: m.start, end: m.end, title: m.title, text: m.text })),
      );
      return { transcriptWords: words.length, keyMoments: moments.length };
    },

    /** The finished speech-to-text transcript saved on the video: word timings, cues, language. */
    async saveIngestTranscript(input: { videoId: string; jobId: string }): Promise<{ words: number; language: string | null }> {
      return saveIngestTranscript(deps, input);
    },

    /**
     * The slot becomes a processed video (with its minutes in the period's usage) and the video is
     * ready, with video.processed (one per video: its id is the fact key), in one transaction.
     */
    async completeIngest(input: { videoId: string }): Promise<void> {
      const video = await requireVideo(deps, input.videoId);
      await inTransactionWithEvents(deps, async (tx, emit) => {
        await completeIngest(tx, video.id, (exactDurationSeconds(video) ?? 0) / 60);
        const ready = await findVideo(tx, video.id);
        if (ready?.processing_status !== 'ready') return;
        await emit({
          type: 'video.processed',
          userId: ready.user_id,
          factKey: ready.id,
          data: {
            videoId: ready.id,
            sourceType: ready.source_type,
            title: ready.title,
            durationSeconds: exactDurationSeconds(ready),
            width: ready.width,
            height: ready.height,
            hasAudio: ready.has_audio,
            mediaUrl: ready.media_url,
            transcriptSource: ready.transcript_source,
            processedAt: isoOrNull(ready.processed_at),
          },
        });
      });
    },

    /** The slot is refunded (once) and the video records why the ingest ended. */
    async failIngest(input: { videoId: string; reason: string; canceled: boolean }): Promise<void> {
      await failIngest(db, input.videoId, input.reason, input.canceled ? 'canceled' : 'failed');
    },
  };
}

export interface IngestMediaActivityDeps extends ActivityDeps {
  mediaStore: MediaStore;
  media?: MediaToolkit;
  /** Partial downloads live here between attempts; default os.tmpdir(). */
  tempRoot?: string;
  /** The SSRF guard's allowances (the local sandboxes outside production). */
  urlGuard?: UrlGuardOptions;
}

/** The media-queue ingest activity: download (resumable, within the plan's size), ffprobe, plan length, media store. */
export function createVideoIngestMediaActivities(deps: IngestMediaActivityDeps) {
  const { db, logger, mediaStore } = deps;
  const tempRoot = deps.tempRoot ?? tmpdir();
  let media = deps.media;
  const toolkit = () => (media ??= createMediaToolkit({ logger: logger.child({ component: 'media' }), tempRoot, metrics: deps.metrics }));

  async function openUrl(url: string, offset: number, signal: AbortSignal): Promise<SourceResponse> {
    const res = await safeFetch(
      url,
      { timeoutMs: SOURCE_IDLE_TIMEOUT_MS, ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}) },
      deps.urlGuard,
    );
    signal.throwIfAborted();
    await ensureOk(res, 'the video URL');
    const mediaType = bareMediaType(res.headers.get('content-type'));
    if (!isAcceptedVideoType(mediaType)) {
      await res.body?.cancel();
      throw nonRetryable(`url: must be a video file, got ${mediaType || 'no content type'}`, FailureType.InvalidMedia);
    }
    return fromFetchResponse(res);
  }

  /** Drive answers the whole file (our adapter sends no Range), so a retry downloads it again. */
  async function openDrive(userId: string, driveFileId: string, signal: AbortSignal): Promise<SourceResponse> {
    const credential = await findDriveCredential(db, userId);
    if (!credential || credential.status !== 'active' || !deps.secrets) {
      throw nonRetryable('driveFileId: Google Drive is not connected (or no longer authorized); reconnect it', FailureType.ProviderAuth);
    }
    const accessToken = await createGoogleTokens({ db, providers: deps.providers, secrets: deps.secrets, logger })(
      'cloud_storage_credentials',
      credential,
    );
    const body = await deps.providers.drive.downloadFile({ accessToken, fileId: driveFileId, signal });
    return { body, ranged: false, length: null };
  }

  const sourceName = (source: IngestSource, video: Video): string =>
    source.type === 'url' ? basename(new URL(source.url).pathname) : ((video.metadata as { driveFileName?: string }).driveFileName ?? '');

  return {
    /** Extracts the audio and submits it for speech-to-text (once per video), unless a timed transcript was supplied or there is no audio. */
    async startIngestTranscription(input: { videoId: string; workflowId: string }): Promise<IngestTranscription> {
      return startIngestTranscription(
        { db, providers: deps.providers, mediaStore, tempRoot, ffmpegPath: () => toolkit().binaries.ffmpeg.path },
        input,
      );
    },

    /**
     * Brings the source into the media store and checks it: a video stream, no longer than the
     * plan allows. The download is heartbeated with its byte offset; a retry resumes the partial
     * file with a Range request where the source allows. A video already stored and probed (an
     * upload, or a retry after the store) is returned from its row.
     */
    async fetchIngestSource(input: { videoId: string; userId: string; source: IngestSource }): Promise<IngestedMedia> {
      const video = await requireVideo(deps, input.videoId);
      const stored = (video.file_path ?? video.media_url) !== null && video.width !== null && video.has_audio !== null;
      if (stored) {
        return {
          durationSeconds: exactDurationSeconds(video) ?? 0,
          width: video.width ?? 0,
          height: video.height ?? 0,
          hasAudio: video.has_audio === true,
          sizeBytes: video.file_size_bytes ?? 0,
        };
      }
      if (input.source.type === 'stored') throw nonRetryable(`video ${video.id} has no stored file`, FailureType.InvalidInput);
      const source = input.source;
      const plan = await requirePlan(deps, input.userId);
      const ctx = Context.current();
      const { cancellationSignal: signal } = ctx;
      const dir = join(tempRoot, 'ingest', video.id);
      await mkdir(dir, { recursive: true });
      const path = join(dir, sourceFileName(sourceName(source, video)));
      const field = source.type === 'url' ? 'url' : 'driveFileId';
      // A later attempt resumes the partial file an earlier one left here (on another machine there is none: it starts over).
      const resume = ctx.info.attempt > 1;

      let permanent = false;
      try {
        const sizeBytes = await heartbeating(async (report) => {
          let reported = -HEARTBEAT_EVERY_BYTES;
          return downloadResumable({
            path,
            maxBytes: plan.features.maxUploadBytes,
            resume,
            signal,
            open: (offset) =>
              source.type === 'url' ? openUrl(source.url, offset, signal) : openDrive(input.userId, source.driveFileId, signal),
            onProgress: (offset) => {
              if (offset - reported < HEARTBEAT_EVERY_BYTES) return;
              reported = offset;
              report({ offset });
            },
          });
        });
        const info = await toolkit().probe(path);
        if (!info.hasVideo) throw nonRetryable(`${field}: the file has no video stream`, FailureType.InvalidMedia);
        const maxSeconds = plan.features.maxVideoDurationSeconds;
        if (info.durationSeconds > maxSeconds) {
          throw nonRetryable(
            `${field}: the video lasts ${Math.round(info.durationSeconds)} s; your ${plan.slug} plan allows up to ${maxSeconds} s`,
            FailureType.QuotaExceeded,
          );
        }
        // The download is ours to give up: moved into the store, not copied (a retry after this downloads again).
        const put = await mediaStore.put(`videos/${video.id}/${basename(path)}`, path, 'video', { move: true });
        const file: IngestedFile = {
          filePath: put.path,
          mediaUrl: put.url,
          durationSeconds: info.durationSeconds,
          width: info.width,
          height: info.height,
          hasAudio: info.hasAudio,
          sizeBytes,
          mimeType: 'video/' + (info.formatName.includes('webm') ? 'webm' : info.formatName.includes('matroska') ? 'x-matroska' : 'mp4'),
        };
        await saveIngestedFile(db, video.id, file);
        await rm(dir, { recursive: true, force: true });
        return { durationSeconds: info.durationSeconds, width: info.width, height: info.height, hasAudio: info.hasAudio, sizeBytes };
      } catch (err) {
        const failure = ingestFailure(err, field, plan, path);
        permanent = failure instanceof ApplicationFailure && failure.nonRetryable === true;
        throw failure;
      } finally {
        // A retryable failure keeps the partial file for the next attempt's Range request.
        if (permanent) await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Download and probe errors as typed failures: too large, not a video (named by the request field:
 * the user never sees our temp paths), or the source's own HTTP/network classification.
 */
function ingestFailure(err: unknown, field: string, plan: UserPlan, path: string): unknown {
  if (err instanceof SourceTooLargeError) {
    return nonRetryable(
      `${field}: your ${plan.slug} plan accepts videos up to ${plan.features.maxUploadBytes} bytes`,
      FailureType.QuotaExceeded,
    );
  }
  const media = mediaFailure(err);
  if (media instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: media.message.replaceAll(path, field),
      type: media.type ?? FailureType.InvalidMedia,
      nonRetryable: media.nonRetryable === true,
    });
  }
  if (media !== err) return media;
  return classifyProviderError(err, `${field} source`);
}

export type VideoIngestActivities = ReturnType<typeof createVideoIngestActivities>;
export type VideoIngestMediaActivities = ReturnType<typeof createVideoIngestMediaActivities>;
