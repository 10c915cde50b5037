import * as cheerio from 'cheerio';
import type { ScrapedProduct } from '../schemas/products';

/** Fields a domain's scraping_rules.selectors may override with a CSS selector. */
export const SELECTOR_FIELDS = ['name', 'description', 'price', 'currency', 'brand', 'sku', 'image'] as const;
export type ProductSelectors = Partial<Record<(typeof SELECTOR_FIELDS)[number], string>>;

/** The most product images a scrape keeps. */
export const MAX_PRODUCT_IMAGES = 5;

type Bag = Record<string, unknown>;
const isBag = (v: unknown): v is Bag => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const text = (v: unknown): string | null => {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') return null;
  const trimmed = v.replace(/\s+/g, ' ').trim();
  return trimmed === '' ? null : trimmed;
};

/** A price as a number: "1,299.00", "€ 19,90" and 19.9 alike; null when there is none. */
export function parsePrice(v: unknown): number | null {
  const raw = text(v);
  if (!raw) return null;
  const digits = raw.replace(/[^\d.,]/g, '');
  // A comma followed by exactly two digits at the end is a decimal comma (19,90).
  const normalised = /,\d{2}$/.test(digits) && !digits.includes('.') ? digits.replace(',', '.') : digits.replace(/,/g, '');
  const value = Number.parseFloat(normalised);
  return Number.isFinite(value) && value >= 0 ? Math.round(value * 100) / 100 : null;
}

const isProductType = (type: unknown): boolean => asArray(type).some((t) => typeof t === 'string' && /(^|\/)Product$/.test(t));

/** Every JSON-LD node of the page, including those inside arrays and @graph. */
function jsonLdNodes($: cheerio.CheerioAPI): Bag[] {
  const nodes: Bag[] = [];
  const visit = (value: unknown) => {
    for (const item of asArray(value)) {
      if (!isBag(item)) continue;
      nodes.push(item);
      if (item['@graph'] !== undefined) visit(item['@graph']);
    }
  };
  $('script[type="application/ld+json"]').each((_, el) => {
    try {
      visit(JSON.parse($(el).text()));
    } catch {
      /* a malformed block is skipped: the others (and Open Graph) may still describe the product */
    }
  });
  return nodes;
}

function imageUrls(value: unknown): string[] {
  return asArray(value)
    .map((v) => (isBag(v) ? (text(v.url) ?? text(v.contentUrl)) : text(v)))
    .filter((v): v is string => v !== null);
}

function fromJsonLd(node: Bag): Partial<ScrapedProduct> {
  const offers = asArray(node.offers).filter(isBag);
  const offer = offers[0];
  const brand = isBag(node.brand) ? text(node.brand.name) : text(node.brand);
  const availability = text(offer?.availability);
  return {
    name: text(node.name) ?? undefined,
    description: text(node.description),
    price: parsePrice(offer?.price ?? offer?.lowPrice),
    currency: text(offer?.priceCurrency),
    brand,
    sku: text(node.sku),
    availability: availability ? availability.replace(/^https?:\/\/schema\.org\//, '') : null,
    images: imageUrls(node.image).map((url) => ({ url, alt: text(node.name) })),
  };
}

function fromOpenGraph($: cheerio.CheerioAPI): { isProduct: boolean; fields: Partial<ScrapedProduct> } {
  const meta = (name: string) => text($(`meta[property="${name}"], meta[name="${name}"]`).first().attr('content'));
  const type = meta('og:type');
  const price = parsePrice(meta('product:price:amount') ?? meta('og:price:amount'));
  const images: Array<{ url: string; alt: string | null }> = [];
  $('meta[property="og:image"], meta[property="og:image:url"]').each((_, el) => {
    const url = text($(el).attr('content'));
    if (url) images.push({ url, alt: meta('og:image:alt') });
  });
  return {
    isProduct: (type !== null && /^product/i.test(type)) || price !== null,
    fields: {
      name: meta('og:title') ?? undefined,
      description: meta('og:description'),
      price,
      currency: meta('product:price:currency') ?? meta('og:price:currency'),
      brand: meta('product:brand') ?? meta('og:brand'),
      availability: meta('product:availability') ?? meta('og:availability'),
      images,
    },
  };
}

function fromSelectors($: cheerio.CheerioAPI, selectors: ProductSelectors): Partial<ScrapedProduct> {
  const read = (selector: string | undefined): string | null => {
    if (!selector) return null;
    const el = $(selector).first();
    if (el.length === 0) return null;
    return text(el.attr('content') ?? el.attr('data-value') ?? el.text());
  };
  const fields: Partial<ScrapedProduct> = {};
  const name = read(selectors.name);
  if (name) fields.name = name;
  const description = read(selectors.description);
  if (description) fields.description = description;
  const price = parsePrice(read(selectors.price));
  if (price !== null) fields.price = price;
  const currency = read(selectors.currency);
  if (currency) fields.currency = currency;
  const brand = read(selectors.brand);
  if (brand) fields.brand = brand;
  const sku = read(selectors.sku);
  if (sku) fields.sku = sku;
  if (selectors.image) {
    const images = $(selectors.image)
      .toArray()
      .map((el) => ({ url: text($(el).attr('src') ?? $(el).attr('content') ?? $(el).attr('href')), alt: text($(el).attr('alt')) }))
      .filter((i): i is { url: string; alt: string | null } => i.url !== null);
    if (images.length > 0) fields.images = images;
  }
  return fields;
}

/** Absolute http(s) image URLs, without repeats, at most MAX_PRODUCT_IMAGES. */
function resolveImages(images: Array<{ url: string; alt: string | null }>, pageUrl: string): ScrapedProduct['images'] {
  const seen = new Set<string>();
  const kept: ScrapedProduct['images'] = [];
  for (const image of images) {
    let url: URL;
    try {
      url = new URL(image.url, pageUrl);
    } catch {
      continue;
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || seen.has(url.href)) continue;
    seen.add(url.href);
    kept.push({ url: url.href, alt: image.alt });
    if (kept.length === MAX_PRODUCT_IMAGES) break;
  }
  return kept;
}

/**
 * Reads a product from a page: schema.org Product JSON-LD first, Open Graph product tags to fill
 * gaps, then the domain's custom selectors, which win where they match. Undefined when the page
 * describes no product (no Product node, no product OG type or price, no selector-found name and price).
 */
export function parseProductPage(html: string, pageUrl: string, selectors: ProductSelectors = {}): ScrapedProduct | undefined {
  const $ = cheerio.load(html);
  const productNode = jsonLdNodes($).find((node) => isProductType(node['@type']));
  const ld = productNode ? fromJsonLd(productNode) : {};
  const og = fromOpenGraph($);
  const custom = fromSelectors($, selectors);
  const sources = [productNode ? 'json-ld' : null, og.isProduct ? 'open-graph' : null, Object.keys(custom).length > 0 ? 'selectors' : null];
  const customIsProduct = custom.name !== undefined && custom.price !== undefined;
  if (!productNode && !og.isProduct && !customIsProduct) return undefined;
  const pick = <K extends keyof ScrapedProduct>(key: K): ScrapedProduct[K] | null => custom[key] ?? ld[key] ?? og.fields[key] ?? null;
  const name = pick('name') ?? text($('title').first().text());
  if (!name) return undefined;
  return {
    name: name.slice(0, 500),
    description: pick('description'),
    price: pick('price'),
    currency: pick('currency')?.slice(0, 3).toUpperCase() ?? null,
    brand: pick('brand'),
    sku: pick('sku'),
    availability: pick('availability'),
    images: resolveImages([...(custom.images ?? []), ...(ld.images ?? []), ...(og.fields.images ?? [])], pageUrl),
    sources: sources.filter((s): s is string => s !== null),
  };
}

/** The prompt of the product still: the product, its look, framed for an ad. */
export function stillPrompt(
  product: { name: string | null; description: string | null; brand: string | null },
  style: string | null,
): string {
  const parts = [
    `Product advertisement photo of ${product.name ?? 'the product'}${product.brand ? ` by ${product.brand}` : ''}`,
    product.description ? product.description.slice(0, 300) : null,
    style ? `Style: ${style}` : 'Style: clean studio background, soft light',
  ];
  return parts.filter(Boolean).join('. ');
}
