import { createSandboxServer, HttpError, type Route, type SandboxDefinition, type SandboxServer } from './http';
import { solidPng } from './png';

export interface ShopSandboxOptions {
  host?: string;
  port?: number;
  /** How long `/products/slow-blender` takes to answer (default 20 s: past the scraper's timeout). */
  slowPageMs?: number;
}

export interface ShopSandbox {
  url: string;
  server: SandboxServer;
  /** Paths of product pages, by slug (as linked from `/`). */
  pages: Record<string, string>;
  stop(): Promise<void>;
}

/** A 64×64 blue baseline JPEG (made once with ffmpeg), so the shop serves a real JPEG without an encoder. */
const BLUE_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU4LjQyLjEwMAD/2wBDAAgQEBMQExYWFhYWFhoYGhsbGxoaGhobGxsdHR0iIiIdHR0bGx0dICAiIiUmJSMjIiMmJigoKDAwLi44ODpFRVP/xABMAAEBAAAAAAAAAAAAAAAAAAAABQEBAQAAAAAAAAAAAAAAAAAAAAYQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCABAAEADASIAAhEAAxEA/9oADAMBAAIRAxEAPwCCAu06AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA//2Q==',
  'base64',
);

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const page = (title: string, head: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${head}</head><body>${body}</body></html>`;

const jsonLd = (value: unknown) => `<script type="application/ld+json">${JSON.stringify(value)}</script>`;

const og = (tags: Record<string, string | string[]>) =>
  Object.entries(tags)
    .flatMap(([property, values]) =>
      (Array.isArray(values) ? values : [values]).map((v) => `<meta property="${property}" content="${escapeHtml(v)}">`),
    )
    .join('');

/**
 * A small web shop for product scrapes: `/` links every product page; pages carry schema.org
 * Product JSON-LD and/or Open Graph product tags; `robots.txt` disallows `/private/`; one page
 * answers slowly, one is not a product, images are real PNG and JPEG files (one "image" is HTML).
 */
export async function startShopSandbox(options: ShopSandboxOptions = {}): Promise<ShopSandbox> {
  const slowPageMs = options.slowPageMs ?? 20_000;
  const pages: Record<string, string> = {
    'aurora-desk-lamp': '/products/aurora-desk-lamp',
    'trail-runner-shoes': '/products/trail-runner-shoes',
    'ceramic-pour-over': '/products/ceramic-pour-over',
    'limited-edition-watch': '/private/limited-edition-watch',
    'slow-blender': '/products/slow-blender',
    'about-us': '/about',
    'broken-image-mug': '/products/broken-image-mug',
  };

  const lamp = page(
    'Aurora Desk Lamp | Lumen & Co',
    jsonLd({
      '@context': 'https://schema.org',
      '@type': 'Product',
      name: 'Aurora Desk Lamp',
      description: 'A dimmable LED desk lamp with a brushed aluminium arm and warm-to-cool light.',
      sku: 'AUR-100',
      brand: { '@type': 'Brand', name: 'Lumen & Co' },
      image: ['/images/aurora-front.png', { '@type': 'ImageObject', url: '/images/aurora-side.jpg' }],
      offers: { '@type': 'Offer', price: '49.90', priceCurrency: 'EUR', availability: 'https://schema.org/InStock' },
    }) + og({ 'og:type': 'product', 'og:title': 'Aurora Desk Lamp', 'og:image': '/images/aurora-front.png' }),
    '<h1 class="product-title">Aurora Desk Lamp</h1><p class="price">€49.90</p><img src="/images/aurora-front.png" alt="Aurora Desk Lamp">',
  );
  const shoes = page(
    'Trail Runner Shoes',
    og({
      'og:type': 'product',
      'og:title': 'Trail Runner Shoes',
      'og:description': 'Light trail shoes with a grippy sole.',
      'og:image': ['/images/shoes.png'],
      'product:price:amount': '89.00',
      'product:price:currency': 'USD',
      'product:brand': 'Ridgeway',
    }),
    '<h1>Trail Runner Shoes</h1>',
  );
  const pourOver = page(
    'Ceramic Pour-Over',
    jsonLd({
      '@context': 'https://schema.org',
      '@graph': [
        { '@type': 'WebSite', name: 'Lumen & Co' },
        {
          '@type': ['Product'],
          name: 'Ceramic Pour-Over',
          offers: [{ '@type': 'AggregateOffer', lowPrice: 24, priceCurrency: 'EUR' }],
          image: '/images/pour-over.png',
        },
      ],
    }),
    // Custom selectors (scraping_rules) read the shop's own markup.
    '<h1 data-test="title">Ceramic Pour-Over, Sand Glaze</h1><span class="sale-price" data-value="19,90">19,90 €</span>',
  );
  const watch = page(
    'Limited Edition Watch',
    jsonLd({
      '@context': 'https://schema.org',
      '@type': 'Product',
      name: 'Limited Edition Watch',
      offers: { price: 999, priceCurrency: 'EUR' },
    }),
    '<h1>Limited Edition Watch</h1>',
  );
  const about = page('About us', og({ 'og:type': 'website', 'og:title': 'About Lumen & Co' }), '<h1>About us</h1><p>We make lamps.</p>');
  const mug = page(
    'Broken Image Mug',
    jsonLd({ '@context': 'https://schema.org', '@type': 'Product', name: 'Mug', image: '/images/not-really.png', offers: { price: 12 } }),
    '<h1>Mug</h1>',
  );
  const html = (body: string) => ({ headers: { 'content-type': 'text/html; charset=utf-8' }, text: body });

  const images: Record<string, { type: string; body: Buffer }> = {
    'aurora-front.png': { type: 'image/png', body: solidPng(120, 160, [240, 200, 80]) },
    'aurora-side.jpg': { type: 'image/jpeg', body: BLUE_JPEG },
    'shoes.png': { type: 'image/png', body: solidPng(160, 120, [200, 60, 60]) },
    'pour-over.png': { type: 'image/png', body: solidPng(100, 100, [220, 210, 190]) },
    // An "image" whose bytes are a web page: the scraper's type check must refuse it.
    'not-really.png': { type: 'image/png', body: Buffer.from('<html>not an image</html>') },
  };

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/',
      handle: () =>
        html(
          page(
            'Lumen & Co',
            '',
            `<ul>${Object.entries(pages)
              .map(([slug, path]) => `<li><a href="${path}">${slug}</a></li>`)
              .join('')}</ul>`,
          ),
        ),
    },
    { method: 'GET', path: '/robots.txt', handle: () => ({ text: 'User-agent: *\nDisallow: /private/\n' }) },
    { method: 'GET', path: '/products/aurora-desk-lamp', handle: () => html(lamp) },
    { method: 'GET', path: '/products/trail-runner-shoes', handle: () => html(shoes) },
    { method: 'GET', path: '/products/ceramic-pour-over', handle: () => html(pourOver) },
    { method: 'GET', path: '/products/broken-image-mug', handle: () => html(mug) },
    { method: 'GET', path: '/private/limited-edition-watch', handle: () => html(watch) },
    { method: 'GET', path: '/about', handle: () => html(about) },
    {
      method: 'GET',
      path: '/products/slow-blender',
      handle: async () => {
        await new Promise((resolve) => setTimeout(resolve, slowPageMs));
        return html(page('Slow Blender', jsonLd({ '@type': 'Product', name: 'Slow Blender' }), '<h1>Slow Blender</h1>'));
      },
    },
    {
      method: 'GET',
      path: '/images/:name',
      handle: (req) => {
        const image = images[req.params.name!];
        if (!image) throw new HttpError(404, 'no such image');
        return { headers: { 'content-type': image.type }, text: image.body };
      },
    },
  ];

  const server = await createSandboxServer({ name: 'shop', routes, host: options.host, port: options.port });
  return { url: server.url, server, pages, stop: () => server.stop() };
}

/** A demo shop to scrape; started whenever the platform runs outside production. */
export const shopSandbox: SandboxDefinition = {
  name: 'shop',
  enabled: (config) => config.NODE_ENV !== 'production',
  start: () => startShopSandbox(),
};
