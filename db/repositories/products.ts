import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { ProductVideoStatus, ScrapeFailureReason } from '../types';

// ---- scraping rules and the per-domain pace ---------------------------------------------------

export interface ScrapingRule {
  domain: string;
  selectors: Record<string, string>;
  headers: Record<string, string>;
  delayMs: number;
}

/** The active rule of a domain (`host` or `host:port`), or undefined. */
export async function findScrapingRule(db: DbOrTx, domain: string): Promise<ScrapingRule | undefined> {
  const row = await db
    .selectFrom('scraping_rules')
    .select(['domain', 'selectors', 'headers', 'delay_ms'])
    .where('domain', '=', domain)
    .where('is_active', '=', true)
    .executeTakeFirst();
  return row && { domain: row.domain, selectors: row.selectors, headers: row.headers ?? {}, delayMs: row.delay_ms };
}

export async function upsertScrapingRule(
  db: DbOrTx,
  rule: { domain: string; platform?: string; selectors?: Record<string, string>; headers?: Record<string, string>; delayMs?: number },
): Promise<void> {
  const values = {
    domain: rule.domain,
    platform: rule.platform ?? 'generic',
    selectors: JSON.stringify(rule.selectors ?? {}),
    headers: rule.headers ? JSON.stringify(rule.headers) : null,
    delay_ms: rule.delayMs ?? 1000,
  };
  await db
    .insertInto('scraping_rules')
    .values(values)
    .onConflict((oc) => oc.column('domain').doUpdateSet(values))
    .execute();
}

/**
 * Reserves the next request slot of a domain for whichever worker asks: the slot is the later of
 * now and the domain's next-allowed instant, which moves `delayMs` past it in the same statement,
 * so concurrent requests from any number of workers are spaced at least `delayMs` apart.
 * Returns the instant this request may go out.
 */
export async function takeDomainSlot(db: DbOrTx, domain: string, delayMs: number): Promise<Date> {
  const delay = sql`make_interval(secs => ${delayMs / 1000})`;
  const row = await sql<{ slot_at: Date }>`
    insert into scrape_domain_slots as s (domain, next_allowed_at) values (${domain}, now() + ${delay})
    on conflict (domain) do update set next_allowed_at = greatest(s.next_allowed_at, now()) + ${delay}
    returning next_allowed_at - ${delay} as slot_at`.execute(db);
  return row.rows[0]!.slot_at;
}

// ---- products -------------------------------------------------------------------------------

export async function createProduct(db: DbOrTx, input: { userId: string; url: string; domain: string }) {
  return db
    .insertInto('product_data')
    .values({ user_id: input.userId, original_url: input.url, domain: input.domain })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findProduct(db: DbOrTx, productId: string) {
  return db.selectFrom('product_data').selectAll().where('id', '=', productId).executeTakeFirst();
}

export async function findUserProduct(db: DbOrTx, userId: string, productId: string) {
  return db.selectFrom('product_data').selectAll().where('id', '=', productId).where('user_id', '=', userId).executeTakeFirst();
}

export async function markProductScraping(db: DbOrTx, productId: string): Promise<void> {
  await db
    .updateTable('product_data')
    .set({ scraping_status: 'Scraping' })
    .where('id', '=', productId)
    .where('scraping_status', '=', 'Pending')
    .execute();
}

export interface ScrapedFields {
  name: string;
  description: string | null;
  price: number | null;
  currency: string | null;
  brand: string | null;
  sku: string | null;
  availability: string | null;
  platform: string;
  metadata: Record<string, unknown>;
}

/** Writes what the page said (the same values again on a retried activity). */
export async function saveScrapedFields(db: DbOrTx, productId: string, fields: ScrapedFields): Promise<void> {
  await db
    .updateTable('product_data')
    .set({
      name: fields.name,
      description: fields.description,
      price: fields.price === null ? null : fields.price.toFixed(2),
      currency: fields.currency,
      brand: fields.brand?.slice(0, 200) ?? null,
      sku: fields.sku?.slice(0, 100) ?? null,
      availability: fields.availability?.slice(0, 100) ?? null,
      platform: fields.platform,
      metadata: JSON.stringify(fields.metadata),
    })
    .where('id', '=', productId)
    .execute();
}

export async function finishProductScrape(db: DbOrTx, productId: string): Promise<void> {
  const primary = await db
    .selectFrom('product_images')
    .select('url')
    .where('product_data_id', '=', productId)
    .orderBy('sort_order')
    .executeTakeFirst();
  await db
    .updateTable('product_data')
    .set({
      scraping_status: 'Success',
      failure_reason: null,
      error_message: null,
      main_image_url: primary?.url ?? null,
      scraped_at: sql<Date>`coalesce(scraped_at, now())`,
    })
    .where('id', '=', productId)
    .execute();
}

export async function failProductScrape(db: DbOrTx, productId: string, reason: ScrapeFailureReason, message: string): Promise<void> {
  await db
    .updateTable('product_data')
    .set({ scraping_status: 'Failed', failure_reason: reason, error_message: message.slice(0, 1000) })
    .where('id', '=', productId)
    .execute();
}

export interface NewProductImage {
  productId: string;
  sortOrder: number;
  sourceUrl: string;
  url: string;
  storageKey: string;
  contentType: string;
  altText: string | null;
  width: number | null;
  height: number | null;
  fileSizeBytes: number;
}

/** One row per product and position: a retried download replaces the row rather than adding one. */
export async function upsertProductImage(db: DbOrTx, image: NewProductImage): Promise<void> {
  const values = {
    product_data_id: image.productId,
    sort_order: image.sortOrder,
    source_url: image.sourceUrl,
    url: image.url,
    storage_key: image.storageKey,
    content_type: image.contentType,
    alt_text: image.altText?.slice(0, 500) ?? null,
    width: image.width,
    height: image.height,
    file_size_bytes: image.fileSizeBytes,
    is_primary: image.sortOrder === 0,
  };
  await db
    .insertInto('product_images')
    .values(values)
    .onConflict((oc) => oc.columns(['product_data_id', 'sort_order']).doUpdateSet(values))
    .execute();
}

export async function productImages(db: DbOrTx, productId: string) {
  return db.selectFrom('product_images').selectAll().where('product_data_id', '=', productId).orderBy('sort_order').execute();
}

// ---- product videos -------------------------------------------------------------------------

export async function createProductVideo(
  db: DbOrTx,
  input: {
    userId: string;
    productId: string;
    style: string | null;
    aspectRatio: '9:16' | '1:1' | '16:9';
    durationSeconds: 5 | 10;
    textPrompt: string;
    overlayText: string | null;
    costCredits: number;
  },
) {
  return db
    .insertInto('product_videos')
    .values({
      user_id: input.userId,
      product_data_id: input.productId,
      style: input.style,
      aspect_ratio: input.aspectRatio,
      duration_seconds: input.durationSeconds,
      text_prompt: input.textPrompt,
      overlay_text: input.overlayText,
      generation_cost_credits: input.costCredits,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findProductVideo(db: DbOrTx, videoId: string) {
  return db.selectFrom('product_videos').selectAll().where('id', '=', videoId).executeTakeFirst();
}

export async function findUserProductVideo(db: DbOrTx, userId: string, videoId: string) {
  return db.selectFrom('product_videos').selectAll().where('id', '=', videoId).where('user_id', '=', userId).executeTakeFirst();
}

/** Product videos of a user since `since` that count against the plan (failed ones do not). */
export async function countProductVideosSince(db: DbOrTx, userId: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('product_videos')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('created_at', '>=', since)
    .where('status', '!=', 'Failed')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface ProductVideoChange {
  status?: ProductVideoStatus;
  progress?: number;
  freepikImageTaskId?: string;
  freepikTaskId?: string;
  imageUrl?: string;
  videoUrl?: string;
  fileSizeBytes?: number;
  creditsState?: 'reserved' | 'committed' | 'refunded';
  errorMessage?: string;
  completed?: boolean;
}

/** Applies a change to a video row; progress never moves backwards, a finished row keeps its status. */
export async function updateProductVideo(db: DbOrTx, videoId: string, change: ProductVideoChange): Promise<void> {
  await db
    .updateTable('product_videos')
    .set((eb) => ({
      ...(change.status !== undefined
        ? {
            status: sql<ProductVideoStatus>`case when ${eb.ref('status')} in ('Completed', 'Failed') then ${eb.ref('status')} else ${change.status} end`,
          }
        : {}),
      ...(change.progress !== undefined ? { progress: sql<number>`greatest(${eb.ref('progress')}, ${Math.round(change.progress)})` } : {}),
      ...(change.freepikImageTaskId !== undefined ? { freepik_image_task_id: change.freepikImageTaskId } : {}),
      ...(change.freepikTaskId !== undefined ? { freepik_task_id: change.freepikTaskId } : {}),
      ...(change.imageUrl !== undefined ? { image_url: change.imageUrl } : {}),
      ...(change.videoUrl !== undefined ? { video_url: change.videoUrl } : {}),
      ...(change.fileSizeBytes !== undefined ? { file_size_bytes: change.fileSizeBytes } : {}),
      ...(change.creditsState !== undefined ? { credits_state: change.creditsState } : {}),
      ...(change.errorMessage !== undefined ? { error_message: change.errorMessage.slice(0, 2000) } : {}),
      ...(change.completed ? { completed_at: sql<Date>`coalesce(${eb.ref('completed_at')}, now())` } : {}),
    }))
    .where('id', '=', videoId)
    .execute();
}
