// #/products: scrape a product page, then make a product video of it.
import { call, onSubmit, startRun } from '../api.js';
import { el, field, form, image, money, options, player, section, trackRun } from '../ui.js';

function videoForm(product, run, result) {
  const make = form(
    'product-video',
    [
      field(
        'Length',
        'select',
        { name: 'durationSeconds' },
        options(
          [
            ['5', '5 s (10 credits)'],
            ['10', '10 s (20 credits)'],
          ],
          '5',
        ),
      ),
      field(
        'Aspect ratio',
        'select',
        { name: 'aspectRatio' },
        options(
          [
            ['9:16', '9:16'],
            ['1:1', '1:1'],
            ['16:9', '16:9'],
          ],
          '9:16',
        ),
      ),
      field('Caption (optional)', 'input', { name: 'caption', type: 'text' }),
      el('div', { class: 'field' }, [
        el('input', { id: 'show-price', name: 'showPrice', type: 'checkbox', checked: true }),
        el('label', { for: 'show-price', text: 'Show the price' }),
      ]),
    ],
    'Make video',
  );
  onSubmit(make, async (data) => {
    const body = {
      durationSeconds: Number(data.get('durationSeconds')),
      aspectRatio: data.get('aspectRatio'),
      showPrice: data.get('showPrice') === 'on',
    };
    if (data.get('caption')) body.caption = data.get('caption');
    const started = await startRun('POST', '/v1/products/' + encodeURIComponent(product.id) + '/videos', body);
    trackRun(run, started, async (_run, current) => {
      const video = await call('GET', '/v1/product-videos/' + encodeURIComponent(current.videoId));
      result.replaceChildren(
        el('figure', { class: 'product-video', dataset: { status: video.status } }, [
          player(video.videoUrl, 'Video of ' + (product.name || 'the product'), null, video.imageUrl),
          el('figcaption', {
            text: video.durationSeconds + ' s · ' + video.aspectRatio + ' · ' + video.generationCostCredits + ' credits',
          }),
        ]),
      );
    });
  });
  return make;
}

async function showProduct(slot, productId) {
  const product = await call('GET', '/v1/products/' + encodeURIComponent(productId));
  if (product.scrapingStatus !== 'Success') {
    slot.replaceChildren(el('p', { class: 'error', text: 'Scraping failed: ' + (product.failureReason || product.error) }));
    return;
  }
  const run = el('div', { class: 'run-slot' });
  const result = el('div');
  slot.replaceChildren(
    el('article', { class: 'product', dataset: { productId } }, [
      el('h3', { text: product.name }),
      el('p', {
        text: [
          product.brand,
          product.price !== null ? money(Math.round(product.price * 100), product.currency) : null,
          product.availability,
        ]
          .filter(Boolean)
          .join(' · '),
      }),
      el(
        'div',
        { class: 'gallery' },
        product.images.map((img) => image(img.url, img.altText || product.name, { width: String(img.width), height: String(img.height) })),
      ),
      product.description ? el('p', { text: product.description }) : null,
    ]),
    videoForm(product, run, result),
    run,
    result,
  );
}

export async function productsPage(container) {
  const run = el('div', { class: 'run-slot' });
  const slot = el('div');
  const scrape = form('scrape', [field('Product page URL', 'input', { name: 'url', type: 'url', required: true })], 'Scrape');
  onSubmit(scrape, async (data) => {
    const started = await startRun('POST', '/v1/products', { url: data.get('url').trim() });
    slot.replaceChildren();
    trackRun(run, started, (_run, current) => void showProduct(slot, current.productId));
  });
  container.append(section('Product', [scrape, run, slot]));
}
