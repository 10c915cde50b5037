import { z } from 'zod';
import { nonBlankText } from './common';

// ---- Vocabulary -----------------------------------------------------------------------------

export const SCRAPING_STATUSES = ['Pending', 'Scraping', 'Success', 'Failed'] as const;
export type ScrapingStatus = (typeof SCRAPING_STATUSES)[number];

/** Why a scrape failed, as stored in product_data.failure_reason. */
export const SCRAPE_FAILURE_REASONS = ['blocked_by_robots', 'not_a_product', 'timeout', 'fetch_failed'] as const;
export type ScrapeFailureReason = (typeof SCRAPE_FAILURE_REASONS)[number];

export const PRODUCT_VIDEO_STATUSES = ['Pending', 'GeneratingImage', 'GeneratingVideo', 'Completed', 'Failed'] as const;
export type ProductVideoStatus = (typeof PRODUCT_VIDEO_STATUSES)[number];

export const PRODUCT_VIDEO_ASPECT_RATIOS = ['9:16', '1:1', '16:9'] as const;
export type ProductVideoAspectRatio = (typeof PRODUCT_VIDEO_ASPECT_RATIOS)[number];

export const PRODUCT_VIDEO_DURATIONS = [5, 10] as const;
export type ProductVideoDuration = (typeof PRODUCT_VIDEO_DURATIONS)[number];

/** Credits one product video costs (generation_cost_credits): the image task plus the video task's seconds. */
export const PRODUCT_VIDEO_CREDITS: Record<ProductVideoDuration, number> = { 5: 10, 10: 20 };

// ---- API bodies -----------------------------------------------------------------------------

export const ScrapeProductBodySchema = z
  .object({ url: z.string().max(2048).describe('the product page, http(s) on a public address') })
  .strict()
  .meta({ id: 'ScrapeProductBody' });
export type ScrapeProductBody = z.infer<typeof ScrapeProductBodySchema>;

export const ProductStartedSchema = z
  .object({ productId: z.uuid(), runId: z.string(), statusUrl: z.string() })
  .meta({ id: 'ProductScrapeStarted' });

export const ProductImageSchema = z.object({
  url: z.string(),
  sourceUrl: z.string(),
  altText: z.string().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  contentType: z.string(),
  fileSizeBytes: z.number().int(),
  isPrimary: z.boolean(),
});

export const ProductSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    domain: z.string(),
    scrapingStatus: z.enum(SCRAPING_STATUSES),
    failureReason: z.enum(SCRAPE_FAILURE_REASONS).nullable(),
    error: z.string().nullable(),
    name: z.string().nullable(),
    description: z.string().nullable(),
    price: z.number().nullable(),
    currency: z.string().nullable(),
    brand: z.string().nullable(),
    sku: z.string().nullable(),
    availability: z.string().nullable(),
    images: z.array(ProductImageSchema),
    scrapedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Product' });
export type ProductView = z.infer<typeof ProductSchema>;

export const CreateProductVideoBodySchema = z
  .object({
    style: nonBlankText(100).optional().describe('a look for the AI image, e.g. "studio, soft light"'),
    durationSeconds: z.union([z.literal(5), z.literal(10)]),
    aspectRatio: z.enum(PRODUCT_VIDEO_ASPECT_RATIOS),
    caption: nonBlankText(80).optional().describe('text burned into the video (ffmpeg overlay)'),
    showPrice: z.boolean().default(false).describe('burn the scraped price into the video'),
  })
  .strict()
  .meta({ id: 'CreateProductVideoBody' });
export type CreateProductVideoBody = z.infer<typeof CreateProductVideoBodySchema>;

export const ProductVideoStartedSchema = z
  .object({ videoId: z.uuid(), runId: z.string(), statusUrl: z.string(), costCredits: z.number().int() })
  .meta({ id: 'ProductVideoStarted' });

export const ProductVideoSchema = z
  .object({
    id: z.uuid(),
    productId: z.uuid(),
    status: z.enum(PRODUCT_VIDEO_STATUSES),
    progress: z.number().int(),
    style: z.string().nullable(),
    aspectRatio: z.enum(PRODUCT_VIDEO_ASPECT_RATIOS),
    durationSeconds: z.number().int(),
    aiProvider: z.string(),
    imageUrl: z.string().nullable(),
    videoUrl: z.string().nullable(),
    fileSizeBytes: z.number().int().nullable(),
    generationCostCredits: z.number().int(),
    creditsState: z.enum(['none', 'reserved', 'committed', 'refunded']),
    error: z.string().nullable(),
    completedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'ProductVideo' });
export type ProductVideoView = z.infer<typeof ProductVideoSchema>;

// ---- Workflow inputs and results ------------------------------------------------------------

export interface ProductScrapeInput {
  userId: string;
  productId: string;
  /** The media worker's queue (image checks and storage). */
  mediaTaskQueue: string;
}

export interface ProductScrapeResult {
  productId: string;
  name: string;
  images: number;
}

/** What the scrape activity found on the page (small: image URLs, not bytes). */
export interface ScrapedProduct {
  name: string;
  description: string | null;
  price: number | null;
  currency: string | null;
  brand: string | null;
  sku: string | null;
  availability: string | null;
  images: Array<{ url: string; alt: string | null }>;
  /** Which readers found the fields: json-ld, open-graph, selectors. */
  sources: string[];
}

export interface ProductVideoInput {
  userId: string;
  videoId: string;
  productId: string;
  /** The media worker's queue (download, overlay, storage of the mp4). */
  mediaTaskQueue: string;
  /** How often the Freepik tasks are polled (the sandbox and tests use fast ones). */
  polling?: { initialMs: number; maxMs: number };
}

export interface ProductVideoResult {
  videoId: string;
  videoUrl: string;
  creditsCharged: number;
}
