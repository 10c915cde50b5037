import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { getCreditBalance } from '../../db/repositories/credits';
import { getPlanForUser } from '../../db/repositories/plans';
import {
  countProductVideosSince,
  createProduct,
  createProductVideo,
  findUserProduct,
  findUserProductVideo,
  productImages,
} from '../../db/repositories/products';
import { stillPrompt } from '../../lib/product-page';
import { assertSafeUrl, UnsafeUrlError, urlGuardOptions } from '../../lib/ssrf';
import { IdempotencyKeyHeaderSchema, UuidParamSchema } from '../../schemas/common';
import {
  CreateProductVideoBodySchema,
  PRODUCT_VIDEO_CREDITS,
  ProductSchema,
  ProductStartedSchema,
  ProductVideoSchema,
  ProductVideoStartedSchema,
  ScrapeProductBodySchema,
  type ProductView,
  type ProductVideoView,
} from '../../schemas/products';
import { productScrapeRun, productScrapeWorkflowId } from '../../workflows/product-scrape/contract';
import { productVideoRun, productVideoWorkflowId } from '../../workflows/product-video/contract';
import { caller, requireScope } from '../auth';
import { isoOrNull } from '../dates';
import { sandboxUrlsOf, type ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';

const unprocessable = (field: string, message: string) =>
  new HttpProblem(422, 'validation', 'Validation failed', `${field}: ${message}`, { errors: [{ field, message }] });

const startOfMonthUtc = (now = new Date()): Date => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));

type ProductRow = NonNullable<Awaited<ReturnType<typeof findUserProduct>>>;
type ImageRow = Awaited<ReturnType<typeof productImages>>[number];
type VideoRow = NonNullable<Awaited<ReturnType<typeof findUserProductVideo>>>;

function productView(row: ProductRow, images: ImageRow[]): ProductView {
  return {
    id: row.id,
    url: row.original_url,
    domain: row.domain,
    scrapingStatus: row.scraping_status,
    failureReason: row.failure_reason,
    error: row.error_message,
    name: row.name,
    description: row.description,
    price: row.price === null ? null : Number(row.price),
    currency: row.currency,
    brand: row.brand,
    sku: row.sku,
    availability: row.availability,
    images: images.map((i) => ({
      url: i.url,
      sourceUrl: i.source_url,
      altText: i.alt_text,
      width: i.width,
      height: i.height,
      contentType: i.content_type,
      fileSizeBytes: i.file_size_bytes,
      isPrimary: i.is_primary,
    })),
    scrapedAt: isoOrNull(row.scraped_at),
    createdAt: row.created_at.toISOString(),
  };
}

function videoView(row: VideoRow): ProductVideoView {
  return {
    id: row.id,
    productId: row.product_data_id,
    status: row.status,
    progress: row.progress,
    style: row.style,
    aspectRatio: row.aspect_ratio,
    durationSeconds: row.duration_seconds,
    aiProvider: row.ai_provider,
    imageUrl: row.image_url,
    videoUrl: row.video_url,
    fileSizeBytes: row.file_size_bytes,
    generationCostCredits: row.generation_cost_credits,
    creditsState: row.credits_state,
    error: row.error_message,
    completedAt: isoOrNull(row.completed_at),
    createdAt: row.created_at.toISOString(),
  };
}

/** The price as the overlay shows it, e.g. "49.90 EUR". */
const priceText = (product: ProductRow): string | null =>
  product.price === null ? null : `${Number(product.price).toFixed(2)}${product.currency ? ` ${product.currency}` : ''}`;

/**
 * EcomVideo AI: `POST /v1/products` scrapes a product page (`product-scrape:<productId>`),
 * `POST /v1/products/:id/videos` makes a Freepik product video of it (`product-video:<videoId>`).
 * Videos are read at `/v1/product-videos/:id` (ClipFlow's `/v1/videos/:id` is another table).
 */
function router(deps: ApiDeps): Router {
  const r = Router();
  // Local sandboxes (the demo shop) are reachable like public sites outside production, as for the worker.
  const guard = () =>
    urlGuardOptions(
      deps.config,
      Object.values(sandboxUrlsOf(deps)).map((url) => new URL(url).host),
    );

  r.post('/v1/products', requireScope('runs:write'), async (req, res) => {
    const body = ScrapeProductBodySchema.parse(req.body ?? {});
    let url: URL;
    try {
      url = await assertSafeUrl(body.url, guard());
    } catch (err) {
      if (err instanceof UnsafeUrlError) throw unprocessable('url', err.message);
      throw err;
    }
    const { userId } = caller(res);
    await sendIdempotent(deps.db, req, res, userId, async () => {
      const product = await createProduct(deps.db, { userId, url: url.href, domain: url.host.toLowerCase() });
      const { runId } = await startRun(deps, productScrapeRun, {
        workflowId: productScrapeWorkflowId(product.id),
        args: [{ userId, productId: product.id, mediaTaskQueue: deps.taskQueues.media }],
        input: body,
      });
      return { status: 202, body: { productId: product.id, ...runStartedBody(runId) } };
    });
  });

  r.get('/v1/products/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const product = await findUserProduct(deps.db, caller(res).userId, id);
    if (!product) throw notFound('product');
    res.json(productView(product, await productImages(deps.db, id)));
  });

  r.post('/v1/products/:id/videos', requireScope('runs:write'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const body = CreateProductVideoBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const product = await findUserProduct(deps.db, userId, id);
    if (!product) throw notFound('product');
    if (product.scraping_status !== 'Success')
      throw new HttpProblem(409, 'product-not-scraped', 'Product Not Scraped', `the product's scrape is ${product.scraping_status}`, {
        scrapingStatus: product.scraping_status,
        failureReason: product.failure_reason,
      });
    const cost = PRODUCT_VIDEO_CREDITS[body.durationSeconds];
    await sendIdempotent(deps.db, req, res, userId, async () => {
      // Checked up front so a refused video starts nothing; the run's reservation is the authoritative check.
      const plan = await getPlanForUser(deps.db, userId);
      const limit = plan ? plan.features.videoLimit : 0;
      const since = startOfMonthUtc();
      if (limit !== null && (await countProductVideosSince(deps.db, userId, since)) >= limit)
        throw new HttpProblem(402, 'video-limit-reached', 'Video Limit Reached', `your plan allows ${limit} videos a month`, {
          limit,
          resetsAt: new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth() + 1, 1)).toISOString(),
        });
      const { balance } = await getCreditBalance(deps.db, userId);
      if (balance < cost)
        throw new HttpProblem(
          402,
          'insufficient-credits',
          'Insufficient Credits',
          `this video costs ${cost} credits; your balance is ${balance}`,
          {
            balance,
            required: cost,
          },
        );
      const overlay = [body.caption, body.showPrice ? priceText(product) : null].filter((t): t is string => !!t).join(' ');
      const video = await createProductVideo(deps.db, {
        userId,
        productId: id,
        style: body.style ?? null,
        aspectRatio: body.aspectRatio,
        durationSeconds: body.durationSeconds,
        textPrompt: stillPrompt(product, body.style ?? null).slice(0, 2000),
        overlayText: overlay === '' ? null : overlay.slice(0, 200),
        costCredits: cost,
      });
      const { runId } = await startRun(deps, productVideoRun, {
        workflowId: productVideoWorkflowId(video.id),
        args: [
          {
            userId,
            videoId: video.id,
            productId: id,
            mediaTaskQueue: deps.taskQueues.media,
            polling: { initialMs: deps.config.FREEPIK_POLL_INITIAL_MS, maxMs: deps.config.FREEPIK_POLL_MAX_MS },
          },
        ],
        input: body,
      });
      return { status: 202, body: { videoId: video.id, costCredits: cost, ...runStartedBody(runId) } };
    });
  });

  r.get('/v1/product-videos/:id', requireScope('runs:read'), async (req, res) => {
    const { id } = UuidParamSchema.parse(req.params);
    const video = await findUserProductVideo(deps.db, caller(res).userId, id);
    if (!video) throw notFound('product video');
    res.json(videoView(video));
  });
  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/products',
    tags: ['Jobs'],
    summary: 'Scrape a product page (JSON-LD, Open Graph, per-domain selectors) and store its images',
    description:
      "Starts `product-scrape:<productId>`. The URL must be http(s) on a public address (422 naming `url` otherwise). The scrape honours robots.txt and the domain's pace; it ends `Success`, or `Failed` with `failureReason` blocked_by_robots, not_a_product, timeout or fetch_failed.",
    security: bearer(),
    request: {
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: ScrapeProductBodySchema } } },
    },
    responses: { '202': json(ProductStartedSchema, 'Scrape started'), ...problems(400, 401, 403, 409, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/products/{id}',
    tags: ['Products'],
    summary: 'A scraped product with its stored images',
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '200': json(ProductSchema, 'The product'), ...problems(400, 401, 403, 404, 429) },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/products/{id}/videos',
    tags: ['Jobs'],
    summary: 'Make a product video with Freepik (AI still → image-to-video), optional caption/price overlay',
    description:
      "Starts `product-video:<videoId>`: reserves the credits (5 s: 10, 10 s: 20), runs a Freepik image task then an image-to-video task, burns the overlay with ffmpeg, stores the mp4 and commits the credits; a failure refunds them once. 402 when the plan's monthly video limit is reached or the balance is short; 409 when the product was not scraped successfully.",
    security: bearer(),
    request: {
      params: UuidParamSchema,
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: CreateProductVideoBodySchema } } },
    },
    responses: { '202': json(ProductVideoStartedSchema, 'Video started'), ...problems(400, 401, 402, 403, 404, 409, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/product-videos/{id}',
    tags: ['Products'],
    summary: 'A product video: Pending → GeneratingImage → GeneratingVideo → Completed / Failed',
    security: bearer(),
    request: { params: UuidParamSchema },
    responses: { '200': json(ProductVideoSchema, 'The video'), ...problems(400, 401, 403, 404, 429) },
  });
}

export const productRoutes: RouteModule = { router, document };
