import { mkdtemp, rm } from 'node:fs/promises';
import { createGoogleTokens } from '../providers/google/tokens';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Db, DbOrTx } from '../db/database';
import type { Video } from '../db/types';
import {
  countThumbnailJobRetry,
  findThumbnail,
  findThumbnailJob,
  listActiveThumbnailStyles,
  listJobThumbnails,
  markThumbnailOnYoutube,
  settleThumbnailJob,
  startThumbnailJobRow,
  thumbnailCopyContext,
  updateThumbnailJobProgress,
  upsertVideoThumbnail,
  type ThumbnailJob,
  type ThumbnailStyle,
} from '../db/repositories/thumbnails';
import { findYoutubeToken } from '../db/repositories/google-credentials';
import { findVideo } from '../db/repositories/video-import';
import {
  createMediaToolkit,
  MediaAbortError,
  MediaError,
  THUMBNAIL_SIZES,
  type MediaToolkit,
  type ThumbnailBackground,
  type ThumbnailText,
} from '../lib/media';
import { MediaNotFoundError, type MediaStore } from '../lib/media/store';
import {
  ThumbnailLayoutSpecSchema,
  type RenderedThumbnail,
  type RenderThumbnailInput,
  type ThumbnailCopy,
  type ThumbnailJobEnding,
  type ThumbnailJobPlan,
  type ThumbnailJobSettlement,
  type ThumbnailLayoutSpec,
  type ThumbnailRefinement,
} from '../schemas/thumbnails';
import type { ActivityDeps } from './deps';
import { FailureType } from '../schemas/failures';
import { heartbeating, nonRetryable } from './common';
import { inTransactionWithEvents } from './webhook-events';

/** What the media worker's render needs beyond ActivityDeps. */
export interface ThumbnailMediaActivityDeps extends ActivityDeps {
  /** Where videos' files are kept (lib/media/store.ts); a video with a stored file gets frame backgrounds. */
  mediaStore: MediaStore;
  /** The worker's media toolkit; one is created on first render when not given. */
  media?: MediaToolkit;
  /** Where temporary files go (always removed); default os.tmpdir(). */
  tempRoot?: string;
}

/** Thumbnail text is read at phone size: a few words at most. */
const MAX_OVERLAY_WORDS = 6;
const MAX_OVERLAY_CHARS = 40;
const TRANSCRIPT_EXCERPT_CHARS = 3_000;
/** A token this close to expiry is refreshed before use. */

const COPY_SYSTEM =
  'You are a YouTube thumbnail designer. You write the overlay text of one thumbnail (two to five punchy words, no quotes, no emojis) and choose its text layout. Answer with JSON only.';

/** The style's own layout, used as the AI's starting point and for any field it gets wrong. */
export function defaultLayout(design: ThumbnailStyle['design']): ThumbnailLayoutSpec {
  const { textPosition } = design;
  const side = textPosition === 'left' || textPosition === 'right';
  return {
    position: textPosition === 'left' || textPosition === 'right' ? 'center' : textPosition,
    align: textPosition === 'left' || textPosition === 'right' ? textPosition : 'center',
    uppercase: design.textCase === 'upper',
    fontScale: design.fontWeight === 'black' ? 1.15 : design.fontWeight === 'bold' ? 1 : 0.9,
    textColor: design.text,
    strokeColor: design.stroke,
    box: false,
    boxColor: design.accent,
    gradient: side ? 'horizontal' : design.textPosition === 'center' ? 'diagonal' : 'vertical',
  };
}

/** Overlay text cut to what reads at phone size, without quotes or line breaks. */
export function clampOverlayText(text: string): string {
  const words = text
    .replace(/["“”«»]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.,;:]+$/, '')
    .split(' ')
    .filter(Boolean);
  let kept = words.slice(0, MAX_OVERLAY_WORDS);
  while (kept.length > 1 && kept.join(' ').length > MAX_OVERLAY_CHARS) kept = kept.slice(0, -1);
  return kept
    .join(' ')
    .slice(0, MAX_OVERLAY_CHARS)
    .replace(/[.,;:]+$/, '');
}

/**
 * Reads the model's answer: the first JSON object in it, its headline clamped, and each layout
 * field kept only when valid (else the style's default), so one bad field never spoils the render.
 */
export function parseThumbnailCopy(answer: string, fallback: ThumbnailLayoutSpec): ThumbnailCopy | undefined {
  const start = answer.indexOf('{');
  const end = answer.lastIndexOf('}');
  if (start === -1 || end <= start) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.slice(start, end + 1));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const fields = parsed as Record<string, unknown>;
  const overlayText = typeof fields.headline === 'string' ? clampOverlayText(fields.headline) : '';
  if (!overlayText) return undefined;
  const shape = ThumbnailLayoutSpecSchema.shape;
  const layoutFields = (typeof fields.layout === 'object' && fields.layout !== null ? fields.layout : {}) as Record<string, unknown>;
  const pick = <K extends keyof ThumbnailLayoutSpec>(key: K): ThumbnailLayoutSpec[K] => {
    const checked = shape[key].safeParse(layoutFields[key]);
    return (checked.success ? checked.data : fallback[key]) as ThumbnailLayoutSpec[K];
  };
  const layout = Object.fromEntries(
    (Object.keys(shape) as Array<keyof ThumbnailLayoutSpec>).map((key) => [key, pick(key)]),
  ) as ThumbnailLayoutSpec;
  return { overlayText, layout };
}

/** The toolkit's text overlay from the layout spec, sized for the thumbnail. */
export function overlayFor(
  copy: ThumbnailCopy,
  size: { width: number; height: number },
  weight: ThumbnailStyle['design']['fontWeight'],
): ThumbnailText {
  const { layout } = copy;
  const fontSize = Math.round(Math.min(size.width, size.height) * 0.12 * layout.fontScale);
  return {
    text: copy.overlayText,
    fontSize,
    weight: weight === 'regular' ? 'regular' : 'bold',
    color: layout.textColor,
    ...(layout.box
      ? { box: { color: layout.boxColor, opacity: 0.85 } }
      : { stroke: { color: layout.strokeColor, width: Math.max(2, Math.round(fontSize * 0.06)) } }),
    position: layout.position,
    align: layout.align,
    maxWidth: layout.align === 'center' ? 0.9 : 0.6,
    maxLines: 3,
    uppercase: layout.uppercase,
  };
}

/** Where in the video each style takes its frame, so styles do not all show the same moment. */
export const frameFraction = (generationOrder: number) => 0.2 + ((generationOrder * 0.17) % 0.6);

/** Cloudinary public id (inside folder `thumbnails/<jobId>`) from job, style and version: a retry overwrites, never adds. */
export const thumbnailPublicId = (style: string, version: number) => `${style}-v${version}`;

const runIdOf = (): string | null => Context.current().info.workflowExecution?.workflowId ?? null;

/** Media toolkit errors as typed failures; an aborted render rethrows the activity's cancellation. */
function mediaFailure(err: unknown): unknown {
  if (err instanceof MediaAbortError) return err.cause ?? err;
  if (err instanceof MediaError) return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: !err.retryable });
  return err;
}

async function requireJob(db: DbOrTx, jobId: string): Promise<ThumbnailJob> {
  const job = await findThumbnailJob(db, jobId);
  if (!job) throw nonRetryable(`thumbnail job ${jobId} not found`, FailureType.NotFound);
  return job;
}

async function requireVideo(db: Db, videoId: string): Promise<Video> {
  const video = await findVideo(db, videoId);
  if (!video) throw nonRetryable(`video ${videoId} not found`, FailureType.NotFound);
  return video;
}

async function requireStyle(db: Db, key: string): Promise<ThumbnailStyle> {
  const style = (await listActiveThumbnailStyles(db)).find((s) => s.key === key);
  if (!style) throw nonRetryable(`thumbnail style ${key} is unknown or inactive`, FailureType.InvalidInput);
  return style;
}

/** Counts each retried attempt of a style on the job row (retry_count), where the API reports it. */
async function countRetry(db: Db, jobId: string): Promise<void> {
  if (Context.current().info.attempt > 1) await countThumbnailJobRetry(db, jobId);
}

/** Thumbnail generation (AmplifyContent.ai) on the main queue: job bookkeeping, AI copy, YouTube. Each is safe to retry. */
export function createThumbnailActivities(deps: ActivityDeps) {
  const { db, providers } = deps;

  async function copyPrompt(job: ThumbnailJob, style: ThumbnailStyle, refinement: ThumbnailRefinement | undefined): Promise<string> {
    const [{ video, expression, category, profile }, parent] = await Promise.all([
      thumbnailCopyContext(db, job),
      refinement ? findThumbnail(db, refinement.parentThumbnailId) : undefined,
    ]);
    if (!expression) throw nonRetryable(`expression ${job.expression_category} not found`, FailureType.InvalidInput);
    const example = { headline: 'Two to five words', layout: defaultLayout(style.design) };
    const lines = [
      `Style: ${style.name}. ${style.description}`,
      `Expression of the person in the thumbnail: ${expression.name} (${expression.primary_emotion}, intensity ${expression.intensity} of 3). Face: ${expression.face_details}. Eyes: ${expression.eye_details}.`,
      category ? `Category: ${category.name}. ${category.description ?? ''}` : '',
      profile?.full_anchor_text ? `The person always looks like this: ${profile.full_anchor_text}` : '',
      parent
        ? `Refine the earlier thumbnail whose text was "${parent.overlay_text ?? ''}" with layout ${JSON.stringify(parent.layout)}. The creator asks: ${refinement?.instruction ?? ''}`
        : '',
      "Return JSON shaped like this example, which holds the style's default layout (position top|center|bottom, align left|center|right, colours as #rrggbb, gradient vertical|horizontal|diagonal, fontScale 0.6-1.5):",
      '```json',
      JSON.stringify(example, null, 2),
      '```',
      '<content>',
      `Topic: ${job.topic}.${job.sub_topic ? ` ${job.sub_topic}.` : ''}`,
      video?.title ? `Video title: ${video.title}.` : '',
      video?.description ?? '',
      (video?.transcript ?? '').slice(0, TRANSCRIPT_EXCERPT_CHARS),
      '</content>',
    ];
    return lines.filter(Boolean).join('\n');
  }

  async function youtubeAccessToken(userId: string, channelId: string | null): Promise<string> {
    const notConnected = nonRetryable(
      'no connected YouTube channel can set this thumbnail; connect YouTube first',
      FailureType.ProviderAuth,
    );
    if (!deps.secrets) throw notConnected;
    const row = await findYoutubeToken(db, userId, channelId);
    if (!row) throw notConnected;
    return createGoogleTokens({ db, providers, secrets: deps.secrets })('youtube_oauth_tokens', row);
  }

  return {
    /** Picks the job up: resolves its styles (requested ones, else every active style) and marks it processing. */
    async startThumbnailJob(input: { jobId: string }): Promise<ThumbnailJobPlan> {
      const job = await requireJob(db, input.jobId);
      const active = await listActiveThumbnailStyles(db);
      const styles = job.styles.length > 0 ? job.styles.filter((key) => active.some((s) => s.key === key)) : active.map((s) => s.key);
      if (styles.length === 0) throw nonRetryable('none of the requested thumbnail styles is available', FailureType.InvalidInput);
      await startThumbnailJobRow(db, job.id, runIdOf(), styles);
      return { styles };
    },

    async updateThumbnailProgress(input: { jobId: string; progress: number; currentStyle: string | null }): Promise<void> {
      await updateThumbnailJobProgress(db, input.jobId, input.progress, input.currentStyle);
    },

    /** The AI writes the overlay text and the layout spec for one style. */
    async writeThumbnailCopy(input: { jobId: string; style: string; refinement?: ThumbnailRefinement }): Promise<ThumbnailCopy> {
      await countRetry(db, input.jobId);
      const job = await requireJob(db, input.jobId);
      const style = await requireStyle(db, input.style);
      const result = await providers.anthropic.generate({
        system: COPY_SYSTEM,
        prompt: await copyPrompt(job, style, input.refinement),
        maxTokens: 400,
        userId: job.user_id,
        runId: runIdOf(),
        operation: 'thumbnails.copy',
      });
      const copy = parseThumbnailCopy(result.text, defaultLayout(style.design));
      // A malformed answer is worth another attempt: the next one usually parses.
      if (!copy)
        throw ApplicationFailure.retryable(`the model's thumbnail copy for ${input.style} was not the requested JSON`, 'InvalidAiOutput');
      return copy;
    },

    /**
     * Ends the job: status from the rows that exist, the reserved iteration charged or given back
     * (once), and a job that produced thumbnails records thumbnail.completed (one per job) with it.
     */
    async finishThumbnailJob(input: {
      jobId: string;
      ending: ThumbnailJobEnding;
      errorMessage: string | null;
    }): Promise<ThumbnailJobSettlement> {
      return inTransactionWithEvents(deps, async (tx, emit) => {
        const settlement = await settleThumbnailJob(tx, input.jobId, { kind: input.ending, errorMessage: input.errorMessage });
        const { status } = settlement;
        if (status !== 'completed' && status !== 'completed_with_errors') return settlement;
        const job = await requireJob(tx, input.jobId);
        const thumbnails = await listJobThumbnails(tx, input.jobId);
        await emit({
          type: 'thumbnail.completed',
          userId: job.user_id,
          factKey: job.id,
          data: {
            jobId: job.id,
            videoId: job.video_id,
            status,
            thumbnails: thumbnails.map((t) => ({
              thumbnailId: t.id,
              style: t.style_name,
              version: t.version,
              url: t.cloudinary_secure_url,
              width: t.width,
              height: t.height,
              format: t.format,
            })),
          },
        });
        return settlement;
      });
    },

    /** Sets the thumbnail on the video's YouTube page (thumbnails.set); repeating it sets the same image again. */
    async uploadThumbnailToYoutube(input: { thumbnailId: string; userId: string }): Promise<{ url: string | null }> {
      const thumbnail = await findThumbnail(db, input.thumbnailId);
      if (!thumbnail || thumbnail.user_id !== input.userId)
        throw nonRetryable(`thumbnail ${input.thumbnailId} not found`, FailureType.NotFound);
      const video = await requireVideo(db, thumbnail.video_id);
      if (!video.youtube_video_id)
        throw nonRetryable('the video is not on YouTube, so its thumbnail cannot be set there', FailureType.InvalidInput);
      const accessToken = await youtubeAccessToken(input.userId, video.channel_id);
      const response = await fetch(thumbnail.cloudinary_secure_url);
      if (!response.ok) {
        const failure = `the thumbnail image could not be read from Cloudinary (HTTP ${response.status})`;
        throw response.status >= 500
          ? ApplicationFailure.retryable(failure, FailureType.ProviderUnavailable)
          : nonRetryable(failure, FailureType.NotFound);
      }
      const image = Buffer.from(await response.arrayBuffer());
      const result = await providers.youtube.setThumbnail({
        accessToken,
        videoId: video.youtube_video_id,
        image,
        mimeType: thumbnail.format === 'png' ? 'image/png' : 'image/jpeg',
      });
      await markThumbnailOnYoutube(db, thumbnail.id, thumbnail.video_id);
      return result;
    },
  };
}

export type ThumbnailActivities = ReturnType<typeof createThumbnailActivities>;

/** The CPU-bound render, run by the media worker (few slots, heartbeats). */
export function createThumbnailMediaActivities(deps: ThumbnailMediaActivityDeps) {
  const { db, providers, logger, mediaStore } = deps;
  const tempRoot = deps.tempRoot ?? tmpdir();
  let media = deps.media;
  const toolkit = () => (media ??= createMediaToolkit({ logger: logger.child({ component: 'media' }), tempRoot, metrics: deps.metrics }));

  /** A local copy of the video's stored file in `dir`, or undefined when we have none (then the style's background is used). */
  async function videoFile(
    video: { id: string; file_path: string | null; media_url: string | null },
    dir: string,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    if (!video.file_path && !video.media_url) return undefined;
    try {
      return await mediaStore.localCopy({ path: video.file_path, url: video.media_url }, dir, signal);
    } catch (err) {
      if (!(err instanceof MediaNotFoundError)) throw err;
      logger.warn({ videoId: video.id }, 'the video file is gone: rendering on the style background');
      return undefined;
    }
  }

  return {
    /**
     * Renders one style (a frame of the video when its file is here, else the style's gradient),
     * uploads it to Cloudinary under a public id fixed by job/style/version, and upserts its row
     * by the natural key: a retry after any failure overwrites the same asset and row.
     */
    async renderThumbnail(input: RenderThumbnailInput): Promise<RenderedThumbnail> {
      await countRetry(db, input.jobId);
      const job = await requireJob(db, input.jobId);
      const style = await requireStyle(db, input.style);
      const video = await requireVideo(db, job.video_id);
      const size = THUMBNAIL_SIZES[job.aspect_ratio];
      const ctx = Context.current();
      const dir = await mkdtemp(join(tempRoot, 'thumbnail-'));
      try {
        return await heartbeating(async () => {
          const tools = toolkit();
          const source = await videoFile(video, dir, ctx.cancellationSignal);
          // A video frame is photographic (JPEG keeps it small); a flat gradient with text is crisper and small as PNG.
          const format = source ? 'jpg' : 'png';
          let background: ThumbnailBackground;
          if (source) {
            const { durationSeconds } = await tools.probe(source).catch((err: unknown) => {
              throw mediaFailure(err);
            });
            background = { kind: 'frame', video: source, atSeconds: durationSeconds * frameFraction(input.generationOrder), dim: 0.35 };
          } else {
            background = {
              kind: 'gradient',
              from: style.design.background,
              to: style.design.accent,
              direction: input.copy.layout.gradient,
            };
          }
          const image = await tools
            .composeThumbnail(
              {
                output: join(dir, `thumbnail.${format}`),
                aspectRatio: job.aspect_ratio,
                background,
                text: overlayFor(input.copy, size, style.design.fontWeight),
                format: format === 'jpg' ? 'jpeg' : 'png',
              },
              { signal: ctx.cancellationSignal },
            )
            .catch((err: unknown) => {
              throw mediaFailure(err);
            });
          const asset = await providers.cloudinary.upload({
            source: image.path,
            publicId: thumbnailPublicId(input.style, input.version),
            folder: `thumbnails/${job.id}`,
            resourceType: 'image',
            tags: ['thumbnail', `style_${input.style}`],
          });
          const thumbnailId = await upsertVideoThumbnail(db, {
            video_id: job.video_id,
            user_id: job.user_id,
            job_id: job.id,
            cloudinary_public_id: asset.publicId,
            cloudinary_url: asset.url,
            cloudinary_secure_url: asset.url,
            topic: job.topic,
            sub_topic: job.sub_topic,
            expression_category: job.expression_category,
            aspect_ratio: job.aspect_ratio,
            style_name: input.style,
            content_category: job.content_category,
            overlay_text: input.copy.overlayText,
            layout: input.copy.layout,
            file_size_bytes: image.sizeBytes,
            width: image.width,
            height: image.height,
            format,
            generation_order: input.generationOrder,
            version: input.version,
            refinement_instruction: input.refinement?.instruction ?? null,
            parent_thumbnail_id: input.refinement?.parentThumbnailId ?? null,
          });
          return { thumbnailId, style: input.style, width: image.width, height: image.height, bytes: image.sizeBytes, format };
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export type ThumbnailMediaActivities = ReturnType<typeof createThumbnailMediaActivities>;
