import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { extname } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { providerCall } from '../providers/call';
import { CloudinaryAdapter, parseCloudinaryUrl } from '../providers/cloudinary';
import { ProviderLimits } from '../providers/rate-limit';
import { insertUploadedVideo, type VideoSourceRef } from '../db/repositories/clips';
import { getPlanForUser, type UserPlan } from '../db/repositories/plans';
import type { TranscriptSource } from '../db/types';
import { createMediaToolkit, InvalidMediaError, type MediaInfo, type MediaToolkit } from '../lib/media';
import { mediaStoreFor, type MediaStore } from '../lib/media/store';
import { parseTranscript, type ParsedTranscript } from '../lib/transcript';
import type { UploadedVideo } from '../schemas/clips';
import type { ApiDeps } from './deps';
import { HttpProblem, notFound } from './problem';

/**
 * Intake of a source video for clips, shared by the multipart upload and the URL / Drive
 * imports: type and size checks while the bytes arrive, then one validate-and-store step
 * (ffprobe, plan duration, transcript, media store, videos row).
 */

/** SRT/WebVTT text of a long talk stays well below this. */
export const MAX_TRANSCRIPT_BYTES = 5 * 1024 * 1024;
const VIDEO_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.webm', '.mkv', '.avi', '.mpg', '.mpeg', '.ts']);
/** Browsers, curl and file servers send these for a video whose type they cannot name; ffprobe decides then. */
const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream']);

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

/** The media type without parameters, lower-cased (`Video/MP4; codecs=…` → `video/mp4`). */
export const bareMediaType = (contentType: string | null | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** A video type, or a generic binary type left for ffprobe to judge. */
export const isAcceptedVideoType = (mediaType: string): boolean => mediaType.startsWith('video/') || GENERIC_TYPES.has(mediaType);

export const notAVideoProblem = (field: string, mediaType: string) =>
  fieldProblem(422, 'invalid-media', 'Not A Video', field, `must be a video file, got ${mediaType || 'no content type'}`);

/** A temp-file name keeping a known video extension of `filename` (ffprobe and the store like one). */
export const sourceFileName = (filename: string): string => {
  const extension = extname(filename).toLowerCase();
  return `source${VIDEO_EXTENSIONS.has(extension) ? extension : '.video'}`;
};

/** Thrown by saveWithinLimit when the stream passes the limit; the caller answers 413. */
export class TooLargeError extends Error {
  override name = 'TooLargeError';
}

/** Streams `body` to `path`, aborting as soon as more than `maxBytes` have arrived. */
export async function saveWithinLimit(body: Readable, path: string, maxBytes: number, signal?: AbortSignal): Promise<number> {
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      done(received > maxBytes ? new TooLargeError(`more than ${maxBytes} bytes`) : null, chunk);
    },
  });
  await pipeline(body, counter, createWriteStream(path), ...(signal ? [{ signal }] : []));
  return received;
}

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

export interface StoreVideoRequest {
  userId: string;
  plan: UserPlan;
  /** The request field the video came in (`file`, `url`, `driveFileId`): problems name it. */
  field: string;
  video: ReceivedVideo;
  title?: string;
  transcript?: string;
  /** Where an imported video came from; absent for uploads. */
  source?: VideoSourceRef;
}

export interface VideoIntake {
  requirePlan(userId: string): Promise<UserPlan>;
  /** ffprobe, plan duration and transcript checks, then the media store and the videos row. Nothing is written when a check fails. */
  store(request: StoreVideoRequest): Promise<UploadedVideo>;
}

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

  return {
    async requirePlan(userId) {
      const plan = await getPlanForUser(db, userId);
      if (!plan) throw notFound('user');
      return plan;
    },

    async store({ userId, plan, field, video, title: givenTitle, transcript: transcriptText, source }) {
      const title = givenTitle?.trim().slice(0, 500) || video.filename.replace(/\.[^.]+$/, '').slice(0, 500) || null;
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

      const videoId = randomUUID();
      const stored = await mediaStore().put(`videos/${videoId}/source${extname(video.path)}`, video.path, 'video');
      const mimeType = video.mediaType.startsWith('video/') ? video.mediaType : 'application/octet-stream';
      await insertUploadedVideo(db, {
        id: videoId,
        userId,
        title,
        durationSeconds: info.durationSeconds,
        width: info.width,
        height: info.height,
        sizeBytes: info.sizeBytes,
        mimeType,
        filePath: stored.path,
        mediaUrl: stored.url,
        transcript,
        source,
      });
      return {
        videoId,
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
  };
}
