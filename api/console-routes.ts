import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import express, { type RequestHandler, type Router } from 'express';
import { localMediaRoot } from '../lib/media/store';
import { sandboxUrlsOf, type ApiDeps } from './deps';
import { notFound } from './problem';

const CONSOLE_DIR = join(__dirname, 'console');
/** The browser builds of the console's two dependencies, served as they ship (no CDN, no build step). */
const VENDOR_FILES: Record<string, string> = {
  'marked.esm.js': join(dirname(require.resolve('marked')), 'marked.esm.js'),
  'purify.es.mjs': join(dirname(require.resolve('dompurify')), 'purify.es.mjs'),
};
export const MEDIA_PATH = '/media/';

/**
 * The console's Content-Security-Policy: scripts, styles and requests from the API's own origin
 * only (no inline code, no eval), images and media also from the sandboxes' origins (the Cloudinary
 * sandbox delivers thumbnails) or Cloudinary's delivery host, captions as blob: URLs.
 */
export function consoleCsp(deps: Pick<ApiDeps, 'config' | 'sandboxUrls'>): string {
  const origins = Object.values(sandboxUrlsOf(deps)).map((url) => new URL(url).origin);
  if (deps.config.CLOUDINARY_URL) origins.push('https://res.cloudinary.com');
  const media = ["'self'", 'blob:', ...new Set(origins)].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${media}`,
    `media-src ${media}`,
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The web console (`/` and `/console/*`: plain ES modules and one CSS file) and, with the local
 * media store, the stored media at `/media/<key>`: the file:// URLs the API hands out in local mode
 * are not loadable by a browser, so the console maps them here. Like Cloudinary's delivery URLs,
 * these need no key (`<img>` and `<video>` cannot send one); keys carry random ids.
 */
export function consoleRouter(deps: ApiDeps): Router {
  const router = express.Router();
  const csp = consoleCsp(deps);
  const withCsp: RequestHandler = (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp);
    next();
  };
  const mediaRoot = localMediaRoot(deps.config);
  router.get('/', withCsp, (_req, res) => res.sendFile(join(CONSOLE_DIR, 'index.html')));
  router.get('/console/config.json', (_req, res) => {
    res.json({ media: mediaRoot ? { fileUrlPrefix: `${pathToFileURL(mediaRoot).href}/`, path: MEDIA_PATH } : null });
  });
  router.get('/console/vendor/:file', (req, res, next) => {
    const file = VENDOR_FILES[req.params.file];
    if (!file) return next();
    res.type('text/javascript').sendFile(file);
  });
  router.use('/console', withCsp, express.static(CONSOLE_DIR, { index: false, maxAge: 0 }), () => {
    throw notFound('console file');
  });
  if (mediaRoot) {
    router.use(MEDIA_PATH, express.static(mediaRoot, { index: false, dotfiles: 'deny', maxAge: '1h' }), () => {
      throw notFound('stored media');
    });
  }
  return router;
}
