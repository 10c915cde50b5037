import { readImageInfo } from '../../lib/image-info';
import { parsePrice, parseProductPage } from '../../lib/product-page';
import { solidPng } from '../../sandbox/png';

const page = (head: string, body = '') => `<!doctype html><html><head><title>Shop title</title>${head}</head><body>${body}</body></html>`;
const ld = (value: unknown) => `<script type="application/ld+json">${JSON.stringify(value)}</script>`;

describe('product page parser (cheerio: JSON-LD, Open Graph, selectors)', () => {
  it('reads a schema.org Product with its offer, brand object and image objects, resolving relative URLs', () => {
    const product = parseProductPage(
      page(
        ld({
          '@type': 'Product',
          name: 'Lamp',
          brand: { name: 'Lumen' },
          image: ['/a.png', { url: 'https://cdn.example/b.jpg' }, '/a.png'],
          offers: { price: '1,299.00', priceCurrency: 'usd', availability: 'https://schema.org/InStock' },
        }),
      ),
      'https://shop.example/p/lamp',
    );
    expect(product).toEqual({
      name: 'Lamp',
      description: null,
      price: 1299,
      currency: 'USD',
      brand: 'Lumen',
      sku: null,
      availability: 'InStock',
      images: [
        { url: 'https://shop.example/a.png', alt: 'Lamp' },
        { url: 'https://cdn.example/b.jpg', alt: 'Lamp' },
      ],
      sources: ['json-ld'],
    });
  });

  it('finds the Product inside @graph and skips a malformed JSON-LD block', () => {
    const product = parseProductPage(
      page(
        `<script type="application/ld+json">{not json</script>${ld({ '@graph': [{ '@type': 'WebSite' }, { '@type': ['Product'], name: 'Mug', offers: [{ lowPrice: 9 }] }] })}`,
      ),
      'https://shop.example/mug',
    );
    expect(product).toMatchObject({ name: 'Mug', price: 9 });
  });

  it('accepts Open Graph product tags alone, and lets custom selectors win', () => {
    const html = page(
      '<meta property="og:type" content="product"><meta property="og:title" content="Shoes"><meta property="product:price:amount" content="89.00"><meta property="product:price:currency" content="EUR"><meta property="og:image" content="https://cdn.example/s.png">',
      '<h1 class="t">Trail Shoes</h1><span class="p" data-value="79,50">79,50 €</span>',
    );
    expect(parseProductPage(html, 'https://shop.example/s')).toMatchObject({
      name: 'Shoes',
      price: 89,
      currency: 'EUR',
      sources: ['open-graph'],
    });
    expect(parseProductPage(html, 'https://shop.example/s', { name: 'h1.t', price: '.p' })).toMatchObject({
      name: 'Trail Shoes',
      price: 79.5,
      sources: ['open-graph', 'selectors'],
    });
  });

  it('says a page without Product JSON-LD, product OG tags or selector matches is not a product', () => {
    expect(
      parseProductPage(
        page('<meta property="og:type" content="website"><meta property="og:title" content="About">'),
        'https://shop.example/about',
      ),
    ).toBeUndefined();
    expect(parseProductPage(page(ld({ '@type': 'Article', name: 'News' })), 'https://shop.example/news')).toBeUndefined();
  });

  it('parses prices in the usual notations', () => {
    expect([parsePrice('€ 19,90'), parsePrice('1,299.00'), parsePrice(12), parsePrice('free'), parsePrice(undefined)]).toEqual([
      19.9,
      1299,
      12,
      null,
      null,
    ]);
  });

  it('tells PNG and JPEG (with their sizes) from bytes that only claim to be an image', () => {
    expect(readImageInfo(solidPng(120, 160, [1, 2, 3]))).toEqual({ type: 'image/png', extension: 'png', width: 120, height: 160 });
    // A baseline JPEG: SOI, APP0, DQT, then SOF0 with height 48 and width 64.
    const jpeg = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x4a, 0x46]),
      Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x30, 0x00, 0x40, 0x03]),
      Buffer.alloc(16),
    ]);
    expect(readImageInfo(jpeg)).toEqual({ type: 'image/jpeg', extension: 'jpg', width: 64, height: 48 });
    expect(readImageInfo(Buffer.from('<html>not an image</html>'))).toBeUndefined();
    expect(readImageInfo(solidPng(8, 8, [0, 0, 0]).subarray(0, 10))).toBeUndefined();
  });
});
