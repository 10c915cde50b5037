// The console's shell: sign-in, hash routing, the OAuth return. Each page is a module in pages/.
import { apiKey, call, forgetApiKey, setApiKey } from './api.js';
import { forgetStreamToken } from './sse.js';
import { flash, leavePage, loadMediaConfig } from './ui.js';
import { importPage } from './pages/import.js';
import { clipsPage } from './pages/clips.js';
import { postsPage } from './pages/posts.js';
import { sselfiePage } from './pages/sselfie.js';
import { productsPage } from './pages/products.js';
import { contentPlansPage } from './pages/content-plans.js';
import { creditsPage } from './pages/credits.js';
import { affiliatesPage } from './pages/affiliates.js';
import { runPage, runsPage } from './pages/runs.js';

const PAGES = {
  import: importPage,
  clips: clipsPage,
  posts: postsPage,
  sselfie: sselfiePage,
  products: productsPage,
  'content-plans': contentPlansPage,
  credits: creditsPage,
  affiliates: affiliatesPage,
  runs: runsPage,
};

const view = document.getElementById('view');
const signIn = document.getElementById('sign-in');
const OAUTH_STORAGE = 'cjp.oauth';

async function route() {
  leavePage();
  if (!apiKey()) {
    view.replaceChildren(signIn);
    return;
  }
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const params = rest.map(decodeURIComponent);
  for (const link of document.querySelectorAll('#nav a'))
    if (link.getAttribute('href') === '#/' + name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  const page = name === 'runs' && params[0] ? runPage : PAGES[name] || runsPage;
  const container = document.createElement('div');
  container.className = 'page';
  container.dataset.page = name || 'runs';
  view.replaceChildren(container);
  try {
    await page(container, params);
  } catch (err) {
    container.append(Object.assign(document.createElement('p'), { className: 'form-error', textContent: err.message }));
  }
  view.focus({ preventScroll: true });
}

function signedIn(yes) {
  document.getElementById('nav').hidden = !yes;
  document.getElementById('sign-out').hidden = !yes;
}

/** Back from Google's consent screen: `?code=&state=` on the console's own URL. */
async function finishOAuth() {
  const query = new URLSearchParams(location.search);
  const flow = sessionStorage.getItem(OAUTH_STORAGE);
  if (!query.get('code') || !query.get('state') || !flow) return;
  sessionStorage.removeItem(OAUTH_STORAGE);
  history.replaceState(null, '', '/#/import');
  try {
    const connection = await call('POST', '/v1/connections/google/callback', { code: query.get('code'), state: query.get('state') });
    flash('Google connected' + (connection.channel && connection.channel.title ? ': ' + connection.channel.title : ''));
  } catch (err) {
    flash('Connecting Google failed: ' + err.message);
  }
}

document.getElementById('key-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = document.getElementById('api-key');
  const status = document.getElementById('key-status');
  setApiKey(input.value.trim());
  try {
    await call('GET', '/v1/runs?limit=1');
    input.value = '';
    status.textContent = '';
    forgetStreamToken();
    signedIn(true);
    if (!location.hash || location.hash === '#/') location.hash = '#/runs';
    else await route();
  } catch (err) {
    forgetApiKey();
    status.textContent = 'Key not accepted: ' + err.message;
  }
});

document.getElementById('sign-out').addEventListener('click', () => {
  forgetApiKey();
  forgetStreamToken();
  signedIn(false);
  void route();
});

window.addEventListener('hashchange', () => void route());
// Enabled only now: a submit before this script ran would be the browser's own, key and all.
document.getElementById('sign-in-button').disabled = false;

await loadMediaConfig();
signedIn(Boolean(apiKey()));
if (apiKey()) await finishOAuth();
await route();
