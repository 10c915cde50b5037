import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';

/** The source passed the plan's size limit while streaming (or declared it up front). */
export class SourceTooLargeError extends Error {
  override name = 'SourceTooLargeError';
}

/** One request of the source from `offset` on; `ranged` says whether the answer starts there (206) or at 0. */
export interface SourceResponse {
  body: Readable;
  ranged: boolean;
  /** Bytes the answer will carry, when declared. */
  length: number | null;
}

export interface ResumableDownload {
  /** Where the bytes go; a file left by an earlier attempt is resumed. */
  path: string;
  maxBytes: number;
  /** Whether an earlier attempt of this activity may have left part of the file at `path`; else it is rewritten. */
  resume: boolean;
  open(offset: number): Promise<SourceResponse>;
  /** Called as bytes arrive, with the byte offset reached (the activity heartbeats it). */
  onProgress(offset: number): void;
  signal?: AbortSignal;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * Downloads into `path` within `maxBytes`, counting while streaming. A retried attempt asks for
 * the rest only (`Range: bytes=<size>-`); a source that ignores the range answers from byte 0 and
 * the file is rewritten. Returns the file's final size.
 */
export async function downloadResumable(download: ResumableDownload): Promise<number> {
  const already = download.resume ? await sizeOf(download.path) : 0;
  const response = await download.open(already);
  const offset = response.ranged ? already : 0;
  if (response.length !== null && offset + response.length > download.maxBytes) {
    response.body.destroy();
    throw new SourceTooLargeError(`the source declares ${offset + response.length} bytes`);
  }
  let received = offset;
  download.onProgress(received);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > download.maxBytes) {
        done(new SourceTooLargeError(`more than ${download.maxBytes} bytes`));
        return;
      }
      download.onProgress(received);
      done(null, chunk);
    },
  });
  await pipeline(
    response.body,
    counter,
    createWriteStream(download.path, offset > 0 ? { flags: 'a' } : {}),
    ...(download.signal ? [{ signal: download.signal }] : []),
  );
  return received;
}

/** A fetch Response as a SourceResponse. */
export function fromFetchResponse(res: Response): SourceResponse {
  const declared = res.headers.get('content-length');
  return {
    body: res.body ? Readable.fromWeb(res.body as ReadableStream<Uint8Array>) : Readable.from([]),
    ranged: res.status === 206,
    length: declared === null ? null : Number(declared),
  };
}
