// Shared building blocks: DOM helpers, form fields, the live run panel, markdown, media, charts.
import { marked } from './vendor/marked.esm.js';
import DOMPurify from './vendor/purify.es.mjs';
import { canRetry, retryRun } from './api.js';
import { followRun } from './sse.js';

/** Builds an element; text goes through textContent, never innerHTML. */
export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children || []) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

let fieldIds = 0;
/** A labelled control: `field('Caption', 'textarea', {name: 'caption'})`. */
export function field(label, tag, attrs, children) {
  const id = 'f' + ++fieldIds;
  return el('div', { class: 'field' }, [el('label', { for: id, text: label }), el(tag, Object.assign({ id }, attrs), children)]);
}

/** A fieldset of checkboxes (or radios) named `name`. */
export function choices(legend, name, options, { type = 'checkbox', checked = [] } = {}) {
  return el('fieldset', { class: 'choices' }, [
    el('legend', { text: legend }),
    ...options.map(([value, label]) => {
      const id = 'f' + ++fieldIds;
      return el('span', { class: 'choice' }, [
        el('input', { id, type, name, value, checked: checked.includes(value) }),
        el('label', { for: id, text: label }),
      ]);
    }),
  ]);
}

export const options = (values, selected) =>
  values.map(([value, label]) => el('option', { value, text: label, selected: value === selected }));

/** A form with its fields, a submit button and the alert line problems without a field go to. */
export function form(name, fields, submitLabel) {
  return el('form', { 'data-form': name, novalidate: true }, [
    ...fields,
    el('div', { class: 'actions' }, [el('button', { type: 'submit', text: submitLabel })]),
    el('p', { class: 'form-error', role: 'alert' }),
  ]);
}

export const section = (title, children, attrs) =>
  el('section', Object.assign({ class: 'card' }, attrs || {}), [el('h2', { text: title }), ...children]);

export function flash(message) {
  const node = document.getElementById('flash');
  node.textContent = message;
  node.hidden = false;
  setTimeout(() => (node.hidden = true), 6000);
}

// ---- page lifetime: streams opened by a page close when the route changes ----------------------

const disposers = new Set();
export const onLeave = (dispose) => disposers.add(dispose);
export function leavePage() {
  for (const dispose of disposers) dispose();
  disposers.clear();
}

// ---- runs ---------------------------------------------------------------------------------------

const FAILED = new Set(['failed', 'canceled', 'terminated', 'timed_out']);

export function renderRunInto(panel, run) {
  panel.dataset.status = run.status;
  panel.dataset.progress = String(run.progress);
  panel.querySelector('.run-type').textContent = run.type;
  const status = panel.querySelector('.run-status');
  status.textContent = run.status;
  status.className = 'run-status status-' + run.status;
  panel.querySelector('.run-stage').textContent = run.stage;
  const bar = panel.querySelector('progress');
  bar.value = run.progress;
  bar.textContent = run.progress + ' %';
  panel.querySelector('.run-pct').textContent = run.progress + ' %';
  const error = panel.querySelector('.run-error');
  error.hidden = !run.error;
  error.textContent = run.error ? run.error.type + ': ' + run.error.message : '';
  const retry = panel.querySelector('.retry');
  retry.hidden = !(FAILED.has(run.status) && canRetry(run.id));
}

/** An empty run panel: type, status, stage, progress bar, failure reason and a retry button. */
export function runPanel(runId) {
  const progressId = 'p' + ++fieldIds;
  return el('div', { class: 'run', dataset: { runId }, 'aria-live': 'polite' }, [
    el('div', { class: 'run-head' }, [
      el('a', { class: 'run-type', href: '#/runs/' + encodeURIComponent(runId) }),
      el('span', { class: 'run-status' }),
      el('span', { class: 'run-stage' }),
    ]),
    el('div', { class: 'run-bar' }, [
      el('label', { for: progressId, class: 'visually-hidden', text: 'Progress of ' + runId }),
      el('progress', { id: progressId, max: '100', value: '0' }),
      el('span', { class: 'run-pct', text: '0 %' }),
    ]),
    el('p', { class: 'run-error', role: 'alert', hidden: true }),
    el('button', { type: 'button', class: 'retry', hidden: true, text: 'Retry' }),
  ]);
}

/**
 * Shows `started` (a start answer with `runId`) live in `container`; `onDone(run, started)` once it
 * completes (and `onUpdate(run)` on every change). Retry re-sends the request that started it and
 * follows the new run the same way.
 */
export function trackRun(container, started, onDone, onUpdate) {
  const panel = runPanel(started.runId);
  container.replaceChildren(panel);
  let done = false;
  const stop = followRun(
    started.runId,
    (run) => {
      renderRunInto(panel, run);
      if (onUpdate) onUpdate(run);
      if (run.status !== 'completed' || done || !onDone) return;
      done = true;
      onDone(run, started);
    },
    (err) => {
      const error = panel.querySelector('.run-error');
      error.hidden = false;
      error.textContent = err.message;
    },
  );
  onLeave(stop);
  panel.querySelector('.retry').addEventListener('click', async () => {
    try {
      trackRun(container, await retryRun(started.runId), onDone, onUpdate);
    } catch (err) {
      const error = panel.querySelector('.run-error');
      error.hidden = false;
      error.textContent = 'Retry refused: ' + err.message;
    }
  });
  return panel;
}

// ---- results ------------------------------------------------------------------------------------

/** Markdown rendered to HTML, sanitized by DOMPurify before it touches the page. */
export function markdown(text) {
  const node = el('div', { class: 'markdown' });
  node.innerHTML = DOMPurify.sanitize(marked.parse(text || '', { async: false }));
  return node;
}

let mediaConfig = null;
export async function loadMediaConfig() {
  mediaConfig = (await (await fetch('/console/config.json')).json()).media;
}

/** A stored media URL as the browser can load it: file:// URLs of the local store map to /media/. */
export function mediaUrl(url) {
  if (!url) return null;
  if (mediaConfig && url.startsWith(mediaConfig.fileUrlPrefix)) return mediaConfig.path + url.slice(mediaConfig.fileUrlPrefix.length);
  return /^https?:\/\//.test(url) ? url : null;
}

export function image(url, alt, attrs) {
  const src = mediaUrl(url);
  return src ? el('img', Object.assign({ src, alt, loading: 'lazy' }, attrs || {})) : el('span', { class: 'muted', text: '(no image)' });
}

/** A video player; `captions` is `{vtt, vttUrl, language}` when the video has them, `poster` a still. */
export function player(url, label, captions, poster) {
  const src = mediaUrl(url);
  if (!src) return el('span', { class: 'muted', text: '(no video)' });
  const video = el('video', { src, poster: mediaUrl(poster), controls: true, preload: 'metadata', 'aria-label': label });
  const track =
    captions && (mediaUrl(captions.vttUrl) || (captions.vtt && URL.createObjectURL(new Blob([captions.vtt], { type: 'text/vtt' }))));
  if (track)
    video.append(el('track', { kind: 'captions', src: track, srclang: captions.language || 'en', label: 'Captions', default: true }));
  return video;
}

export const money = (cents, currency) =>
  new Intl.NumberFormat(undefined, { style: 'currency', currency: (currency || 'USD').toUpperCase() }).format(cents / 100);
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {}))
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  for (const child of children || []) node.append(child);
  return node;
}

/**
 * A horizontal bar chart as inline SVG: bars `[{label, value, limit?, display?}]`. A bar with a limit
 * is drawn against it (the track is the limit). Screen readers get the title and each bar's text.
 */
export function barChart(title, bars) {
  const width = 480;
  const labelWidth = 150;
  const row = 30;
  const max = Math.max(1, ...bars.map((b) => Math.max(b.value, b.limit || 0)));
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${bars.length * row + 10}`, role: 'img', 'aria-label': title }, [
    svg('title', { text: title }),
  ]);
  bars.forEach((bar, i) => {
    const y = i * row + 5;
    const scale = (width - labelWidth - 110) / (bar.limit || max);
    const text = bar.display || String(bar.value);
    chart.append(
      svg('text', { x: 0, y: y + 16, class: 'chart-label', text: bar.label }),
      svg('rect', { x: labelWidth, y, width: Math.max(1, (bar.limit || max) * scale), height: 20, class: 'chart-track' }),
      svg('rect', { x: labelWidth, y, width: Math.max(1, Math.min(bar.value, bar.limit || max) * scale), height: 20, class: 'chart-bar' }),
      svg('text', { x: width - 105, y: y + 16, class: 'chart-value', text }),
    );
  });
  return chart;
}
