// #/clips: upload a video (with its SRT/WebVTT), ask for clips, watch them with their captions.
import { call, onSubmit, startRun } from '../api.js';
import { choices, el, field, form, options, player, section, trackRun } from '../ui.js';

const RATIOS = [
  ['9:16', '9:16 (vertical)'],
  ['1:1', '1:1 (square)'],
  ['16:9', '16:9 (wide)'],
];

async function showClips(results, videoId) {
  const { data } = await call('GET', '/v1/videos/' + encodeURIComponent(videoId) + '/clips');
  results.replaceChildren(
    ...data.map((clip) =>
      el('figure', { class: 'clip', dataset: { clipId: clip.id, renderStatus: clip.renderStatus } }, [
        ...Object.entries(clip.fileUrls).map(([ratio, url]) =>
          player(url, (clip.title || 'Clip ' + (clip.clipIndex + 1)) + ' ' + ratio, clip.captions, clip.thumbnailUrl),
        ),
        el('figcaption', {}, [
          el('strong', { text: clip.title || 'Clip ' + (clip.clipIndex + 1) }),
          ' ' + clip.startSeconds.toFixed(1) + '–' + clip.endSeconds.toFixed(1) + ' s',
          clip.renderError ? el('span', { class: 'error', text: ' ' + clip.renderError }) : null,
        ]),
      ]),
    ),
  );
}

function clipsForm(videoId, run, results) {
  const clipForm = form(
    'clips',
    [
      field('How many clips', 'input', { name: 'count', type: 'number', min: '1', max: '10', value: '1' }),
      choices('Aspect ratios', 'aspectRatios', RATIOS, { checked: ['9:16'] }),
      field('Shortest (s)', 'input', { name: 'minSeconds', type: 'number', min: '1', value: '4' }),
      field('Longest (s)', 'input', { name: 'maxSeconds', type: 'number', min: '1', value: '10' }),
      field(
        'Caption style',
        'select',
        { name: 'captions' },
        options(
          [
            ['bold', 'Bold'],
            ['minimal', 'Minimal'],
            ['karaoke', 'Karaoke'],
          ],
          'bold',
        ),
      ),
    ],
    'Make clips',
  );
  onSubmit(clipForm, async (data) => {
    const started = await startRun('POST', '/v1/videos/' + encodeURIComponent(videoId) + '/clips', {
      count: Number(data.get('count')),
      aspectRatios: data.getAll('aspectRatios'),
      minSeconds: Number(data.get('minSeconds')),
      maxSeconds: Number(data.get('maxSeconds')),
      captions: { style: data.get('captions') },
    });
    trackRun(run, started, () => void showClips(results, videoId));
  });
  return clipForm;
}

export async function clipsPage(container) {
  const ingest = el('div', { class: 'run-slot' });
  const step2 = el('div');
  const upload = form(
    'upload',
    [
      field('Video file', 'input', { name: 'file', type: 'file', accept: 'video/*', required: true }),
      field('Transcript (SRT or WebVTT, optional: else speech-to-text)', 'input', {
        name: 'transcript',
        type: 'file',
        accept: '.srt,.vtt,text/vtt',
      }),
      field('Title', 'input', { name: 'title', type: 'text' }),
    ],
    'Upload',
  );
  onSubmit(upload, async (data) => {
    // The API takes the transcript as a text field: the file's content, not a second file.
    const transcript = data.get('transcript');
    if (transcript && transcript.size) data.set('transcript', await transcript.text());
    else data.delete('transcript');
    if (!data.get('title')) data.delete('title');
    const started = await call('POST', '/v1/videos/upload', data);
    step2.replaceChildren();
    trackRun(ingest, started, () => {
      const run = el('div', { class: 'run-slot' });
      const results = el('div', { class: 'clips' });
      step2.replaceChildren(
        section('Clips of ' + (started.title || 'your video'), [clipsForm(started.videoId, run, results), run, results]),
      );
    });
  });
  container.append(section('Upload a video', [upload, ingest]), step2);
}
