import { sql } from 'kysely';
import type { Db, DbOrTx } from '../database';
import type { TranscriptSource, Video, VideoProcessingStatus } from '../types';
import { commitVideoQuota, releaseVideoQuota, reserveVideoQuota } from './video-import';

/** The ingest stages that are still moving; `ready` and `failed` end a run and are never left by a late write. */
const MOVING: VideoProcessingStatus[] = ['pending', 'processing', 'transcribing', 'analyzing'];

export interface NewIngestVideo {
  id: string;
  userId: string;
  sourceType: 'upload' | 'url' | 'drive';
  sourceUrl: string | null;
  title: string | null;
  transcript: { text: string; source: TranscriptSource; segments: unknown[] } | null;
  /** e.g. the Drive file id and name. */
  details?: Record<string, string>;
  /** An upload's bytes are in the media store already (probed in the request). */
  stored?: IngestedFile;
}

/** The stored source and what ffprobe read of it. */
export interface IngestedFile {
  filePath: string | null;
  mediaUrl: string;
  durationSeconds: number;
  width: number;
  height: number;
  hasAudio: boolean;
  sizeBytes: number;
  mimeType: string;
}

const fileColumns = (file: IngestedFile) => ({
  file_path: file.filePath,
  media_url: file.mediaUrl,
  duration_seconds: Math.round(file.durationSeconds),
  width: file.width,
  height: file.height,
  has_audio: file.hasAudio,
  file_size_bytes: file.sizeBytes,
  mime_type: file.mimeType,
});

/**
 * The video row of an intake request and the plan's video slot, in one transaction: a refused
 * slot (VideoQuotaExceededError) leaves no row behind. The ingest run releases the slot if it fails.
 */
export async function openIngestVideo(db: Db, video: NewIngestVideo): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('videos')
      .values({
        id: video.id,
        user_id: video.userId,
        source_type: video.sourceType,
        source_url: video.sourceUrl,
        title: video.title,
        transcript: video.transcript?.text ?? null,
        transcript_source: video.transcript?.source ?? null,
        transcript_segments: video.transcript ? JSON.stringify(video.transcript.segments) : null,
        processing_status: 'pending',
        ...(video.stored ? fileColumns(video.stored) : {}),
        metadata: JSON.stringify({ ...(video.stored ? { durationSecondsExact: video.stored.durationSeconds } : {}), ...video.details }),
      })
      .execute();
    await reserveVideoQuota(tx, video.id);
  });
}

/** Undoes openIngestVideo when the run could not be started: the slot goes back and the row goes. */
export async function abandonIngestVideo(db: Db, videoId: string): Promise<void> {
  await releaseVideoQuota(db, videoId);
  await db.deleteFrom('videos').where('id', '=', videoId).execute();
}

/** Moves a video to an ingest stage; progress never goes back and a finished video is left alone. */
export async function recordIngestStage(db: DbOrTx, videoId: string, status: VideoProcessingStatus, progress: number): Promise<void> {
  await db
    .updateTable('videos')
    .set({
      processing_status: status,
      progress: sql`greatest(progress, ${progress})`,
      processing_started_at: sql`coalesce(processing_started_at, now())`,
    })
    .where('id', '=', videoId)
    .where('processing_status', 'in', MOVING)
    .execute();
}

export async function saveIngestedFile(db: DbOrTx, videoId: string, file: IngestedFile): Promise<void> {
  await db
    .updateTable('videos')
    .set({
      ...fileColumns(file),
      metadata: sql`metadata || jsonb_build_object('durationSecondsExact', ${file.durationSeconds}::float8)`,
    })
    .where('id', '=', videoId)
    .execute();
}

export async function saveKeyMoments(db: DbOrTx, videoId: string, keyMoments: unknown[]): Promise<void> {
  await db
    .updateTable('videos')
    .set({ key_moments: JSON.stringify(keyMoments) })
    .where('id', '=', videoId)
    .execute();
}

/** The exact probed duration (the row's column is whole seconds). */
export const exactDurationSeconds = (video: Pick<Video, 'metadata' | 'duration_seconds'>): number | null =>
  (video.metadata as { durationSecondsExact?: number }).durationSecondsExact ?? video.duration_seconds;

/** The ingest succeeded: the slot becomes a processed video with its minutes, then the video is ready (in the caller's transaction if any). */
export async function completeIngest(db: DbOrTx, videoId: string, processingMinutes: number): Promise<void> {
  await commitVideoQuota(db, videoId, Math.round(processingMinutes * 100) / 100);
  await db
    .updateTable('videos')
    .set({ processing_status: 'ready', progress: 100, error_message: null, processed_at: sql`now()`, processing_completed_at: sql`now()` })
    .where('id', '=', videoId)
    .where('processing_status', 'in', MOVING)
    .execute();
}

/** The ingest failed or was canceled: the slot is refunded once and the video says why. */
export async function failIngest(db: Db, videoId: string, reason: string, status: 'failed' | 'canceled' = 'failed'): Promise<void> {
  await releaseVideoQuota(db, videoId);
  await db
    .updateTable('videos')
    .set({ processing_status: status, error_message: reason, processing_completed_at: sql`now()` })
    .where('id', '=', videoId)
    .where('processing_status', 'in', MOVING)
    .execute();
}

/** A speech-to-text transcript replaces any untimed one: text, timed segments with their words, the language heard. */
export async function saveSpeechTranscript(
  db: DbOrTx,
  videoId: string,
  transcript: { text: string; segments: unknown[]; language: string | null },
): Promise<void> {
  await db
    .updateTable('videos')
    .set({
      transcript: transcript.text,
      transcript_source: 'speech_to_text',
      transcript_segments: JSON.stringify(transcript.segments),
      language_detected: transcript.language,
    })
    .where('id', '=', videoId)
    .execute();
}
