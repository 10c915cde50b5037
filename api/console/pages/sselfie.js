// #/sselfie: train a personal model from selfies, then generate photos with it.
import { call, onSubmit, startRun } from '../api.js';
import { el, field, form, image, options, section, trackRun } from '../ui.js';

const STYLES = ['natural', 'editorial', 'studio', 'lifestyle', 'luxury'];

async function models(list) {
  const { data } = await call('GET', '/v1/models');
  list.replaceChildren(
    ...(data.length
      ? data.map((m) =>
          el('li', { dataset: { modelId: m.id, status: m.status } }, [
            el('strong', { text: m.name || m.triggerWord }),
            ' — ' + m.status + (m.isActive ? ' (active)' : '') + (m.status === 'training' ? ' ' + m.progress + ' %' : ''),
            m.failureReason ? el('span', { class: 'error', text: ' ' + m.failureReason }) : null,
          ]),
        )
      : [el('li', { class: 'muted', text: 'No model yet: train one below.' })]),
  );
}

async function photos(gallery, generationId) {
  const { data } = await call('GET', '/v1/images');
  gallery.replaceChildren(
    ...data
      .filter((img) => !generationId || img.generationId === generationId)
      .map((img) =>
        el('figure', { class: 'photo', dataset: { imageId: img.id, status: img.status } }, [
          img.status === 'completed'
            ? image(img.imageUrl, img.prompt)
            : el('span', { class: 'error', text: img.failureReason || img.status }),
          el('figcaption', { text: img.prompt + ' · ' + img.style }),
        ]),
      ),
  );
}

export async function sselfiePage(container) {
  const list = el('ul', { class: 'models' });
  const trainRun = el('div', { class: 'run-slot' });
  const train = form(
    'train',
    [
      field('Model name', 'input', { name: 'name', type: 'text', value: 'My model' }),
      field('Selfies (10–20 photos)', 'input', { name: 'images', type: 'file', accept: 'image/*', multiple: true, required: true }),
    ],
    'Train model',
  );
  onSubmit(train, async (data) => {
    const started = await call('POST', '/v1/models', data, { 'idempotency-key': crypto.randomUUID() });
    trackRun(trainRun, started, () => void models(list));
    await models(list);
  });

  const genRun = el('div', { class: 'run-slot' });
  const gallery = el('div', { class: 'gallery' });
  const generate = form(
    'generate',
    [
      field('Prompt', 'input', { name: 'prompt', type: 'text', required: true, placeholder: 'on a rooftop at sunset' }),
      field(
        'Style',
        'select',
        { name: 'style' },
        options(
          STYLES.map((s) => [s, s]),
          'editorial',
        ),
      ),
      field('Photos (1 credit each)', 'input', { name: 'count', type: 'number', min: '1', max: '4', value: '2' }),
    ],
    'Generate photos',
  );
  onSubmit(generate, async (data) => {
    const started = await startRun('POST', '/v1/images', {
      prompt: data.get('prompt'),
      style: data.get('style'),
      count: Number(data.get('count')),
    });
    gallery.replaceChildren();
    trackRun(genRun, started, () => void photos(gallery, started.generationId));
  });

  container.append(section('Your models', [list, train, trainRun]), section('Generate photos', [generate, genRun, gallery]));
  await Promise.all([models(list), photos(gallery)]);
}
