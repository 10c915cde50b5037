// The web console: no build step, no dependencies. Talks to the same API as any client.
// The API key lives in localStorage; EventSource cannot send headers, so live progress uses
// a short-lived stream token (POST /v1/stream-tokens) passed as ?access_token=.
(function () {
  'use strict';
  const KEY_STORAGE = 'cjp.apiKey';
  const $ = (id) => document.getElementById(id);
  const streams = new Map(); // runId -> EventSource
  let streamToken = null; // { token, expiresAt }

  const apiKey = () => localStorage.getItem(KEY_STORAGE);

  async function call(method, path, body, extraHeaders) {
    const headers = Object.assign({ authorization: 'Bearer ' + apiKey() }, extraHeaders || {});
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new Error((json && (json.detail || json.title)) || 'HTTP ' + res.status);
    return json;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') node.textContent = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, v);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  // ---- runs table -------------------------------------------------------------------------

  function renderRun(run) {
    let row = document.querySelector('tr[data-run-id="' + CSS.escape(run.id) + '"]');
    if (!row) {
      row = el('tr', { dataset: { runId: run.id } }, [
        el('td', { class: 'run-id', text: run.id }),
        el('td', { class: 'type' }),
        el('td', { class: 'status' }),
        el('td', { class: 'stage' }),
        el('td', {}, [el('progress', { max: '100', value: '0' })]),
        el('td', { class: 'started' }),
      ]);
      $('runs').prepend(row);
    }
    row.querySelector('.type').textContent = run.type;
    const status = row.querySelector('.status');
    status.textContent = run.status;
    status.className = 'status status-' + run.status;
    row.querySelector('.stage').textContent = run.error ? run.stage + ' (' + run.error.type + ': ' + run.error.message + ')' : run.stage;
    row.querySelector('progress').value = run.progress;
    row.querySelector('progress').textContent = run.progress + '%';
    row.querySelector('.started').textContent = new Date(run.startedAt).toLocaleString();
    row.dataset.status = run.status;
    row.dataset.progress = String(run.progress);
  }

  async function freshStreamToken() {
    if (!streamToken || Date.parse(streamToken.expiresAt) - Date.now() < 60000) streamToken = await call('POST', '/v1/stream-tokens');
    return streamToken.token;
  }

  async function follow(runId, attempt) {
    if (streams.has(runId)) return;
    const token = await freshStreamToken();
    const source = new EventSource('/v1/runs/' + encodeURIComponent(runId) + '/events?access_token=' + encodeURIComponent(token));
    streams.set(runId, source);
    source.addEventListener('progress', (e) => renderRun(JSON.parse(e.data)));
    source.addEventListener('closed', (e) => {
      renderRun(JSON.parse(e.data));
      source.close();
      streams.delete(runId);
    });
    source.onerror = () => {
      // The browser retries by itself unless the server refused (e.g. an expired token).
      if (source.readyState !== EventSource.CLOSED) return;
      streams.delete(runId);
      streamToken = null;
      if ((attempt || 0) < 5) setTimeout(() => follow(runId, (attempt || 0) + 1), 2000);
    };
  }

  async function loadRuns() {
    const page = await call('GET', '/v1/runs?limit=25');
    for (const run of page.data.slice().reverse()) {
      renderRun(run);
      if (run.status === 'running') await follow(run.id);
    }
  }

  // ---- job forms, generated from the OpenAPI document ------------------------------------

  function resolve(doc, schema) {
    while (schema && schema.$ref)
      schema = schema.$ref
        .split('/')
        .slice(1)
        .reduce((node, part) => node[part], doc);
    return schema || {};
  }

  function fieldFor(name, schema) {
    const id = 'field-' + Math.random().toString(36).slice(2);
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    let input;
    if (type === 'boolean') {
      input = el('input', { id, name, type: 'checkbox' });
      input.checked = schema.default === true;
    } else if (type === 'integer' || type === 'number') {
      input = el('input', { id, name, type: 'number', step: type === 'integer' ? '1' : 'any' });
      if (schema.default !== undefined) input.value = schema.default;
    } else if (type === 'string' && schema.enum) {
      input = el(
        'select',
        { id, name },
        schema.enum.map((v) => el('option', { value: v, text: v })),
      );
      if (schema.default !== undefined) input.value = schema.default;
    } else if (type === 'string') {
      input = el('input', { id, name, type: 'text' });
      if (schema.default !== undefined) input.value = schema.default;
    } else {
      input = el('textarea', { id, name, rows: '2', placeholder: 'JSON' });
      if (schema.default !== undefined) input.value = JSON.stringify(schema.default);
    }
    input.dataset.kind = type || 'json';
    return el('span', { class: 'field' }, [el('label', { for: id, text: name }), input]);
  }

  function readForm(form) {
    const body = {};
    for (const input of form.querySelectorAll('[data-kind]')) {
      const kind = input.dataset.kind;
      if (kind === 'boolean') body[input.name] = input.checked;
      else if (input.value === '') continue;
      else if (kind === 'integer' || kind === 'number') body[input.name] = Number(input.value);
      else if (kind === 'string') body[input.name] = input.value;
      else body[input.name] = JSON.parse(input.value);
    }
    return body;
  }

  async function loadForms() {
    const doc = await (await fetch('/openapi.json')).json();
    const container = $('job-forms');
    container.replaceChildren();
    for (const [path, item] of Object.entries(doc.paths)) {
      const op = item.post;
      if (!op || !(op.tags || []).includes('Jobs') || path.includes('{')) continue;
      const content = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
      const schema = resolve(doc, content && content.schema);
      const fields = Object.entries(schema.properties || {}).map(([name, s]) => fieldFor(name, resolve(doc, s)));
      const message = el('span', { class: 'message', role: 'status' });
      const form = el('form', { dataset: { path } }, [
        el('fieldset', {}, [
          el('legend', { text: op.summary || path }),
          ...fields,
          el('button', { type: 'submit', text: 'Start' }),
          message,
        ]),
      ]);
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        message.textContent = '';
        message.className = 'message';
        try {
          const started = await call('POST', path, readForm(form), { 'idempotency-key': crypto.randomUUID() });
          message.textContent = 'started ' + started.runId;
          renderRun(await call('GET', started.statusUrl));
          await follow(started.runId);
        } catch (err) {
          message.textContent = err.message;
          message.className = 'message error';
        }
      });
      container.append(form);
    }
  }

  // ---- key handling -----------------------------------------------------------------------

  async function activate() {
    const status = $('key-status');
    try {
      await loadRuns();
      await loadForms();
      status.textContent = 'Key accepted.';
      status.className = '';
      $('jobs-section').hidden = false;
      $('runs-section').hidden = false;
    } catch (err) {
      status.textContent = 'Key not accepted: ' + err.message;
      status.className = 'error';
    }
  }

  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    localStorage.setItem(KEY_STORAGE, $('api-key').value.trim());
    $('api-key').value = '';
    streamToken = null;
    void activate();
  });
  $('forget-key').addEventListener('click', () => {
    localStorage.removeItem(KEY_STORAGE);
    for (const source of streams.values()) source.close();
    streams.clear();
    $('runs').replaceChildren();
    $('jobs-section').hidden = true;
    $('runs-section').hidden = true;
    $('key-status').textContent = 'Key forgotten.';
  });
  $('refresh-runs').addEventListener('click', () => void loadRuns());
  if (apiKey()) void activate();
})();
