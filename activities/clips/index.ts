import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  completeClipRender,
  failClipRender,
  failUnfinishedClips,
  findClip,
  findClipSourceVideo,
  markClipRendering,
  recordClipFile,
  upsertPlannedClips,
  type ClipSourceVideo,
} from '../../db/repositories/clips';
import { getPlanForUser } from '../../db/repositories/plans';
import {
  MOMENT_SYSTEM_PROMPT,
  momentPrompt,
  parseMomentAnswer,
  pauseWindowMoments,
  resolveMoments,
  wordsFromSegments,
  type TimedSegment,
} from './moments';
import {
  createMediaToolkit,
  MediaAbortError,
  MediaError,
  toSrt,
  toWebVtt,
  wordsInWindow,
  type CaptionWord,
  type MediaInfo,
  type MediaToolkit,
} from '../../lib/media';
import { MediaNotFoundError, type MediaStore } from '../../lib/media/store';
import { segmentsToText } from '../../lib/transcript';
import type { ClipAspectRatio, ClipSource, PickMomentsInput, PlannedClip, RenderClipInput, RenderedClip } from '../../schemas/clips';
import type { ActivityDeps } from '../deps';
import { FailureType } from '../../schemas/failures';
import { heartbeating, nonRetryable } from '../common';
import { inTransactionWithEvents } from '../webhook-events';

/** Clips are rendered at the source's resolution, never above 1080 on the short side. */
const MAX_SHORT_SIDE = 1080;

/** The clips run (workflow id) an activity works for: the clips rows' run_id. */
function runIdOf(): string {
  const id = Context.current().info.workflowExecution?.workflowId;
  if (!id) throw nonRetryable('clip activities run inside the clips workflow only', FailureType.InvalidInput);
  return id;
}
const ratioSlug = (ratio: ClipAspectRatio) => ratio.replace(':', 'x');

function timedSegments(video: ClipSourceVideo): TimedSegment[] {
  const segments = video.transcript_segments;
  return Array.isArray(segments)
    ? (segments as TimedSegment[]).filter((s) => Number.isFinite(s.start) && Number.isFinite(s.end) && typeof s.text === 'string')
    : [];
}

/** Word timings of the video's transcript; without them there is nothing to cut by or caption with. */
function transcriptWords(video: ClipSourceVideo): CaptionWord[] {
  const words = wordsFromSegments(timedSegments(video));
  if (words.length === 0) {
    throw nonRetryable(
      'this video has no timed transcript (SRT, WebVTT or word timings): upload one with the video. The platform has no speech-to-text, so it does not guess the words.',
      FailureType.TranscriptUnavailable,
    );
  }
  return words;
}

/** Media toolkit errors as typed failures; an aborted render rethrows the activity's cancellation. */
export function mediaFailure(err: unknown): unknown {
  if (err instanceof MediaAbortError) return err.cause ?? err;
  if (err instanceof MediaError) return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: !err.retryable });
  if (err instanceof MediaNotFoundError) return nonRetryable(err.message, err.type);
  return err;
}

async function inTempDir<T>(root: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(root, 'clips-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const evenFloor = (n: number) => Math.max(16, Math.floor(n / 2) * 2);

/** The main-queue clip activities: AI moment picking and bookkeeping. Each is safe to retry. */
export function createClipActivities(deps: ActivityDeps) {
  const { db, providers } = deps;

  async function requireVideo(videoId: string): Promise<ClipSourceVideo> {
    const video = await findClipSourceVideo(db, videoId);
    if (!video) throw nonRetryable(`video ${videoId} not found`, FailureType.NotFound);
    return video;
  }

  return {
    /**
     * Asks the model for moments, keeps those that fit the real duration and requested lengths
     * (snapped to word boundaries), and writes them as the run's clip rows by (run_id, clip_index).
     */
    async pickClipMoments(input: PickMomentsInput): Promise<PlannedClip[]> {
      const video = await requireVideo(input.videoId);
      const words = transcriptWords(video);
      const request = {
        count: input.count,
        minSeconds: input.minSeconds,
        maxSeconds: input.maxSeconds,
        durationSeconds: input.durationSeconds,
      };
      const runId = runIdOf();
      const answer = await providers.anthropic.generate({
        system: MOMENT_SYSTEM_PROMPT,
        prompt: momentPrompt(segmentsToText(timedSegments(video)), request, video.title),
        maxTokens: 300 * input.count + 200,
        userId: input.userId,
        runId,
        operation: 'clips.moments',
      });
      const picked = resolveMoments(parseMomentAnswer(answer.text), words, request);
      // Quotes that do not match (or a transcript without sentences) leave clips missing: cut them on pauses.
      const cueEnds = timedSegments(video).map((s) => s.end);
      const moments = [...picked, ...pauseWindowMoments(words, cueEnds, request, picked)];
      if (moments.length === 0) {
        throw nonRetryable(
          `no moment of ${input.minSeconds}–${input.maxSeconds} s could be found in the transcript`,
          FailureType.NoClipMoments,
        );
      }
      const rows = await db.transaction().execute((tx) =>
        upsertPlannedClips(
          tx,
          { runId, videoId: video.id, userId: video.user_id, workspaceId: video.workspace_id },
          moments.map((m) => ({
            title: m.title,
            start_time: m.start,
            end_time: m.end,
            hook_score: m.hookScore,
            virality_score: m.viralityScore,
            engagement_score: m.engagementScore,
            topics: m.topics,
            transcript_segment: m.text,
            caption_style: input.captionStyle,
            selection_method: m.selectionMethod,
          })),
        ),
      );
      return rows
        .sort((a, b) => a.clip_index - b.clip_index)
        .map((row) => {
          const moment = moments[row.clip_index]!;
          return { clipId: row.id, clipIndex: row.clip_index, start: moment.start, end: moment.end, title: moment.title };
        });
    },

    async failClip(input: { clipId: string; error: string }): Promise<void> {
      await failClipRender(db, input.clipId, input.error);
    },

    /** On failure or cancel of the run: clips that never finished say so; finished ones stay. */
    async settleUnfinishedClips(input: { reason: string }): Promise<number> {
      return failUnfinishedClips(db, runIdOf(), input.reason);
    },
  };
}

export interface ClipMediaActivityDeps extends ActivityDeps {
  mediaStore: MediaStore;
  /** The worker's media toolkit; one is created on first use when not given. */
  media?: MediaToolkit;
  /** Where temporary files go (always removed); default os.tmpdir(). */
  tempRoot?: string;
}

/** The media-queue clip activities: CPU-bound, heartbeating, run by the media worker. */
export function createClipMediaActivities(deps: ClipMediaActivityDeps) {
  const { db, logger, mediaStore } = deps;
  const tempRoot = deps.tempRoot ?? tmpdir();
  let media = deps.media;
  const toolkit = () => (media ??= createMediaToolkit({ logger: logger.child({ component: 'media' }), tempRoot, metrics: deps.metrics }));

  async function requireVideo(videoId: string): Promise<ClipSourceVideo> {
    const video = await findClipSourceVideo(db, videoId);
    if (!video) throw nonRetryable(`video ${videoId} not found`, FailureType.NotFound);
    return video;
  }

  /** A local file of the video: the stored file (or a copy of it into `dir`). */
  async function localSource(video: ClipSourceVideo, dir: string, signal: AbortSignal): Promise<string> {
    if (!video.file_path && !video.media_url) {
      throw nonRetryable('this video has no media file: upload the video file, or import it from a video URL', FailureType.InvalidInput);
    }
    return mediaStore.localCopy({ path: video.file_path, url: video.media_url }, dir, signal);
  }

  return {
    /**
     * Checks the source before any work: a timed transcript, a real video within the plan's
     * duration. Every source (upload, URL, Drive) was stored by the API's intake, so every render
     * reads the same stored file.
     */
    async prepareClipSource(input: { videoId: string; userId: string }): Promise<ClipSource> {
      const video = await requireVideo(input.videoId);
      const words = transcriptWords(video);
      const { cancellationSignal: signal } = Context.current();
      return inTempDir(tempRoot, async (dir) => {
        let info: MediaInfo;
        try {
          info = await toolkit().probe(await localSource(video, dir, signal));
        } catch (err) {
          throw mediaFailure(err);
        }
        if (!info.hasVideo) throw nonRetryable('the media file has no video stream', FailureType.InvalidMedia);
        const plan = await getPlanForUser(db, input.userId);
        if (plan && info.durationSeconds > plan.features.maxVideoDurationSeconds) {
          throw nonRetryable(
            `the video lasts ${Math.round(info.durationSeconds)} s; your ${plan.slug} plan allows videos up to ${plan.features.maxVideoDurationSeconds} s`,
            FailureType.QuotaExceeded,
          );
        }
        return { durationSeconds: info.durationSeconds, width: info.width, height: info.height, words: words.length };
      });
    },

    /**
     * Renders one clip: per aspect ratio cut + reframe + burned captions in one ffmpeg pass, then a
     * thumbnail frame and the SRT/WebVTT files, all stored under keys fixed by the clip id. Each
     * finished ratio is recorded on the row at once, so an attempt after a crash renders only
     * what is missing; a finished clip is returned as it is.
     */
    async renderClip(input: RenderClipInput): Promise<RenderedClip> {
      const clip = await findClip(db, input.clipId);
      if (!clip) throw nonRetryable(`clip ${input.clipId} not found`, FailureType.NotFound);
      const done = (fileUrls: Partial<Record<ClipAspectRatio, string>>, thumbnailUrl: string): RenderedClip => ({
        clipId: clip.id,
        clipIndex: clip.clip_index,
        durationSeconds: clip.end_time - clip.start_time,
        fileUrls,
        thumbnailUrl,
      });
      if (clip.render_status === 'completed' && clip.thumbnail_url) return done(clip.file_urls, clip.thumbnail_url);
      const video = await requireVideo(clip.video_id);
      const duration = clip.end_time - clip.start_time;
      const transcript = transcriptWords(video);
      // The toolkit re-times caption words to the clip itself; the SRT/WebVTT files need them re-timed here.
      const words = wordsInWindow(transcript, clip.start_time, duration);
      await markClipRendering(db, clip.id);
      const { cancellationSignal: signal } = Context.current();

      return heartbeating((report) =>
        inTempDir(tempRoot, async (dir) => {
          try {
            const source = await localSource(video, dir, signal);
            const info = await toolkit().probe(source);
            const shortSide = Math.min(MAX_SHORT_SIDE, evenFloor(Math.min(info.width, info.height)));
            const fileUrls = { ...clip.file_urls };
            const localFiles = new Map<ClipAspectRatio, string>();
            for (const ratio of input.aspectRatios) {
              if (fileUrls[ratio]) continue;
              const output = join(dir, `${ratioSlug(ratio)}.mp4`);
              await toolkit().renderClip(
                {
                  input: source,
                  output,
                  startSeconds: clip.start_time,
                  durationSeconds: duration,
                  aspectRatio: ratio,
                  shortSide,
                  ...(input.captionStyle && words.length > 0 ? { captions: { words: transcript, style: input.captionStyle } } : {}),
                },
                { signal, onProgress: (p) => report({ clipIndex: clip.clip_index, ratio, percent: p.percent }) },
              );
              const stored = await mediaStore.put(`clips/${clip.id}/${ratioSlug(ratio)}.mp4`, output, 'video');
              await recordClipFile(db, clip.id, ratio, stored.url);
              fileUrls[ratio] = stored.url;
              localFiles.set(ratio, output);
            }

            const primary = input.aspectRatios[0]!;
            const rendered = localFiles.get(primary) ?? (await mediaStore.localCopy({ url: fileUrls[primary] }, dir, signal));
            report({ clipIndex: clip.clip_index, stage: 'thumbnail' });
            const frame = await toolkit().extractFrame(
              { input: rendered, output: join(dir, 'thumbnail.jpg'), atSeconds: Math.min(1, duration / 2) },
              { signal },
            );
            const thumbnail = await mediaStore.put(`clips/${clip.id}/thumbnail.jpg`, frame.path, 'image');

            const srt = toSrt(words);
            const vtt = toWebVtt(words);
            const [srtFile, vttFile] = await Promise.all([
              writeText(join(dir, 'captions.en.srt'), srt),
              writeText(join(dir, 'captions.en.vtt'), vtt),
            ]);
            const [srtStored, vttStored] = await Promise.all([
              mediaStore.put(`clips/${clip.id}/captions.en.srt`, srtFile, 'raw'),
              mediaStore.put(`clips/${clip.id}/captions.en.vtt`, vttFile, 'raw'),
            ]);
            // The finished clip and its clip.generated (one per clip: its id is the fact key) commit together.
            await inTransactionWithEvents(deps, async (tx, emit) => {
              await completeClipRender(tx, clip.id, {
                thumbnailUrl: thumbnail.url,
                captions: {
                  style: input.captionStyle ?? 'none',
                  fontFamily: input.captionStyle ? toolkit().fonts.family : null,
                  words: words.map((w) => ({ word: w.text, start: w.start, end: w.end })),
                  srt,
                  vtt,
                  srtUrl: srtStored.url,
                  vttUrl: vttStored.url,
                },
              });
              await emit({
                type: 'clip.generated',
                userId: clip.user_id,
                factKey: clip.id,
                data: {
                  clipId: clip.id,
                  videoId: clip.video_id,
                  runId: clip.run_id,
                  clipIndex: clip.clip_index,
                  title: clip.title,
                  startSeconds: clip.start_time,
                  endSeconds: clip.end_time,
                  fileUrls,
                  thumbnailUrl: thumbnail.url,
                  captions: { srtUrl: srtStored.url, vttUrl: vttStored.url },
                },
              });
            });
            return done(fileUrls, thumbnail.url);
          } catch (err) {
            throw mediaFailure(err);
          }
        }),
      );
    },
  };
}

async function writeText(path: string, text: string): Promise<string> {
  await writeFile(path, text);
  return path;
}

export type ClipActivities = ReturnType<typeof createClipActivities>;
export type ClipMediaActivities = ReturnType<typeof createClipMediaActivities>;
