import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { google } from 'googleapis';
import type { ProviderCall } from '../call';
import { googleUserAuth } from './auth';
import { asUploadStream, googleRequestDefaults } from './media';

export const DRIVE_FOLDER_MIME = 'application/vnd.google-apps.folder';
/** appProperties key holding the caller's idempotency key, so a retried upload finds its first copy. */
const IDEMPOTENCY_PROPERTY = 'platformKey';

export interface DriveFile {
  id: string;
  name: string;
  mimeType: string;
  webViewLink: string | null;
  size: number | null;
}

export interface DriveUploadRequest {
  accessToken: string;
  folderId: string;
  name: string;
  mimeType: string;
  body: Buffer | Readable;
  /** Stable per logical file (e.g. `video_content:<id>:v2:docx`): a retry returns the file already uploaded. */
  idempotencyKey: string;
}

export interface DriveFileRequest {
  accessToken: string;
  fileId: string;
}

export interface DriveAdapter {
  findOrCreateFolder(request: { accessToken: string; name: string; parentId?: string }): Promise<DriveFile>;
  uploadFile(request: DriveUploadRequest): Promise<DriveFile>;
  /** The file's metadata (name, type, size); NotFound when it does not exist or is not shared with the user. */
  getFile(request: DriveFileRequest): Promise<DriveFile>;
  /** The Google account the token acts for (about.get): where exports go. */
  getAccount(request: { accessToken: string }): Promise<{ email: string | null; name: string | null }>;
  /** The file's bytes as a stream (files.get alt=media); `signal` aborts the download. */
  downloadFile(request: DriveFileRequest & { signal?: AbortSignal; timeoutMs?: number }): Promise<Readable>;
}

export interface DriveAdapterOptions {
  rootUrl?: string;
  timeoutMs?: number;
  call: ProviderCall;
}

/** `{name}` placeholders of a folder naming pattern, e.g. `'{product} exports/{yyyy}-{mm}'` → one name per `/` level. */
export function folderPath(pattern: string, values: Record<string, string | number>): string[] {
  return pattern
    .replace(/\{(\w+)\}/g, (m, key: string) => (key in values ? String(values[key]) : m))
    .split('/')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** Drive query string literal: backslash and single quote escaped. */
const literal = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const FILE_FIELDS = 'id, name, mimeType, webViewLink, size';

function toFile(f: {
  id?: string | null;
  name?: string | null;
  mimeType?: string | null;
  webViewLink?: string | null;
  size?: string | null;
}): DriveFile {
  return {
    id: f.id ?? '',
    name: f.name ?? '',
    mimeType: f.mimeType ?? '',
    webViewLink: f.webViewLink ?? null,
    size: f.size ? Number(f.size) : null,
  };
}

export function createDriveAdapter(options: DriveAdapterOptions): DriveAdapter {
  const drive = google.drive({ version: 'v3', rootUrl: options.rootUrl, ...googleRequestDefaults(options.timeoutMs ?? 120_000) });
  // googleapis ignores the service-level rootUrl for media uploads; it must be passed per call.
  const mediaOptions = options.rootUrl ? { rootUrl: options.rootUrl } : {};

  async function findOne(accessToken: string, clauses: string[]): Promise<DriveFile | undefined> {
    const res = await options.call(() =>
      drive.files.list({
        q: [...clauses, 'trashed = false'].join(' and '),
        fields: `files(${FILE_FIELDS})`,
        pageSize: 1,
        spaces: 'drive',
        auth: googleUserAuth(accessToken),
      }),
    );
    const file = res.data.files?.[0];
    return file ? toFile(file) : undefined;
  }

  return {
    async findOrCreateFolder({ accessToken, name, parentId }) {
      const parent = parentId ?? 'root';
      const existing = await findOne(accessToken, [
        `mimeType = ${literal(DRIVE_FOLDER_MIME)}`,
        `name = ${literal(name)}`,
        `${literal(parent)} in parents`,
      ]);
      if (existing) return existing;
      const res = await options.call(() =>
        drive.files.create({
          requestBody: { name, mimeType: DRIVE_FOLDER_MIME, parents: [parent] },
          fields: FILE_FIELDS,
          auth: googleUserAuth(accessToken),
        }),
      );
      return toFile(res.data);
    },

    async uploadFile({ accessToken, folderId, name, mimeType, body, idempotencyKey }) {
      const existing = await findOne(accessToken, [
        `appProperties has { key=${literal(IDEMPOTENCY_PROPERTY)} and value=${literal(idempotencyKey)} }`,
        `${literal(folderId)} in parents`,
      ]);
      if (existing) return existing;
      const res = await options.call(() =>
        drive.files.create(
          {
            requestBody: { name, mimeType, parents: [folderId], appProperties: { [IDEMPOTENCY_PROPERTY]: idempotencyKey } },
            media: { mimeType, body: asUploadStream(body) },
            fields: FILE_FIELDS,
            auth: googleUserAuth(accessToken),
          },
          mediaOptions,
        ),
      );
      return toFile(res.data);
    },

    async getFile({ accessToken, fileId }) {
      const res = await options.call(() =>
        drive.files.get({ fileId, fields: FILE_FIELDS, supportsAllDrives: true, auth: googleUserAuth(accessToken) }),
      );
      return toFile(res.data);
    },

    async getAccount({ accessToken }) {
      const res = await options.call(() =>
        drive.about.get({ fields: 'user(emailAddress, displayName)', auth: googleUserAuth(accessToken) }),
      );
      return { email: res.data.user?.emailAddress ?? null, name: res.data.user?.displayName ?? null };
    },

    async downloadFile({ accessToken, fileId, signal, timeoutMs }) {
      const res = await options.call(() =>
        drive.files.get(
          { fileId, alt: 'media', supportsAllDrives: true, auth: googleUserAuth(accessToken) },
          { responseType: 'stream', signal, ...(timeoutMs ? { timeout: timeoutMs } : {}) },
        ),
      );
      const body = res.data as unknown as Readable | ReadableStream<Uint8Array>;
      return body instanceof Readable ? body : Readable.fromWeb(body);
    },
  };
}
