import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ConfigError } from '../../lib/config';
import { createPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadDecryptionError } from '../../lib/payload-codec';
import { DEV_PAYLOAD_KEY_FILE, loadPayloadKeyring, type Keyring } from '../../lib/secrets';

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const ring = (active: string, entries: Array<[string, Buffer]>): Keyring => ({ activeKeyId: active, keys: new Map(entries) });
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

const TRANSCRIPT = 'a private transcript line: call me on 555-0100';
const original = (): Payload => defaultPayloadConverter.toPayload({ transcript: TRANSCRIPT, prompt: 'write a summary' });

describe('payload codec (AES-256-GCM, key id in metadata)', () => {
  const codec = createPayloadCodec(ring('k1', [['k1', K1]]));

  it('round-trips a payload and hides its metadata and data', async () => {
    const [sealed] = await codec.encode([original()]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(sealed!.metadata!)).not.toContain('json');
    expect(text(sealed!.data)).not.toContain('transcript');
    expect(text(sealed!.data)).not.toContain('json/plain');
    const [opened] = await codec.decode([sealed!]);
    expect(opened).toEqual(original());
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({ transcript: TRANSCRIPT, prompt: 'write a summary' });
  });

  it('seals the same payload differently each time (random nonce)', async () => {
    const [a, b] = await codec.encode([original(), original()]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('refuses a tampered payload with an error that names no plaintext', async () => {
    const [sealed] = await codec.encode([original()]);
    const data = Buffer.from(sealed!.data!);
    data[20] = data[20]! ^ 0x01;
    const error = await codec.decode([{ ...sealed!, data }]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect((error as Error).message).toMatch(/failed authentication with key k1/);
    expect((error as Error).message).not.toContain(TRANSCRIPT);
  });

  it('refuses a payload whose key id was swapped in the metadata', async () => {
    const both = createPayloadCodec(
      ring('k1', [
        ['k1', K1],
        ['k2', K1],
      ]),
    );
    const [sealed] = await both.encode([original()]);
    const relabelled = { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(both.decode([relabelled])).rejects.toThrow(/failed authentication with key k2/);
  });

  it('rotation: the new key encrypts, the old key still decrypts what it sealed', async () => {
    const [old] = await codec.encode([original()]);
    const rotated = createPayloadCodec(
      ring('k2', [
        ['k2', K2],
        ['k1', K1],
      ]),
    );
    const [fresh] = await rotated.encode([original()]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    expect(await rotated.decode([old!, fresh!])).toEqual([original(), original()]);
  });

  it('names an unknown key id and the variable to add it to', async () => {
    const [sealed] = await createPayloadCodec(ring('k9', [['k9', K2]])).encode([original()]);
    await expect(codec.decode([sealed!])).rejects.toThrow(/unknown key id "k9": add that key to PAYLOAD_ENCRYPTION_KEYS \(known: k1\)/);
  });

  it('passes payloads written before encryption through unchanged (old histories keep replaying)', async () => {
    const plain = original();
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});

describe('loadPayloadKeyring', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'payload-keys-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = (PAYLOAD_ENCRYPTION_KEYS?: string, NODE_ENV: 'development' | 'production' = 'development') => ({
    PAYLOAD_ENCRYPTION_KEYS,
    NODE_ENV,
    dataDir,
  });

  it('takes the first listed key as the one that encrypts', () => {
    const keys = loadPayloadKeyring(config(`k2:${K2.toString('base64')},k1:${K1.toString('base64')}`));
    expect(keys.activeKeyId).toBe('k2');
    expect([...keys.keys.keys()]).toEqual(['k2', 'k1']);
  });

  it('refuses malformed entries, short keys and duplicate ids', () => {
    expect(() => loadPayloadKeyring(config(K1.toString('base64')))).toThrow(/PAYLOAD_ENCRYPTION_KEYS list entries must look like/);
    expect(() => loadPayloadKeyring(config(`k1:${randomBytes(16).toString('base64')}`))).toThrow(/32 bytes/);
    expect(() => loadPayloadKeyring(config(`k1:${K1.toString('base64')},k1:${K2.toString('base64')}`))).toThrow(/twice/);
  });

  it('in development generates one key per DATA_DIR (mode 0600) that every process there shares', () => {
    const first = loadPayloadKeyring(config());
    expect(statSync(join(dataDir, DEV_PAYLOAD_KEY_FILE)).mode & 0o777).toBe(0o600);
    const second = loadPayloadKeyring(config());
    expect(second.activeKeyId).toBe(first.activeKeyId);
    expect(second.keys.get(second.activeKeyId)!.equals(first.keys.get(first.activeKeyId)!)).toBe(true);
  });

  it('in production requires PAYLOAD_ENCRYPTION_KEYS', () => {
    expect(() => loadPayloadKeyring(config(undefined, 'production'))).toThrow(ConfigError);
    expect(() => loadPayloadKeyring(config(undefined, 'production'))).toThrow(/PAYLOAD_ENCRYPTION_KEYS is required in production/);
  });
});
