// Live run progress over Server-Sent Events. EventSource cannot send an Authorization header, so
// the stream is opened with a short-lived token from POST /v1/stream-tokens (?access_token=).
import { call } from './api.js';

let streamToken = null; // { token, expiresAt }

async function freshToken() {
  if (!streamToken || Date.parse(streamToken.expiresAt) - Date.now() < 60_000) streamToken = await call('POST', '/v1/stream-tokens');
  return streamToken.token;
}

export const forgetStreamToken = () => {
  streamToken = null;
};

/** Calls `onUpdate(run)` with the run now and on every change until it closes; returns a stop function. */
export function followRun(runId, onUpdate, onError) {
  let source = null;
  let stopped = false;
  let attempts = 0;
  const stop = () => {
    stopped = true;
    if (source) source.close();
  };
  const open = async () => {
    const run = await call('GET', '/v1/runs/' + encodeURIComponent(runId));
    if (stopped) return;
    onUpdate(run);
    if (run.status !== 'running') return stop();
    const token = await freshToken();
    if (stopped) return;
    source = new EventSource('/v1/runs/' + encodeURIComponent(runId) + '/events?access_token=' + encodeURIComponent(token));
    source.addEventListener('progress', (event) => {
      attempts = 0;
      onUpdate(JSON.parse(event.data));
    });
    source.addEventListener('closed', (event) => {
      onUpdate(JSON.parse(event.data));
      stop();
    });
    source.onerror = () => {
      // The browser reconnects by itself unless the server refused (an expired token): then reopen.
      if (stopped || source.readyState !== EventSource.CLOSED) return;
      streamToken = null;
      if (attempts++ < 5) setTimeout(() => void open().catch(fail), 1000 * attempts);
    };
  };
  const fail = (err) => {
    if (!stopped && onError) onError(err);
  };
  open().catch(fail);
  return stop;
}
