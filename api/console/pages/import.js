// #/import: connect Google (your channel's captions, your Drive), import a YouTube video, read the content.
import { call, onSubmit, startRun } from '../api.js';
import { choices, el, field, form, image, markdown, options, section, trackRun } from '../ui.js';

/** Content type keys (db/seed/content-types.ts); the plan decides which ones it may generate. */
const CONTENT_TYPES = [
  ['transcript', 'Transcript'],
  ['summary', 'Summary'],
  ['chapters', 'Chapters'],
  ['blog_post', 'Blog post'],
  ['social_posts', 'Social posts'],
  ['quotes', 'Quotes'],
  ['newsletter', 'Newsletter'],
  ['linkedin_article', 'LinkedIn article'],
  ['podcast_script', 'Podcast script'],
  ['quiz', 'Quiz'],
  ['study_guide', 'Study guide'],
  ['discussion_guide', 'Discussion guide'],
  ['group_chat_guide', 'Group chat guide'],
  ['slide_deck', 'Slide deck'],
  ['ebook', 'E-book'],
  ['marketing_funnel', 'Marketing funnel'],
  ['social_carousel', 'Social carousel'],
];
const EXPORT_FORMATS = [
  ['docx', 'Word'],
  ['pdf', 'PDF'],
  ['txt', 'Text'],
  ['md', 'Markdown'],
];

/** Thumbnail style and expression keys (db/seed/thumbnails.ts), like the content types above. */
const THUMBNAIL_STYLES = [
  ['bold_contrast', 'Bold Contrast'],
  ['clean_minimal', 'Clean Minimal'],
  ['vibrant_pop', 'Vibrant Pop'],
  ['cinematic_dark', 'Cinematic Dark'],
];
const THUMBNAIL_EXPRESSIONS = [
  ['shocked', 'Shocked'],
  ['excited', 'Excited'],
  ['mind_blown', 'Mind blown'],
  ['curious', 'Curious'],
  ['skeptical', 'Skeptical'],
  ['confused', 'Confused'],
  ['frustrated', 'Frustrated'],
  ['happy', 'Happy'],
  ['confident', 'Confident'],
  ['serious', 'Serious'],
];
const styleName = (key) => (THUMBNAIL_STYLES.find(([k]) => k === key) || [key, key])[1];

/** The "Thumbnails" form of an imported video: starts a thumbnails run, follows it, shows the images. */
function thumbnails(video) {
  const run = el('div', { class: 'run-slot' });
  const gallery = el('div', { class: 'gallery thumbnails' });
  const request = form(
    'thumbnails',
    [
      field('Topic', 'input', { name: 'topic', type: 'text', value: video.title || '', required: true }),
      field('Subtopic (optional)', 'input', { name: 'subTopic', type: 'text' }),
      field('Expression', 'select', { name: 'expression' }, options(THUMBNAIL_EXPRESSIONS, 'excited')),
      field(
        'Aspect ratio',
        'select',
        { name: 'aspectRatio' },
        options(
          [
            ['16:9', '16:9 (1280×720)'],
            ['9:16', '9:16 (720×1280)'],
          ],
          '16:9',
        ),
      ),
      choices('Styles', 'styles', THUMBNAIL_STYLES, { checked: [THUMBNAIL_STYLES[0][0]] }),
    ],
    'Generate thumbnails',
  );
  onSubmit(request, async (data) => {
    const body = { topic: data.get('topic').trim(), expression: data.get('expression'), aspectRatio: data.get('aspectRatio') };
    if (data.get('subTopic').trim()) body.subTopic = data.get('subTopic').trim();
    if (data.getAll('styles').length) body.styles = data.getAll('styles');
    const started = await startRun('POST', '/v1/videos/' + encodeURIComponent(video.id) + '/thumbnails', body);
    gallery.replaceChildren();
    trackRun(run, started, async () => {
      const job = await call('GET', '/v1/thumbnail-jobs/' + encodeURIComponent(started.jobId));
      gallery.replaceChildren(
        ...job.thumbnails.map((t) =>
          el('figure', { class: 'thumbnail', dataset: { style: t.style } }, [
            image(t.url, styleName(t.style)),
            el('figcaption', { text: styleName(t.style) + (t.overlayText ? ' — ' + t.overlayText : '') }),
          ]),
        ),
      );
    });
  });
  return section('Thumbnails', [request, run, gallery]);
}

async function connections(list) {
  const { connections } = await call('GET', '/v1/connections');
  list.replaceChildren(
    ...(connections.length
      ? connections.map((c) =>
          el('li', { dataset: { connectionId: c.id } }, [
            (c.channel && c.channel.title) || c.email || c.id,
            ' — ' + c.services.join(', ') + ' — ' + c.status + (c.statusReason ? ' (' + c.statusReason + ')' : ''),
          ]),
        )
      : [el('li', { class: 'muted', text: 'Nothing connected yet.' })]),
  );
}

async function showVideo(results, videoId) {
  const video = await call('GET', '/v1/videos/' + encodeURIComponent(videoId));
  const pieces = await Promise.all(
    video.content.map((c) => call('GET', '/v1/videos/' + encodeURIComponent(videoId) + '/content/' + encodeURIComponent(c.contentType))),
  );
  results.replaceChildren(
    el('div', { class: 'video-head' }, [
      video.thumbnailUrl ? image(video.thumbnailUrl, 'Thumbnail of ' + (video.title || 'the video'), { class: 'thumb' }) : null,
      el('div', {}, [
        el('h3', { text: video.title || video.sourceUrl || videoId }),
        el('p', {
          class: 'muted',
          text: [video.channel.title, video.transcriptSource && 'transcript: ' + video.transcriptSource].filter(Boolean).join(' · '),
        }),
      ]),
    ]),
    ...pieces.map((piece) =>
      el('article', { class: 'content-piece', dataset: { contentType: piece.contentType } }, [
        el('h3', { class: 'piece-title', text: piece.contentType.replace(/_/g, ' ') + ' (v' + piece.version + ')' }),
        markdown(piece.content),
      ]),
    ),
    thumbnails(video),
  );
}

export async function importPage(container) {
  const list = el('ul', { class: 'connections' });
  const connect = form(
    'connect-google',
    [
      choices(
        'Services',
        'services',
        [
          ['youtube', 'YouTube channel'],
          ['drive', 'Google Drive'],
        ],
        { checked: ['youtube', 'drive'] },
      ),
    ],
    'Connect Google',
  );
  onSubmit(connect, async (data) => {
    const { authorizationUrl } = await call('POST', '/v1/connections/google', {
      services: data.getAll('services'),
      redirectUri: location.origin + '/',
    });
    sessionStorage.setItem('cjp.oauth', 'google');
    location.assign(authorizationUrl);
  });

  const run = el('div', { class: 'run-slot' });
  const results = el('div', { class: 'results' });
  const importForm = form(
    'import',
    [
      field('YouTube URL', 'input', { name: 'url', type: 'url', placeholder: 'https://youtu.be/…', required: true }),
      choices('Content to generate', 'contentTypes', CONTENT_TYPES, { checked: ['summary'] }),
      field('Transcript (optional: SRT, WebVTT or text, used when the captions are not yours)', 'textarea', {
        name: 'transcript',
        rows: '4',
      }),
      choices('Also export to Google Drive', 'formats', EXPORT_FORMATS),
    ],
    'Import',
  );
  onSubmit(importForm, async (data) => {
    const body = { url: data.get('url').trim(), contentTypes: data.getAll('contentTypes') };
    if (data.get('transcript').trim()) body.transcript = { content: data.get('transcript') };
    if (data.getAll('formats').length) body.export = { provider: 'google_drive', formats: data.getAll('formats') };
    const started = await startRun('POST', '/v1/videos/import', body);
    results.replaceChildren();
    trackRun(run, started, (_run, current) => void showVideo(results, current.videoId));
  });

  container.append(section('Google', [list, connect]), section('Import a YouTube video', [importForm, run, results]));
  await connections(list);
}
