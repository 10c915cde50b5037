import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import {
  commitCreditReservation,
  CreditReservationError,
  InsufficientCreditsError,
  refundCreditReservation,
  reserveCredits,
} from '../db/repositories/credits';
import {
  failProductScrape,
  findProduct,
  findProductVideo,
  finishProductScrape,
  markProductScraping,
  saveScrapedFields,
  updateProductVideo,
  upsertProductImage,
  type ProductVideoChange,
} from '../db/repositories/products';
import { createMediaToolkit, type MediaToolkit } from '../lib/media';
import type { MediaStore } from '../lib/media/store';
import { readImageInfo } from '../lib/image-info';
import { parseProductPage } from '../lib/product-page';
import { FREEPIK_PROVIDER, type FreepikTaskKind } from '../providers/freepik';
import { FailureType } from '../schemas/failures';
import type { ScrapeFailureReason, ScrapedProduct } from '../schemas/products';
import type { SubmittedProviderJob } from '../schemas/provider-jobs';
import { heartbeating, nonRetryable } from './common';
import { emitCreditsLowOnCrossing, reservationDebit } from './credits';
import type { ActivityDeps } from './deps';
import { notifyOnce, type NotificationOutcome } from './notifications';
import { submitProviderJobOnce } from './provider-jobs';
import { inTransactionWithEvents, isoOrNull } from './webhook-events';

/** The largest product page we read. */
const MAX_PAGE_BYTES = 5 * 1024 * 1024;
/** The largest product image we store. */
export const MAX_PRODUCT_IMAGE_BYTES = 10 * 1024 * 1024;
/** The largest generated video we download. */
const MAX_VIDEO_BYTES = 200 * 1024 * 1024;

/** The reservation id of a product video's credits: one per video, so retries never reserve twice. */
export const productVideoReservationId = (videoId: string): string => `product-video:${videoId}`;

function creditFailure(err: unknown): unknown {
  if (err instanceof InsufficientCreditsError) return ApplicationFailure.nonRetryable(err.message, err.type);
  if (err instanceof CreditReservationError) return ApplicationFailure.nonRetryable(err.message, err.type);
  return err;
}

/** Product scrapes and product videos (EcomVideo AI): the main task queue's I/O. */
export function createProductActivities(deps: ActivityDeps) {
  const { db, logger, providers } = deps;

  async function requireVideo(videoId: string) {
    const video = await findProductVideo(db, videoId);
    if (!video) throw nonRetryable(`product video ${videoId} not found`, FailureType.NotFound);
    return video;
  }

  return {
    /**
     * Reads the product page: robots.txt first, then the page at the domain's pace, parsed with
     * JSON-LD, Open Graph and the domain's selectors. Writes the fields; returns the image URLs.
     */
    async scrapeProductPage(input: { productId: string }): Promise<Pick<ScrapedProduct, 'name' | 'images'>> {
      const product = await findProduct(db, input.productId);
      if (!product) throw nonRetryable(`product ${input.productId} not found`, FailureType.NotFound);
      await markProductScraping(db, input.productId);
      const { webPages } = providers;
      if (!(await webPages.robotsAllow(product.original_url)))
        throw nonRetryable(`robots.txt of ${product.domain} does not allow fetching this page`, FailureType.BlockedByRobots);
      const page = await webPages.get(product.original_url, MAX_PAGE_BYTES, 'text/html,application/xhtml+xml');
      if (!/html/i.test(page.contentType))
        throw nonRetryable(`the URL serves ${page.contentType || 'no content type'}, not a web page`, FailureType.NotAProduct);
      const rule = await webPages.ruleFor(product.original_url);
      const scraped = parseProductPage(page.body.toString('utf8'), page.url, rule.selectors);
      if (!scraped)
        throw nonRetryable('the page describes no product (no schema.org Product, no Open Graph product tags)', FailureType.NotAProduct);
      await saveScrapedFields(db, input.productId, {
        ...scraped,
        platform: rule.selectors && Object.keys(rule.selectors).length > 0 ? 'custom' : 'generic',
        metadata: { sources: scraped.sources, finalUrl: page.url },
      });
      logger.info({ productId: input.productId, sources: scraped.sources, images: scraped.images.length }, 'product page scraped');
      return { name: scraped.name, images: scraped.images };
    },

    async finishProductScrape(input: { productId: string }): Promise<void> {
      await finishProductScrape(db, input.productId);
    },

    async recordScrapeFailure(input: { productId: string; reason: ScrapeFailureReason; message: string }): Promise<void> {
      await failProductScrape(db, input.productId, input.reason, input.message);
    },

    /** Takes the video's credits (reservation `product-video:<videoId>`, idempotent) and marks them reserved. */
    async reserveProductVideoCredits(input: { videoId: string }): Promise<{ balance: number }> {
      const video = await requireVideo(input.videoId);
      const reason = `product video ${input.videoId} (${video.duration_seconds} s)`;
      try {
        return await inTransactionWithEvents(deps, async (tx, emit) => {
          const reservation = await reserveCredits(tx, {
            userId: video.user_id,
            amount: video.generation_cost_credits,
            reservationId: productVideoReservationId(input.videoId),
            reason,
          });
          if (reservation.state === 'reserved') await updateProductVideo(tx, input.videoId, { creditsState: 'reserved' });
          if (reservation.applied) await emitCreditsLowOnCrossing(tx, emit, reservationDebit(reservation, reason));
          return { balance: reservation.balance };
        });
      } catch (err) {
        throw creditFailure(err);
      }
    },

    /**
     * Starts a Freepik task for the video, once per video and kind: the provider_jobs row is
     * claimed first under `product-video:<videoId>:<kind>` (submitProviderJobOnce), so a retried
     * or replayed submit finds the task instead of creating another. Freepik takes no idempotency
     * key: a crash between its answer and the row update can leave one orphan task, never used.
     */
    async submitFreepikTask(input: {
      videoId: string;
      workflowId: string;
      kind: FreepikTaskKind;
      imageUrl?: string;
    }): Promise<SubmittedProviderJob> {
      const video = await requireVideo(input.videoId);
      const product = await findProduct(db, video.product_data_id);
      if (!product) throw nonRetryable(`product ${video.product_data_id} not found`, FailureType.NotFound);
      const { imageUrl } = input;
      const create =
        input.kind === 'image'
          ? () => providers.freepik.createImageTask({ prompt: video.text_prompt, aspectRatio: video.aspect_ratio })
          : imageUrl
            ? () =>
                providers.freepik.createVideoTask({
                  imageUrl,
                  prompt: `Slow cinematic camera move around ${product.name ?? 'the product'}, product stays in focus`,
                  durationSeconds: video.duration_seconds,
                })
            : undefined;
      if (!create) throw nonRetryable('a video task needs the generated image', FailureType.InvalidInput);
      const job = await submitProviderJobOnce(
        db,
        {
          provider: FREEPIK_PROVIDER,
          idempotencyKey: `product-video:${input.videoId}:${input.kind}`,
          workflowId: input.workflowId,
          kind: input.kind,
        },
        create,
      );
      await updateProductVideo(
        db,
        input.videoId,
        input.kind === 'image' ? { freepikImageTaskId: job.jobId } : { freepikTaskId: job.jobId },
      );
      if (job.created) logger.info({ videoId: input.videoId, kind: input.kind, taskId: job.jobId }, 'freepik task created');
      return job;
    },

    async updateProductVideo(input: { videoId: string; change: ProductVideoChange }): Promise<void> {
      await updateProductVideo(db, input.videoId, input.change);
    },

    /**
     * The video is delivered: its credits are spent (committed), the row completed and
     * product_video.completed recorded (one per video), in one transaction.
     */
    async completeProductVideo(input: { videoId: string; videoUrl: string; fileSizeBytes: number }): Promise<{ creditsCharged: number }> {
      try {
        return await inTransactionWithEvents(deps, async (tx, emit) => {
          const reservation = await commitCreditReservation(tx, productVideoReservationId(input.videoId));
          await updateProductVideo(tx, input.videoId, {
            status: 'Completed',
            progress: 100,
            videoUrl: input.videoUrl,
            fileSizeBytes: input.fileSizeBytes,
            creditsState: 'committed',
            completed: true,
          });
          const video = await findProductVideo(tx, input.videoId);
          if (video?.status === 'Completed' && video.video_url)
            await emit({
              type: 'product_video.completed',
              userId: video.user_id,
              factKey: video.id,
              data: {
                videoId: video.id,
                productId: video.product_data_id,
                videoUrl: video.video_url,
                fileSizeBytes: video.file_size_bytes,
                durationSeconds: video.duration_seconds,
                aspectRatio: video.aspect_ratio,
                creditsCharged: reservation.amount,
                completedAt: isoOrNull(video.completed_at),
              },
            });
          return { creditsCharged: reservation.amount };
        });
      } catch (err) {
        throw creditFailure(err);
      }
    },

    /** The video failed: its reserved credits go back once (a second call finds them refunded) and the row says why. */
    async failProductVideo(input: { videoId: string; message: string }): Promise<{ refunded: boolean }> {
      const video = await requireVideo(input.videoId);
      return db.transaction().execute(async (tx) => {
        let refunded = false;
        if (video.credits_state === 'reserved' || video.credits_state === 'refunded') {
          const refund = await refundCreditReservation(
            tx,
            productVideoReservationId(input.videoId),
            `product video failed: ${input.message}`,
          );
          refunded = refund.applied;
        }
        await updateProductVideo(tx, input.videoId, {
          status: 'Failed',
          errorMessage: input.message,
          ...(video.credits_state === 'none' ? {} : { creditsState: 'refunded' as const }),
        });
        return { refunded };
      });
    },

    /** "Your video is ready" / "Your video failed", at most once per video, if the user wants it. */
    async notifyProductVideo(input: { videoId: string; outcome: 'completed' | 'failed' }): Promise<NotificationOutcome> {
      const video = await requireVideo(input.videoId);
      const product = await findProduct(db, video.product_data_id);
      const name = product?.name ?? 'your product';
      const kind = input.outcome === 'completed' ? 'video_completed' : 'video_failed';
      return notifyOnce(deps, {
        userId: video.user_id,
        kind,
        dedupeKey: `${kind}:${input.videoId}`,
        subject: input.outcome === 'completed' ? `Your video of ${name} is ready` : `Your video of ${name} could not be made`,
        lines:
          input.outcome === 'completed'
            ? [`Your ${video.duration_seconds}-second ${video.aspect_ratio} video of ${name} is ready.`, `Video id: ${input.videoId}`]
            : [
                `We could not make your video of ${name}: ${video.error_message ?? 'the generation failed'}.`,
                `The ${video.generation_cost_credits} credits it reserved are back in your balance.`,
              ],
      });
    },
  };
}

export type ProductActivities = ReturnType<typeof createProductActivities>;

export interface ProductMediaActivityDeps extends ActivityDeps {
  mediaStore: MediaStore;
  media?: MediaToolkit;
  tempRoot?: string;
}

/** Product media work on the media queue: image downloads with their checks, the video's overlay and storage. */
export function createProductMediaActivities(deps: ProductMediaActivityDeps) {
  const { db, logger, providers, mediaStore } = deps;
  const tempRoot = deps.tempRoot ?? tmpdir();
  let media = deps.media;
  const toolkit = () => (media ??= createMediaToolkit({ logger: logger.child({ component: 'media' }), tempRoot, metrics: deps.metrics }));

  async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tempRoot, 'product-'));
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    /**
     * Downloads and stores the product's images: each must be PNG, JPEG or WebP by its bytes and at
     * most 10 MB; one that is not is skipped (and named in `rejected`), not fatal. Rows are keyed
     * by position, so a retried activity rewrites them instead of adding more.
     */
    async storeProductImages(input: {
      productId: string;
      images: ScrapedProduct['images'];
    }): Promise<{ stored: number; rejected: Array<{ url: string; reason: string }> }> {
      const rejected: Array<{ url: string; reason: string }> = [];
      let stored = 0;
      await heartbeating(() =>
        inTempDir(async (dir) => {
          for (const image of input.images) {
            let body: Buffer;
            try {
              ({ body } = await providers.webPages.get(image.url, MAX_PRODUCT_IMAGE_BYTES, 'image/*'));
            } catch (err) {
              if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
              rejected.push({ url: image.url, reason: err.message });
              continue;
            }
            const info = readImageInfo(body);
            if (!info || info.width === 0 || info.height === 0) {
              rejected.push({ url: image.url, reason: 'not a PNG, JPEG or WebP image' });
              continue;
            }
            const file = join(dir, `${stored}.${info.extension}`);
            await writeFile(file, body);
            const saved = await mediaStore.put(`products/${input.productId}/${stored}.${info.extension}`, file, 'image');
            await upsertProductImage(db, {
              productId: input.productId,
              sortOrder: stored,
              sourceUrl: image.url,
              url: saved.url,
              storageKey: saved.key,
              contentType: info.type,
              altText: image.alt,
              width: info.width,
              height: info.height,
              fileSizeBytes: body.length,
            });
            stored += 1;
          }
        }),
      );
      if (rejected.length > 0) logger.warn({ productId: input.productId, rejected }, 'product images skipped');
      return { stored, rejected };
    },

    /**
     * Downloads Freepik's mp4, burns the caption (and price) in when asked, stores it under a key
     * of the video (storing again overwrites) and returns where it is.
     */
    async storeProductVideo(input: { videoId: string; sourceUrl: string }): Promise<{ url: string; bytes: number }> {
      const video = await findProductVideo(db, input.videoId);
      if (!video) throw nonRetryable(`product video ${input.videoId} not found`, FailureType.NotFound);
      return heartbeating(() =>
        inTempDir(async (dir) => {
          const { body } = await providers.webPages.get(input.sourceUrl, MAX_VIDEO_BYTES, 'video/mp4');
          const source = join(dir, 'freepik.mp4');
          await writeFile(source, body);
          let output = source;
          if (video.overlay_text) {
            const info = await toolkit().probe(source);
            const words = video.overlay_text.split(/\s+/).filter(Boolean);
            // The overlay stays on screen for the whole clip, its words spread evenly over it.
            const step = info.durationSeconds / words.length;
            output = join(dir, 'overlay.mp4');
            await toolkit().renderClip({
              input: source,
              output,
              aspectRatio: video.aspect_ratio,
              shortSide: Math.max(2, Math.min(info.width, info.height) - (Math.min(info.width, info.height) % 2)),
              captions: { words: words.map((text, i) => ({ text, start: i * step, end: (i + 1) * step })), style: 'bold' },
            });
          }
          const saved = await mediaStore.put(`product-videos/${input.videoId}.mp4`, output, 'video');
          return { url: saved.url, bytes: saved.bytes };
        }),
      );
    },
  };
}

export type ProductMediaActivities = ReturnType<typeof createProductMediaActivities>;
