import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import type { Keyring } from './secrets';

/**
 * Temporal payload encryption: every payload the SDK sends (workflow and activity inputs and
 * results, signals, updates, queries, memos, heartbeat details) is sealed with AES-256-GCM before
 * it reaches the server, so transcripts, prompts, generated text and personal data are not
 * plaintext in Temporal's database or UI. The codec runs in the client and the worker's main
 * thread (DataConverter.payloadCodecs), never inside the workflow sandbox.
 *
 * An encrypted payload:
 *   metadata  encoding = binary/encrypted, encryption-key-id = <keyId>, encryption-cipher = AES-256-GCM
 *   data      <12-byte nonce><ciphertext of the original payload (metadata + data)><16-byte tag>
 * The key id is bound as associated data. Payloads without `binary/encrypted` (histories written
 * before encryption was turned on) decode unchanged.
 */

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A payload that cannot be opened: unknown key id, tampered bytes or a malformed envelope. Names no key material. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

const text = (value: Uint8Array | undefined): string | undefined => (value === undefined ? undefined : Buffer.from(value).toString('utf8'));
const aadOf = (keyId: string): Buffer => Buffer.from(`temporal-payload:${keyId}`, 'utf8');

/** The original payload as bytes: metadata entry count, then per entry key and value (u32 lengths), then the data. */
function serialize(payload: Payload): Buffer {
  const entries = Object.entries(payload.metadata ?? {});
  const parts: Buffer[] = [u32(entries.length)];
  for (const [key, value] of entries) {
    const keyBytes = Buffer.from(key, 'utf8');
    parts.push(u32(keyBytes.length), keyBytes, u32(value.length), Buffer.from(value));
  }
  parts.push(Buffer.from(payload.data ?? new Uint8Array()));
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function deserialize(bytes: Buffer): Payload {
  let at = 0;
  const take = (length: number): Buffer => {
    if (at + length > bytes.length) throw new PayloadDecryptionError('malformed encrypted payload');
    const slice = bytes.subarray(at, at + length);
    at += length;
    return slice;
  };
  const readU32 = () => take(4).readUInt32BE();
  const metadata: Record<string, Uint8Array> = {};
  for (let count = readU32(); count > 0; count--) {
    const key = take(readU32()).toString('utf8');
    metadata[key] = new Uint8Array(take(readU32()));
  }
  return { metadata, data: new Uint8Array(bytes.subarray(at)) };
}

/** The codec of one keyring: encodes with the active key, decodes with any key of the ring. */
export function createPayloadCodec(keyring: Keyring): PayloadCodec {
  const found = keyring.keys.get(keyring.activeKeyId);
  if (!found) throw new Error(`active payload key ${keyring.activeKeyId} is missing from the keyring`);
  const activeKey: Buffer = found;

  function encrypt(payload: Payload): Payload {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, activeKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aadOf(keyring.activeKeyId));
    const ciphertext = Buffer.concat([cipher.update(serialize(payload)), cipher.final()]);
    return {
      metadata: {
        encoding: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(keyring.activeKeyId),
        [CIPHER_METADATA]: Buffer.from(CIPHER),
      },
      data: new Uint8Array(Buffer.concat([nonce, ciphertext, cipher.getAuthTag()])),
    };
  }

  function decrypt(payload: Payload): Payload {
    const metadata = payload.metadata ?? {};
    if (text(metadata.encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(metadata[KEY_ID_METADATA]);
    if (keyId === undefined) throw new PayloadDecryptionError(`encrypted payload carries no ${KEY_ID_METADATA}`);
    const cipher = text(metadata[CIPHER_METADATA]);
    if (cipher !== CIPHER) throw new PayloadDecryptionError(`encrypted payload uses unsupported cipher ${cipher ?? '(none)'}`);
    const key = keyring.keys.get(keyId);
    if (!key)
      throw new PayloadDecryptionError(
        `payload encrypted with unknown key id "${keyId}": add that key to PAYLOAD_ENCRYPTION_KEYS (known: ${[...keyring.keys.keys()].join(', ')})`,
      );
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) throw new PayloadDecryptionError('malformed encrypted payload');
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(aadOf(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plaintext = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`payload failed authentication with key ${keyId} (tampered or sealed with another key)`);
    }
    return deserialize(plaintext);
  }

  return {
    async encode(payloads) {
      return payloads.map(encrypt);
    },
    async decode(payloads) {
      return payloads.map(decrypt);
    },
  };
}

/** What every Temporal client and worker of the platform is given: the default converters plus encryption. */
export function payloadDataConverter(keyring: Keyring): DataConverter {
  return { payloadCodecs: [createPayloadCodec(keyring)] };
}
