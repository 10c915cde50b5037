import { Readable } from 'node:stream';

/** googleapis streams multipart uploads and cannot pipe a Buffer, so bytes go in as a stream. */
export function asUploadStream(body: Buffer | Readable): Readable {
  return Buffer.isBuffer(body) ? Readable.from([body]) : body;
}

/** Request options every googleapis service of ours uses. */
export function googleRequestDefaults(timeoutMs: number) {
  return {
    // Retries are Temporal's job: gaxios's own retry would hide 429s and 5xx from the classification.
    retry: false,
    timeout: timeoutMs,
    // Node's own fetch rather than node-fetch, which gaxios loads through a dynamic import()
    // that jest's CommonJS VM cannot run; one HTTP stack for every provider either way.
    fetchImplementation: fetch,
  };
}
