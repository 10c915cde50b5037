import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, refuseSandboxInProduction, type Config } from './config';

/**
 * Secrets at rest (OAuth and cloud tokens, webhook signing secrets): AES-256-GCM with a random
 * 12-byte nonce, the auth tag and the key id stored in one self-describing envelope:
 *
 *   v1:<keyId>:<nonce base64url>:<ciphertext base64url>:<tag base64url>
 *
 * The owning row is bound as associated data (`secretAad('social_accounts', 'encrypted_tokens',
 * id)`), so a ciphertext copied onto another row or column no longer decrypts.
 */

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const ENVELOPE_VERSION = 'v1';
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
export const DEV_KEY_FILE = 'encryption.key';
export const DEV_PAYLOAD_KEY_FILE = 'payload-encryption.key';
const DEV_PAYLOAD_KEY_ID = 'local';
export const SANDBOX_WEBHOOK_SECRET_FILE = 'stripe-webhook-secret';
export const ASSEMBLYAI_WEBHOOK_SECRET_FILE = 'assemblyai-webhook-secret';

export interface Keyring {
  /** The key new secrets are sealed with. */
  activeKeyId: string;
  /** Every key that may still open a stored secret (the active one plus rotated-out ones). */
  keys: ReadonlyMap<string, Buffer>;
}

export interface SecretBox {
  encrypt(plaintext: string, aad: string): string;
  /** Throws SecretDecryptionError when the envelope, key, tag or associated data do not match. */
  decrypt(sealed: string, aad: string): string;
  /** The key id a stored envelope was sealed with (for re-encryption after a rotation). */
  keyIdOf(sealed: string): string;
}

/** Never carries the plaintext or key material: safe to log. */
export class SecretDecryptionError extends Error {
  override name = 'SecretDecryptionError';
}

/** Associated data naming the row and column that own a secret. */
export function secretAad(table: string, column: string, rowId: string): string {
  return `${table}:${column}:${rowId}`;
}

function decodeKey(base64: string, keyId: string, variable = 'ENCRYPTION_KEY'): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== KEY_BYTES) throw new ConfigError(`${variable} for key id ${keyId} must be base64 of ${KEY_BYTES} bytes`);
  return key;
}

function checkKeyId(keyId: string): string {
  if (!KEY_ID_PATTERN.test(keyId)) throw new ConfigError(`encryption key id "${keyId}" must match ${KEY_ID_PATTERN.source}`);
  return keyId;
}

/**
 * The keyring from config. ENCRYPTION_KEY is either one base64 key (named ENCRYPTION_KEY_ID) or,
 * during a rotation, a list `k2:<base64>,k1:<base64>` in which ENCRYPTION_KEY_ID names the active
 * key. Outside production, with no key configured, one is generated once and kept at
 * DATA_DIR/encryption.key (mode 0600) so dev restarts can still read what they stored.
 */
export function loadEncryptionKey(config: Pick<Config, 'ENCRYPTION_KEY' | 'ENCRYPTION_KEY_ID' | 'NODE_ENV' | 'dataDir'>): Keyring {
  const activeKeyId = checkKeyId(config.ENCRYPTION_KEY_ID);
  const configured = config.ENCRYPTION_KEY;
  if (configured === undefined) {
    if (config.NODE_ENV === 'production') throw new ConfigError('ENCRYPTION_KEY is required in production (base64 of 32 bytes)');
    return { activeKeyId, keys: new Map([[activeKeyId, loadOrCreateDevKey(config.dataDir, activeKeyId)]]) };
  }
  if (!configured.includes(':')) return { activeKeyId, keys: new Map([[activeKeyId, decodeKey(configured, activeKeyId)]]) };

  const keys = parseKeyList(configured, 'ENCRYPTION_KEY');
  if (!keys.has(activeKeyId)) throw new ConfigError(`ENCRYPTION_KEY_ID ${activeKeyId} is not among the keys in ENCRYPTION_KEY`);
  return { activeKeyId, keys };
}

/** `k2:<base64>,k1:<base64>` as a key id → key map, in the listed order. */
function parseKeyList(configured: string, variable: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of configured.split(',')) {
    const [id, base64, ...rest] = entry.trim().split(':');
    if (!id || !base64 || rest.length > 0) throw new ConfigError(`${variable} list entries must look like <keyId>:<base64 key>`);
    if (keys.has(id)) throw new ConfigError(`${variable} lists key id ${id} twice`);
    keys.set(checkKeyId(id), decodeKey(base64, id, variable));
  }
  return keys;
}

/**
 * The keyring encrypting Temporal payloads (lib/payload-codec.ts). PAYLOAD_ENCRYPTION_KEYS lists
 * `<keyId>:<base64 of 32 bytes>` entries; the first encrypts, every listed key decrypts (rotation:
 * prepend the new key, drop the old one once no retained history needs it). Outside production,
 * unset, one key (id `local`) is generated once at DATA_DIR/payload-encryption.key (mode 0600),
 * shared by the API and every worker process on that DATA_DIR.
 */
export function loadPayloadKeyring(config: Pick<Config, 'PAYLOAD_ENCRYPTION_KEYS' | 'NODE_ENV' | 'dataDir'>): Keyring {
  const configured = config.PAYLOAD_ENCRYPTION_KEYS;
  if (configured === undefined) {
    if (config.NODE_ENV === 'production')
      throw new ConfigError('PAYLOAD_ENCRYPTION_KEYS is required in production (<keyId>:<base64 of 32 bytes>[,<older keyId>:<base64>...])');
    const base64 = loadOrCreateDataFile(config.dataDir, DEV_PAYLOAD_KEY_FILE, () => randomBytes(KEY_BYTES).toString('base64'));
    return {
      activeKeyId: DEV_PAYLOAD_KEY_ID,
      keys: new Map([[DEV_PAYLOAD_KEY_ID, decodeKey(base64, DEV_PAYLOAD_KEY_ID, DEV_PAYLOAD_KEY_FILE)]]),
    };
  }
  const keys = parseKeyList(configured, 'PAYLOAD_ENCRYPTION_KEYS');
  const [activeKeyId] = keys.keys();
  if (activeKeyId === undefined) throw new ConfigError('PAYLOAD_ENCRYPTION_KEYS lists no key');
  return { activeKeyId, keys };
}

function loadOrCreateDevKey(dataDir: string, keyId: string): Buffer {
  return decodeKey(
    loadOrCreateDataFile(dataDir, DEV_KEY_FILE, () => randomBytes(KEY_BYTES).toString('base64')),
    keyId,
  );
}

/** A random value generated once per DATA_DIR (mode 0600), so restarts and sibling processes share it. */
function loadOrCreateDataFile(dataDir: string, name: string, generate: () => string): string {
  const path = join(dataDir, name);
  mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' fails if the file exists, so two processes starting together keep one value.
    writeFileSync(path, `${generate()}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(path, 'utf8').trim();
}

/**
 * The secret Stripe webhooks are signed with: STRIPE_WEBHOOK_SECRET, which a real
 * STRIPE_SECRET_KEY requires. While Stripe is sandboxed, a random one generated once per DATA_DIR
 * (like the dev encryption key) that the Stripe sandbox signs with: never a constant from the
 * source, which anyone could sign forged events with. Production refuses the sandbox one.
 */
export function loadStripeWebhookSecret(
  config: Pick<Config, 'STRIPE_WEBHOOK_SECRET' | 'STRIPE_SECRET_KEY' | 'NODE_ENV' | 'ALLOW_SANDBOX_PROVIDERS' | 'dataDir'>,
): string {
  if (config.STRIPE_WEBHOOK_SECRET) return config.STRIPE_WEBHOOK_SECRET;
  if (config.STRIPE_SECRET_KEY)
    throw new ConfigError(
      'STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY (the whsec_ signing secret of your Stripe webhook endpoint)',
    );
  refuseSandboxInProduction(config, 'STRIPE_SECRET_KEY (with STRIPE_WEBHOOK_SECRET)');
  return loadOrCreateDataFile(config.dataDir, SANDBOX_WEBHOOK_SECRET_FILE, () => `whsec_${randomBytes(32).toString('base64url')}`);
}

/** The AssemblyAI webhook auth header value: configured, or a random one created once in DATA_DIR. */
export function loadAssemblyAiWebhookSecret(config: Pick<Config, 'ASSEMBLYAI_WEBHOOK_SECRET' | 'dataDir'>): string {
  return (
    config.ASSEMBLYAI_WEBHOOK_SECRET ??
    loadOrCreateDataFile(config.dataDir, ASSEMBLYAI_WEBHOOK_SECRET_FILE, () => randomBytes(32).toString('base64url'))
  );
}

export function createSecretBox(keyring: Keyring): SecretBox {
  const activeKey = keyring.keys.get(keyring.activeKeyId);
  if (!activeKey) throw new ConfigError(`active encryption key ${keyring.activeKeyId} is missing from the keyring`);
  for (const [id, key] of keyring.keys) {
    checkKeyId(id);
    if (key.length !== KEY_BYTES) throw new ConfigError(`encryption key ${id} must be ${KEY_BYTES} bytes`);
  }

  function parse(sealed: string): { keyId: string; nonce: Buffer; ciphertext: Buffer; tag: Buffer } {
    const parts = sealed.split(':');
    if (parts.length !== 5 || parts[0] !== ENVELOPE_VERSION) throw new SecretDecryptionError('not a sealed secret envelope');
    const [, keyId, nonce, ciphertext, tag] = parts as [string, string, string, string, string];
    const decoded = {
      keyId,
      nonce: Buffer.from(nonce, 'base64url'),
      ciphertext: Buffer.from(ciphertext, 'base64url'),
      tag: Buffer.from(tag, 'base64url'),
    };
    if (decoded.nonce.length !== NONCE_BYTES || decoded.tag.length !== TAG_BYTES)
      throw new SecretDecryptionError('malformed sealed secret envelope');
    return decoded;
  }

  return {
    encrypt(plaintext, aad) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv(ALGORITHM, activeKey, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        ENVELOPE_VERSION,
        keyring.activeKeyId,
        nonce.toString('base64url'),
        ciphertext.toString('base64url'),
        tag.toString('base64url'),
      ].join(':');
    },

    decrypt(sealed, aad) {
      const { keyId, nonce, ciphertext, tag } = parse(sealed);
      const key = keyring.keys.get(keyId);
      if (!key) throw new SecretDecryptionError(`sealed with unknown key id ${keyId}`);
      try {
        const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretDecryptionError('secret failed authentication (wrong key, tampered data or moved to another row)');
      }
    },

    keyIdOf(sealed) {
      return parse(sealed).keyId;
    },
  };
}
