import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { createSandboxServer, HttpError, type Route, type RouteRequest, type SandboxServer, type SandboxDefinition } from './http';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';

export interface CloudinarySandboxOptions {
  /** The account the sandbox serves; uploads must be signed with `apiSecret`. */
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  /** Where uploaded bytes are kept; a fresh temp folder when unset. */
  storageDir?: string;
  host?: string;
  port?: number;
}

interface StoredAsset {
  assetId: string;
  publicId: string;
  resourceType: string;
  version: number;
  format: string;
  bytes: number;
  width?: number;
  height?: number;
  etag: string;
  createdAt: string;
  file: string;
  originalFilename: string;
}

export interface CloudinarySandbox {
  url: string;
  server: SandboxServer;
  /** `${resourceType}/${publicId}` → stored asset. */
  assets: Map<string, StoredAsset>;
  stop(): Promise<void>;
}

interface MultipartPart {
  name: string;
  filename?: string;
  data: Buffer;
}

/** Splits a multipart/form-data body (what the Cloudinary SDK uploads) into its parts. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) throw new HttpError(400, 'multipart body without a boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: MultipartPart[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const chunk = body.subarray(start + delimiter.length + 2, next - 2); // skip CRLF after the delimiter and before the next
    const headerEnd = chunk.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = chunk.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/.exec(headers)?.[1];
      const filename = /filename="([^"]*)"/.exec(headers)?.[1];
      if (name) parts.push({ name, filename, data: chunk.subarray(headerEnd + 4) });
    }
    start = next;
  }
  return parts;
}

/** Width and height read from a PNG or JPEG header; undefined for anything else. */
export function imageSize(data: Buffer): { width: number; height: number; format: string } | undefined {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47)
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), format: 'png' };
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset + 9 < data.length) {
    if (data[offset] !== 0xff) return undefined;
    const marker = data[offset + 1] ?? 0;
    const length = data.readUInt16BE(offset + 2);
    // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return { height: data.readUInt16BE(offset + 5), width: data.readUInt16BE(offset + 7), format: 'jpg' };
    offset += 2 + length;
  }
  return undefined;
}

/** Cloudinary's request signature: sorted `k=v` pairs joined by `&`, then the secret, sha1 (v2 escapes `&`). */
export function cloudinarySignature(params: Record<string, string>, apiSecret: string): string {
  const toSign = Object.entries(params)
    .filter(([k, v]) => v !== '' && !['file', 'cloud_name', 'resource_type', 'api_key', 'signature'].includes(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`.replace(/&/g, '%26'))
    .join('&');
  return createHash('sha1')
    .update(toSign + apiSecret)
    .digest('hex');
}

const errorBody = (_status: number, message: string) => ({ error: { message } });
const MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
};

/**
 * A Cloudinary emulator: signed multipart uploads (image/video/raw), destroy, and delivery of the
 * stored bytes at the URLs it hands out. Transformations in a delivery URL are accepted but not
 * applied: the original bytes come back.
 */
export async function startCloudinarySandbox(options: CloudinarySandboxOptions): Promise<CloudinarySandbox> {
  const storageDir = options.storageDir ?? mkdtempSync(join(tmpdir(), 'cloudinary-sandbox-'));
  mkdirSync(storageDir, { recursive: true });
  const assets = new Map<string, StoredAsset>();
  let lastVersion = 0;
  let baseUrl = '';

  function signedParams(req: RouteRequest): { fields: Record<string, string>; file?: MultipartPart } {
    const contentType = String(req.headers['content-type'] ?? '');
    const parts = contentType.startsWith('multipart/form-data') ? parseMultipart(req.body, contentType) : [];
    const fields = contentType.startsWith('multipart/form-data')
      ? Object.fromEntries(parts.filter((p) => p.filename === undefined).map((p) => [p.name, p.data.toString('utf8')]))
      : Object.fromEntries(req.form());
    if (req.params.cloud !== options.cloudName)
      throw new HttpError(404, `cloud_name ${req.params.cloud} is not the sandbox's (${options.cloudName})`);
    if (fields.api_key !== options.apiKey) throw new HttpError(401, `Unknown API key ${fields.api_key ?? ''}`);
    const expected = cloudinarySignature(fields, options.apiSecret);
    if (fields.signature !== expected)
      throw new HttpError(401, `Invalid Signature ${fields.signature ?? ''}. String to sign - see Cloudinary docs.`);
    const timestamp = Number(fields.timestamp);
    if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 3600)
      throw new HttpError(400, `Stale request - reported time is ${fields.timestamp ?? ''}`);
    return { fields, file: parts.find((p) => p.name === 'file' && p.filename !== undefined) };
  }

  const deliveryUrl = (asset: StoredAsset) =>
    `${baseUrl}/${options.cloudName}/${asset.resourceType}/upload/v${asset.version}/${asset.publicId}.${asset.format}`;

  function view(asset: StoredAsset, existing: boolean) {
    const url = deliveryUrl(asset);
    const folder = asset.publicId.includes('/') ? asset.publicId.slice(0, asset.publicId.lastIndexOf('/')) : '';
    return {
      asset_id: asset.assetId,
      public_id: asset.publicId,
      version: asset.version,
      version_id: createHash('md5').update(`${asset.publicId}:${asset.version}`).digest('hex'),
      signature: createHash('sha1').update(`${asset.publicId}${asset.version}${options.apiSecret}`).digest('hex'),
      width: asset.width,
      height: asset.height,
      format: asset.format,
      resource_type: asset.resourceType,
      created_at: asset.createdAt,
      tags: [],
      bytes: asset.bytes,
      type: 'upload',
      etag: asset.etag,
      placeholder: false,
      url,
      secure_url: url,
      asset_folder: folder,
      display_name: asset.publicId.split('/').at(-1),
      original_filename: asset.originalFilename,
      api_key: options.apiKey,
      ...(existing ? { existing: true } : {}),
    };
  }

  function upload(req: RouteRequest) {
    const resourceType = req.params.resourceType ?? 'image';
    const { fields, file } = signedParams(req);
    let data = file?.data;
    if (!data && fields.file?.startsWith('data:')) data = Buffer.from(fields.file.slice(fields.file.indexOf(',') + 1), 'base64');
    if (!data) throw new HttpError(400, 'Missing required parameter - file');
    const size = resourceType === 'image' ? imageSize(data) : undefined;
    if (resourceType === 'image' && !size) throw new HttpError(400, 'Invalid image file');
    const name = fields.public_id || randomBytes(10).toString('hex');
    const publicId = fields.folder ? `${fields.folder}/${name}` : name;
    const key = `${resourceType}/${publicId}`;
    const previous = assets.get(key);
    if (previous && ['false', '0'].includes(fields.overwrite ?? '')) return { json: view(previous, true) };
    const format =
      size?.format ??
      (extname(file?.filename ?? '')
        .slice(1)
        .toLowerCase() ||
        (resourceType === 'video' ? 'mp4' : 'bin'));
    lastVersion = Math.max(lastVersion + 1, Math.floor(Date.now() / 1000));
    const path = join(storageDir, resourceType, `${publicId}.${format}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
    const asset: StoredAsset = {
      assetId: previous?.assetId ?? randomBytes(16).toString('hex'),
      publicId,
      resourceType,
      version: lastVersion,
      format,
      bytes: data.length,
      width: size?.width,
      height: size?.height,
      etag: createHash('md5').update(data).digest('hex'),
      createdAt: previous?.createdAt ?? new Date().toISOString(),
      file: path,
      originalFilename: (file?.filename ?? name).replace(/\.[^.]+$/, ''),
    };
    assets.set(key, asset);
    return { json: view(asset, false) };
  }

  function destroy(req: RouteRequest) {
    const resourceType = req.params.resourceType ?? 'image';
    const { fields } = signedParams(req);
    const key = `${resourceType}/${fields.public_id ?? ''}`;
    const asset = assets.get(key);
    if (!asset) return { json: { result: 'not found' } };
    assets.delete(key);
    rmSync(asset.file, { force: true });
    return { json: { result: 'ok' } };
  }

  /** `/<cloud>/<type>/upload/[transformations/][v<version>/]<public_id>.<ext>` → the stored bytes. */
  function deliver(req: RouteRequest) {
    const segments = (req.params.rest ?? '').split('/');
    while (segments.length > 1 && /(^[a-z]{1,3}_)|,/.test(segments[0] ?? '')) segments.shift();
    if (segments.length > 1 && /^v\d+$/.test(segments[0] ?? '')) segments.shift();
    const path = segments.join('/');
    const publicId = path.replace(/\.[^./]+$/, '');
    const asset = assets.get(`${req.params.resourceType}/${publicId}`) ?? assets.get(`${req.params.resourceType}/${path}`);
    if (!asset || req.params.cloud !== options.cloudName) throw new HttpError(404, 'Resource not found');
    return {
      headers: { 'content-type': MIME[asset.format] ?? 'application/octet-stream', etag: `"${asset.etag}"` },
      text: readFileSync(asset.file),
    };
  }

  const routes: Route[] = [
    { method: 'POST', path: '/v1_1/:cloud/:resourceType/upload', handle: upload },
    { method: 'POST', path: '/v1_1/:cloud/:resourceType/destroy', handle: destroy },
    { method: 'GET', path: '/:cloud/:resourceType/upload/*rest', handle: deliver },
  ];

  const server = await createSandboxServer({
    name: 'cloudinary',
    routes,
    host: options.host,
    port: options.port,
    errorBody,
    onReset: () => {
      for (const asset of assets.values()) rmSync(asset.file, { force: true });
      assets.clear();
    },
  });
  baseUrl = server.url;
  return {
    url: server.url,
    server,
    assets,
    stop: async () => {
      await server.stop();
      if (!options.storageDir) rmSync(storageDir, { recursive: true, force: true });
    },
  };
}

export const cloudinarySandbox: SandboxDefinition = {
  name: 'cloudinary',
  enabled: (config) => !config.CLOUDINARY_URL,
  start: (config) =>
    startCloudinarySandbox({ ...SANDBOX_CREDENTIALS.cloudinary, storageDir: join(config.dataDir, 'sandbox', 'cloudinary') }),
};
