// The one way the console talks to the API: fetch with the key, problem+json errors as ApiError.
const KEY_STORAGE = 'cjp.apiKey';
const STARTS_STORAGE = 'cjp.starts';

export const apiKey = () => sessionStorage.getItem(KEY_STORAGE);
export const setApiKey = (key) => sessionStorage.setItem(KEY_STORAGE, key);
export const forgetApiKey = () => {
  sessionStorage.removeItem(KEY_STORAGE);
  sessionStorage.removeItem(STARTS_STORAGE);
};

/** An RFC 9457 problem answered by the API (`problem.errors` names the fields at fault). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || 'HTTP ' + status);
    this.status = status;
    this.problem = problem;
  }
}

export async function call(method, path, body, extraHeaders) {
  const headers = Object.assign({ authorization: 'Bearer ' + apiKey() }, extraHeaders || {});
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, json || { title: 'HTTP ' + res.status });
  return json;
}

function rememberedStarts() {
  try {
    return JSON.parse(sessionStorage.getItem(STARTS_STORAGE) || '{}');
  } catch {
    return {};
  }
}

/**
 * Starts work (a POST answering a `runId`) under a fresh Idempotency-Key. JSON requests are
 * remembered by run id for this tab, so a failed run can be retried with the same request.
 */
export async function startRun(method, path, body) {
  const started = await call(method, path, body, { 'idempotency-key': crypto.randomUUID() });
  if (started && started.runId && !(body instanceof FormData)) {
    const starts = rememberedStarts();
    starts[started.runId] = { method, path, body };
    sessionStorage.setItem(STARTS_STORAGE, JSON.stringify(starts));
  }
  return started;
}

export const canRetry = (runId) => Boolean(rememberedStarts()[runId]);

/** Sends the request that started `runId` again (a new Idempotency-Key, so a new run). */
export function retryRun(runId) {
  const start = rememberedStarts()[runId];
  if (!start) throw new Error('this run was not started from this tab');
  return startRun(start.method, start.path, start.body);
}

/** The form control a problem's field path names (`imageUrls[3]`, `styles.1`, `autoClips.count` → its first segment). */
function controlFor(form, field) {
  const name = String(field).split(/[.[]/)[0];
  return form.querySelector('[name="' + CSS.escape(field) + '"]') || form.querySelector('[name="' + CSS.escape(name) + '"]');
}

export function clearProblems(form) {
  for (const node of form.querySelectorAll('.field-error')) node.remove();
  for (const node of form.querySelectorAll('[aria-invalid]')) {
    node.removeAttribute('aria-invalid');
    node.removeAttribute('aria-describedby');
  }
  const summary = form.querySelector('.form-error');
  if (summary) summary.textContent = '';
}

/** Shows an error next to the field the problem names, else in the form's alert line. */
export function showProblem(form, err) {
  clearProblems(form);
  const problem = err instanceof ApiError ? err.problem : { detail: err.message };
  let placed = false;
  for (const { field, message } of problem.errors || []) {
    const control = field && controlFor(form, field);
    if (!control) continue;
    const note = document.createElement('p');
    note.className = 'field-error';
    note.id = 'err-' + Math.random().toString(36).slice(2);
    note.textContent = message ? field + ': ' + message : problem.detail;
    (control.closest('.field, fieldset') || control).append(note);
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', note.id);
    if (!placed) control.focus();
    placed = true;
  }
  const summary = form.querySelector('.form-error');
  if (summary) summary.textContent = (problem.title ? problem.title + ': ' : '') + (problem.detail || err.message);
}

/** Runs `action` on submit with problems shown in the form; the submit button is disabled meanwhile. */
export function onSubmit(form, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearProblems(form);
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    try {
      await action(new FormData(form));
    } catch (err) {
      showProblem(form, err);
    } finally {
      if (button) button.disabled = false;
    }
  });
}
