import { constants, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { pathToFileURL } from 'node:url';
import type { Config } from '../config';
import { meterUsage } from '../usage-meter';

/**
 * Where uploaded videos and rendered clips live, behind one interface: a directory under
 * DATA_DIR in development and tests, Cloudinary when CLOUDINARY_URL is set. Keys are stable
 * per logical file (`clips/<runId>/<index>/9x16.mp4`), so storing again overwrites.
 */
export type MediaKind = 'video' | 'image' | 'raw';

export interface StoredMedia {
  key: string;
  url: string;
  /** The file itself, when the store is a local directory. */
  path: string | null;
  bytes: number;
}

/** A reference to stored media as kept in a row (videos.file_path / media_url). */
export interface MediaLocation {
  path?: string | null;
  url?: string | null;
}

export interface MediaStore {
  readonly kind: 'local' | 'cloudinary';
  /**
   * Copies a finished local file into the store under `key`. With `move`, the caller gives the file
   * up: the local store renames it into place when it is on the same filesystem (no copy of a large video).
   */
  put(key: string, file: string, kind: MediaKind, options?: { move?: boolean }): Promise<StoredMedia>;
  /** A local file with the stored bytes: the stored file itself, or a download into `dir`. */
  localCopy(location: MediaLocation, dir: string, signal?: AbortSignal): Promise<string>;
}

/** The part of the Cloudinary adapter the store uses (providers/cloudinary.ts). */
export interface MediaUploader {
  upload(input: { source: string; publicId: string; resourceType: MediaKind; tags?: string[] }): Promise<{ url: string; bytes: number }>;
}

function assertKey(key: string): void {
  if (!/^[\w-]+(\/[\w.-]+)*$/.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`invalid media key: ${key}`);
  }
}

export class MediaNotFoundError extends Error {
  override name = 'MediaNotFoundError';
  readonly type = 'NotFound';
}

async function download(url: string, dir: string, signal?: AbortSignal): Promise<string> {
  const res = await fetch(url, { signal });
  if (res.status === 404) throw new MediaNotFoundError(`stored media is gone: ${url}`);
  if (!res.ok || !res.body) throw new Error(`downloading stored media failed with HTTP ${res.status}`);
  const target = join(dir, `download${extname(new URL(url).pathname) || '.bin'}`);
  await pipeline(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), createWriteStream(target), { signal });
  return target;
}

/** Renames `file` to `target`; false when they are on different filesystems (the caller copies instead). */
async function movedInto(file: string, target: string): Promise<boolean> {
  try {
    await rename(file, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EXDEV') return false;
    throw err;
  }
}

/** Files under `root`; URLs are file:// URLs of the stored files. */
export function createLocalMediaStore(root: string): MediaStore {
  const base = resolve(root);
  return {
    kind: 'local',
    async put(key, file, _kind, options = {}) {
      assertKey(key);
      const target = join(base, key);
      await mkdir(dirname(target), { recursive: true });
      if (!options.move || !(await movedInto(file, target))) {
        // Copy beside the target, then rename: readers never see a partial file.
        const partial = `${target}.partial`;
        await copyFile(file, partial, constants.COPYFILE_FICLONE);
        await rename(partial, target);
      }
      const bytes = (await stat(target)).size;
      meterUsage('storage_bytes', bytes, `storage:${key}`);
      return { key, url: pathToFileURL(target).href, path: target, bytes };
    },
    async localCopy(location, dir, signal) {
      const path = location.path ?? (location.url?.startsWith('file:') ? new URL(location.url).pathname : undefined);
      if (path) {
        const inside = resolve(path).startsWith(base + sep);
        if (!inside) throw new MediaNotFoundError(`${path} is not in the media store`);
        if (
          !(await stat(path).then(
            (s) => s.isFile(),
            () => false,
          ))
        )
          throw new MediaNotFoundError(`stored media is gone: ${path}`);
        return path;
      }
      if (location.url) return download(location.url, dir, signal);
      throw new MediaNotFoundError('no stored media');
    },
  };
}

/** Assets on Cloudinary under public ids derived from the keys; reading downloads the delivery URL. */
export function createCloudinaryMediaStore(uploader: () => MediaUploader): MediaStore {
  return {
    kind: 'cloudinary',
    async put(key, file, kind) {
      assertKey(key);
      // Cloudinary adds the format itself for images and videos; raw assets keep their extension.
      const publicId = kind === 'raw' ? key : key.slice(0, key.length - extname(key).length);
      const asset = await uploader().upload({ source: file, publicId, resourceType: kind, tags: ['media-store'] });
      meterUsage('storage_bytes', asset.bytes, `storage:${key}`);
      return { key, url: asset.url, path: null, bytes: asset.bytes };
    },
    async localCopy(location, dir, signal) {
      if (!location.url) throw new MediaNotFoundError('no stored media URL');
      return download(location.url, dir, signal);
    },
  };
}

/** The local store's directory (`DATA_DIR/media`), or null when media goes to Cloudinary. */
export function localMediaRoot(config: Pick<Config, 'CLOUDINARY_URL' | 'dataDir'>): string | null {
  return config.CLOUDINARY_URL ? null : join(config.dataDir, 'media');
}

/** Cloudinary when CLOUDINARY_URL is set, else `DATA_DIR/media`. */
export function mediaStoreFor(config: Pick<Config, 'CLOUDINARY_URL' | 'dataDir'>, cloudinary: () => MediaUploader): MediaStore {
  const root = localMediaRoot(config);
  return root ? createLocalMediaStore(root) : createCloudinaryMediaStore(cloudinary);
}
