import { randomUUID } from 'node:crypto';
import { extname } from 'node:path';
import { providerCall } from '../providers/call';
import { CloudinaryAdapter, parseCloudinaryUrl } from '../providers/cloudinary';
import { ProviderLimits } from '../providers/rate-limit';
import { getPlanForUser, type UserPlan } from '../db/repositories/plans';
import { VideoQuotaExceededError } from '../db/repositories/video-import';
import { abandonIngestVideo, openIngestVideo, saveIngestedFile, type NewIngestVideo } from '../db/repositories/video-ingest';
import type { TranscriptSource } from '../db/types';
import { createMediaToolkit, InvalidMediaError, type MediaInfo, type MediaToolkit } from '../lib/media';
import { mediaStoreFor, type MediaStore } from '../lib/media/store';
import { bareMediaType, isAcceptedVideoType, sourceFileName } from '../lib/media/video-types';
import { parseTranscript, type ParsedTranscript } from '../lib/transcript';
import { CLIPS_DEFAULTS, type UploadedVideo } from '../schemas/clips';
import type { AutoClips, IngestClipsRequest, IngestInput, IngestSource, IngestStarted } from '../schemas/video-ingest';
import { videoIngestRun, videoIngestWorkflowId } from '../workflows/video-ingest/contract';
import type { ApiDeps } from './deps';
import { runStartedBody, startRun } from './run-starter';
import { HttpProblem, notFound } from './problem';

export { bareMediaType, isAcceptedVideoType, sourceFileName };

/**
 * Intake of a source video, shared by the multipart upload and the URL / Drive imports: what can
 * be checked without downloading (type, declared size, transcript, the plan's video slot) is
 * checked in the request; the `ingest:<videoId>` run does the rest. An upload's bytes arrive with
 * the request, so they are probed and stored there (413/422 before anything is kept); an import
 * is downloaded by the run.
 */

/** SRT/WebVTT text of a long talk stays well below this. */
export const MAX_TRANSCRIPT_BYTES = 5 * 1024 * 1024;

export const fieldProblem = (
  status: number,
  slug: string,
  title: string,
  field: string,
  message: string,
  extra: Record<string, unknown> = {},
) => new HttpProblem(status, slug, title, `${field}: ${message}`, { errors: [{ field, message }], ...extra });

export const planLimitProblem = (field: string, message: string, plan: string) =>
  fieldProblem(422, 'plan-limit', 'Plan Limit Exceeded', field, message, { plan });

export const tooLargeProblem = (field: string, plan: UserPlan) =>
  fieldProblem(
    413,
    'upload-too-large',
    'Upload Too Large',
    field,
    `your ${plan.slug} plan accepts videos up to ${plan.features.maxUploadBytes} bytes`,
    {
      limit: plan.features.maxUploadBytes,
      plan: plan.slug,
    },
  );

export const notAVideoProblem = (field: string, mediaType: string) =>
  fieldProblem(422, 'invalid-media', 'Not A Video', field, `must be a video file, got ${mediaType || 'no content type'}`);

function transcriptSource(parsed: ParsedTranscript, text: string): TranscriptSource {
  if (parsed.segments.length === 0) return 'manual';
  return /^\uFEFF?WEBVTT/.test(text) ? 'uploaded_vtt' : 'uploaded_srt';
}

/** SRT/WebVTT text as the videos row keeps it; a problem naming `transcript` when it does not parse. */
function parseSuppliedTranscript(text: string | undefined): { text: string; source: TranscriptSource; segments: unknown[] } | null {
  const trimmed = text?.trim();
  if (!trimmed) return null;
  let parsed: ParsedTranscript;
  try {
    parsed = parseTranscript(trimmed);
  } catch (err) {
    throw fieldProblem(400, 'validation', 'Validation failed', 'transcript', (err as Error).message);
  }
  if (!parsed.text) throw fieldProblem(400, 'validation', 'Validation failed', 'transcript', 'no text found in the SRT/WebVTT');
  return { text: parsed.text, source: transcriptSource(parsed, trimmed), segments: parsed.segments };
}

export interface ReceivedVideo {
  /** A local temp file with the bytes (the caller removes it). */
  path: string;
  /** The name the video came with (upload file name, URL path, Drive name): the default title. */
  filename: string;
  mediaType: string;
}

export interface IngestRequest {
  userId: string;
  plan: UserPlan;
  /** The request field the video came in (`file`, `url`, `driveFileId`): problems name it. */
  field: string;
  title?: string;
  transcript?: string;
  autoClips?: AutoClips;
}

export interface RemoteSource {
  ingest: Extract<IngestSource, { type: 'url' | 'drive' }>;
  /** The URL fetched, or the Drive file's web link. */
  url: string | null;
  /** The name the video goes by (URL path, Drive name): the default title. */
  filename: string;
  /** e.g. the Drive file id and name. */
  details?: Record<string, string>;
}

export interface VideoIntake {
  requirePlan(userId: string): Promise<UserPlan>;
  /**
   * An upload, whose bytes arrived with the request: ffprobe, plan duration and transcript checks
   * (nothing is written when one fails), then the video row with the plan's video slot, the media
   * store, and the ingest run that finishes it.
   */
  storeUpload(request: IngestRequest & { video: ReceivedVideo }): Promise<UploadedVideo>;
  /** A URL or Drive import: the video row with the plan's video slot and the ingest run, which downloads it. */
  startRemote(request: IngestRequest & { source: RemoteSource }): Promise<IngestStarted>;
}

const quotaProblem = (message: string) => new HttpProblem(402, 'quota-exceeded', 'Video Quota Exceeded', message);

/** `autoClips` of an intake as the clips run's request, within the plan's clips per video (else 422 naming it). */
function autoClipsRequest(plan: UserPlan, autoClips: AutoClips | undefined): IngestClipsRequest | undefined {
  if (!autoClips) return undefined;
  const count = autoClips.count ?? Math.min(CLIPS_DEFAULTS.count, plan.features.clipsPerVideo);
  if (count > plan.features.clipsPerVideo) {
    throw planLimitProblem('autoClips.count', `your ${plan.slug} plan allows ${plan.features.clipsPerVideo} clips per video`, plan.slug);
  }
  return {
    count,
    aspectRatios: autoClips.aspectRatios ?? CLIPS_DEFAULTS.aspectRatios,
    captionStyle: autoClips.captions === undefined ? 'bold' : (autoClips.captions?.style ?? null),
    minSeconds: autoClips.minSeconds ?? CLIPS_DEFAULTS.minSeconds,
    maxSeconds: autoClips.maxSeconds ?? CLIPS_DEFAULTS.maxSeconds,
  };
}

const titleOf = (given: string | undefined, filename: string): string | null =>
  given?.trim().slice(0, 500) || filename.replace(/\.[^.]+$/, '').slice(0, 500) || null;

export function createVideoIntake(deps: ApiDeps): VideoIntake {
  const { db, config } = deps;
  let media: MediaToolkit | undefined;
  let store: MediaStore | undefined;
  const toolkit = () => (media ??= createMediaToolkit({ logger: deps.logger.child({ component: 'media' }) }));
  const mediaStore = () =>
    (store ??= mediaStoreFor(config, () => {
      const call = providerCall(new ProviderLimits({}).for('cloudinary'));
      return new CloudinaryAdapter(parseCloudinaryUrl(config.CLOUDINARY_URL ?? ''), call);
    }));

  /** The row and its slot in one transaction: over the quota is 402 and leaves nothing behind. */
  async function open(video: NewIngestVideo): Promise<void> {
    try {
      await openIngestVideo(db, video);
    } catch (err) {
      throw err instanceof VideoQuotaExceededError ? quotaProblem(err.message) : err;
    }
  }

  /** Starts `ingest:<videoId>`; when it cannot start, the slot goes back and the row goes. */
  async function startIngest(videoId: string, userId: string, source: IngestSource, autoClips?: IngestClipsRequest): Promise<string> {
    const input: IngestInput = {
      videoId,
      userId,
      source,
      mediaTaskQueue: deps.taskQueues.media,
      polling: { initialMs: deps.config.PROVIDER_POLL_INITIAL_MS, maxMs: deps.config.PROVIDER_POLL_MAX_MS },
      ...(autoClips ? { autoClips } : {}),
    };
    try {
      const { runId } = await startRun(deps, videoIngestRun, {
        workflowId: videoIngestWorkflowId(videoId),
        args: [input],
        input: { source: source.type, autoClips: autoClips ?? null },
      });
      return runId;
    } catch (err) {
      await abandonIngestVideo(db, videoId);
      throw err;
    }
  }

  return {
    async requirePlan(userId) {
      const plan = await getPlanForUser(db, userId);
      if (!plan) throw notFound('user');
      return plan;
    },

    async storeUpload({ userId, plan, field, video, title: givenTitle, transcript: transcriptText, autoClips }) {
      const title = titleOf(givenTitle, video.filename);
      const clips = autoClipsRequest(plan, autoClips);
      let info: MediaInfo;
      try {
        info = await toolkit().probe(video.path);
      } catch (err) {
        if (err instanceof InvalidMediaError) throw fieldProblem(422, 'invalid-media', 'Not A Video', field, err.message);
        throw err;
      }
      if (!info.hasVideo) throw fieldProblem(422, 'invalid-media', 'Not A Video', field, 'the file has no video stream');
      const maxSeconds = plan.features.maxVideoDurationSeconds;
      if (info.durationSeconds > maxSeconds) {
        throw planLimitProblem(
          field,
          `the video lasts ${Math.round(info.durationSeconds)} s; your ${plan.slug} plan allows up to ${maxSeconds} s`,
          plan.slug,
        );
      }
      const transcript = parseSuppliedTranscript(transcriptText);
      const mimeType = video.mediaType.startsWith('video/') ? video.mediaType : 'application/octet-stream';

      const videoId = randomUUID();
      await open({ id: videoId, userId, sourceType: 'upload', sourceUrl: null, title, transcript });
      try {
        const stored = await mediaStore().put(`videos/${videoId}/source${extname(video.path)}`, video.path, 'video');
        await saveIngestedFile(db, videoId, {
          filePath: stored.path,
          mediaUrl: stored.url,
          durationSeconds: info.durationSeconds,
          width: info.width,
          height: info.height,
          hasAudio: info.hasAudio,
          sizeBytes: info.sizeBytes,
          mimeType,
        });
      } catch (err) {
        await abandonIngestVideo(db, videoId);
        throw err;
      }
      const runId = await startIngest(videoId, userId, { type: 'stored' }, clips);
      return {
        videoId,
        ...runStartedBody(runId),
        title,
        durationSeconds: info.durationSeconds,
        width: info.width,
        height: info.height,
        hasAudio: info.hasAudio,
        sizeBytes: info.sizeBytes,
        mimeType,
        transcript: transcript ? { source: transcript.source, segments: transcript.segments.length } : null,
      };
    },

    async startRemote({ userId, plan, source, title: givenTitle, transcript: transcriptText, autoClips }) {
      const clips = autoClipsRequest(plan, autoClips);
      const transcript = parseSuppliedTranscript(transcriptText);
      const videoId = randomUUID();
      await open({
        id: videoId,
        userId,
        sourceType: source.ingest.type,
        sourceUrl: source.url,
        title: titleOf(givenTitle, source.filename),
        transcript,
        ...(source.details ? { details: source.details } : {}),
      });
      const runId = await startIngest(videoId, userId, source.ingest, clips);
      return { videoId, ...runStartedBody(runId), status: 'pending' };
    },
  };
}
