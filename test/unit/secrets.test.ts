import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../lib/config';
import { createSecretBox, DEV_KEY_FILE, loadEncryptionKey, secretAad, SecretDecryptionError, type Keyring } from '../../lib/secrets';

const keyring = (activeKeyId: string, keys: Record<string, Buffer>): Keyring => ({ activeKeyId, keys: new Map(Object.entries(keys)) });
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const TOKENS = JSON.stringify({ access_token: 'ya29.secret-access', refresh_token: '1//secret-refresh' });
const ROW_A = secretAad('social_accounts', 'encrypted_tokens', '5b1f3a9e-0000-4000-8000-00000000000a');
const ROW_B = secretAad('social_accounts', 'encrypted_tokens', '5b1f3a9e-0000-4000-8000-00000000000b');

/** Flips one bit of the base64url field at `index` (1 key id, 2 nonce, 3 ciphertext, 4 tag). */
function flipBit(sealed: string, index: number): string {
  const parts = sealed.split(':');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join(':');
}

describe('secret box (AES-256-GCM, row-bound)', () => {
  const box = createSecretBox(keyring('k1', { k1: K1 }));

  it('round-trips a secret and never stores the plaintext', () => {
    const sealed = box.encrypt(TOKENS, ROW_A);
    expect(sealed).toMatch(/^v1:k1:[\w-]+:[\w-]+:[\w-]+$/);
    expect(sealed).not.toContain('secret');
    expect(box.decrypt(sealed, ROW_A)).toBe(TOKENS);
  });

  it('uses a fresh 12-byte nonce each time, so equal secrets seal differently', () => {
    const [a, b] = [box.encrypt(TOKENS, ROW_A), box.encrypt(TOKENS, ROW_A)];
    expect(a).not.toBe(b);
    expect(Buffer.from(a.split(':')[2]!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(a.split(':')[4]!, 'base64url')).toHaveLength(16);
  });

  it.each([
    ['nonce', 2],
    ['ciphertext', 3],
    ['auth tag', 4],
  ])('rejects a flipped bit in the %s', (_field, index) => {
    const sealed = box.encrypt(TOKENS, ROW_A);
    expect(() => box.decrypt(flipBit(sealed, index), ROW_A)).toThrow(SecretDecryptionError);
  });

  it('rejects decryption with the wrong key under the same key id', () => {
    const sealed = box.encrypt(TOKENS, ROW_A);
    const impostor = createSecretBox(keyring('k1', { k1: K2 }));
    expect(() => impostor.decrypt(sealed, ROW_A)).toThrow(SecretDecryptionError);
  });

  it('rejects a ciphertext moved to another row or another column', () => {
    const sealed = box.encrypt(TOKENS, ROW_A);
    expect(() => box.decrypt(sealed, ROW_B)).toThrow(SecretDecryptionError);
    expect(() => box.decrypt(sealed, secretAad('youtube_oauth_tokens', 'encrypted_tokens', ROW_A.split(':')[2]!))).toThrow(
      SecretDecryptionError,
    );
  });

  it('rejects malformed envelopes and unknown key ids without leaking the secret', () => {
    expect(() => box.decrypt('not-an-envelope', ROW_A)).toThrow(SecretDecryptionError);
    const foreign = createSecretBox(keyring('k9', { k9: K2 })).encrypt(TOKENS, ROW_A);
    expect(() => box.decrypt(foreign, ROW_A)).toThrow(/unknown key id k9/);
  });

  it('supports rotation: new secrets use the active key, old ones still open with the retired key', () => {
    const old = box.encrypt(TOKENS, ROW_A);
    const rotated = createSecretBox(keyring('k2', { k2: K2, k1: K1 }));
    expect(rotated.decrypt(old, ROW_A)).toBe(TOKENS);
    const fresh = rotated.encrypt(TOKENS, ROW_A);
    expect(rotated.keyIdOf(fresh)).toBe('k2');
    expect(rotated.keyIdOf(old)).toBe('k1');
    expect(() => box.decrypt(fresh, ROW_A)).toThrow(SecretDecryptionError);
  });
});

describe('loadEncryptionKey', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'secrets-test-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const config = (over: Partial<Parameters<typeof loadEncryptionKey>[0]> = {}) => ({
    ENCRYPTION_KEY: undefined,
    ENCRYPTION_KEY_ID: 'k1',
    NODE_ENV: 'development' as const,
    dataDir,
    ...over,
  });

  it('uses a configured base64 key under ENCRYPTION_KEY_ID', () => {
    const ring = loadEncryptionKey(config({ ENCRYPTION_KEY: K1.toString('base64') }));
    expect(ring.activeKeyId).toBe('k1');
    expect(ring.keys.get('k1')!.equals(K1)).toBe(true);
  });

  it('accepts a key list during rotation and requires the active id to be in it', () => {
    const list = `k2:${K2.toString('base64')},k1:${K1.toString('base64')}`;
    const ring = loadEncryptionKey(config({ ENCRYPTION_KEY: list, ENCRYPTION_KEY_ID: 'k2' }));
    expect([...ring.keys.keys()]).toEqual(['k2', 'k1']);
    expect(() => loadEncryptionKey(config({ ENCRYPTION_KEY: list, ENCRYPTION_KEY_ID: 'k3' }))).toThrow(ConfigError);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => loadEncryptionKey(config({ ENCRYPTION_KEY: randomBytes(16).toString('base64') }))).toThrow(/32 bytes/);
  });

  it('in development without a key generates one once, mode 0600, and reuses it', () => {
    const first = loadEncryptionKey(config());
    const file = join(dataDir, DEV_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadEncryptionKey(config());
    expect(second.keys.get('k1')!.equals(first.keys.get('k1')!)).toBe(true);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
  });

  it('in production requires ENCRYPTION_KEY', () => {
    expect(() => loadEncryptionKey(config({ NODE_ENV: 'production' }))).toThrow(/ENCRYPTION_KEY is required/);
  });
});
