import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { createCaller, type TestCaller } from '../api/fixtures';
import { resolveTemporalCli } from '../../lib/runtime/temporal-binary';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { stackValue } from '../helpers/stack-env';

const CODEC_TOKEN = randomBytes(24).toString('base64url');
const UI_ORIGIN = 'http://127.0.0.1:8233';

/** Every byte string and text anywhere in a history (payload data and metadata, failure messages, ...). */
function* valuesIn(node: unknown): Generator<Buffer | string> {
  if (node instanceof Uint8Array) yield Buffer.from(node);
  else if (typeof node === 'string') yield node;
  else if (Array.isArray(node)) for (const item of node) yield* valuesIn(item);
  else if (node && typeof node === 'object') for (const value of Object.values(node)) yield* valuesIn(value);
}

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJsonText = (p: { data: string }) => Buffer.from(p.data, 'base64').toString('utf8');

describe('Temporal payload encryption and the codec server', () => {
  let platform: TestPlatform;
  let caller: TestCaller;
  /** A known input string, and the encrypted workflow input the server holds for it. */
  const marker = `private-${randomUUID()}`;
  let storedInput: Payload[];
  let runId: string;

  beforeAll(async () => {
    platform = await startTestPlatform({ env: { CODEC_TOKEN, CODEC_UI_ORIGINS: UI_ORIGIN } });
    caller = await createCaller(platform.database.db);
  });
  afterAll(() => platform?.stop());

  it('keeps workflow inputs, activity arguments and results out of the server in plaintext', async () => {
    const started = await api(platform.apiUrl, 'POST', '/v1/smoke', { name: marker }, caller.auth);
    expect(started.status).toBe(202);
    // The platform's client (with the codec) reads the result in clear: the marker did go through Temporal.
    runId = started.json.runId;
    const result = await platform.client.workflow.getHandle(runId).result();
    expect(result.greeting).toContain(marker);

    // A client without the codec sees what the server stores.
    const raw = new Client({ connection: platform.client.connection, namespace: 'default' });
    const history = await raw.workflow.getHandle(runId).fetchHistory();
    const found = [...valuesIn(history.events)].filter((v) => v.includes(marker));
    expect(found).toEqual([]);

    const startedEvent = history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!;
    storedInput = startedEvent.workflowExecutionStartedEventAttributes!.input!.payloads!;
    expect(storedInput.map((p) => Buffer.from(p.metadata!.encoding!).toString())).toEqual(['binary/encrypted']);
    expect(Buffer.from(storedInput[0]!.metadata!['encryption-key-id']!).toString()).toBe('test1');
    await expect(raw.workflow.getHandle(runId).result()).rejects.toThrow(/binary\/encrypted/);
  });

  it('decodes and encodes for a caller with the token, and refuses one without', async () => {
    const body = { payloads: storedInput.map(toJson) };
    const bearer = { authorization: `Bearer ${CODEC_TOKEN}` };

    const anonymous = await api(platform.apiUrl, 'POST', '/codec/decode', body);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="codec"');
    expect((await api(platform.apiUrl, 'POST', '/codec/decode', body, { authorization: 'Bearer wrong' })).status).toBe(401);
    // From another web page: neither the token nor an allowed origin.
    expect((await api(platform.apiUrl, 'POST', '/codec/decode', body, { origin: 'https://evil.example' })).status).toBe(401);

    const decoded = await api(platform.apiUrl, 'POST', '/codec/decode', body, bearer);
    expect(decoded.status).toBe(200);
    expect(decoded.json.payloads).toHaveLength(1);
    expect(Buffer.from(decoded.json.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(fromJsonText(decoded.json.payloads[0]))).toMatchObject({ name: marker });

    // encode → decode gives the payload back; the encoded one hides it.
    const encoded = await api(platform.apiUrl, 'POST', '/codec/encode', { payloads: decoded.json.payloads }, bearer);
    expect(encoded.status).toBe(200);
    expect(fromJsonText(encoded.json.payloads[0])).not.toContain(marker);
    const again = await api(platform.apiUrl, 'POST', '/codec/decode', { payloads: encoded.json.payloads }, bearer);
    expect(again.json).toEqual(decoded.json);

    // A tampered payload is a 400 naming the key, not a 500.
    const tampered = structuredClone(body);
    const bytes = Buffer.from(tampered.payloads[0]!.data, 'base64');
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    tampered.payloads[0]!.data = bytes.toString('base64');
    const refused = await api(platform.apiUrl, 'POST', '/codec/decode', tampered, bearer);
    expect(refused.status).toBe(400);
    expect(refused.json.detail).toMatch(/failed authentication with key test1/);
    expect((await api(platform.apiUrl, 'POST', '/codec/decode', { payloads: [{ data: '***' }] }, bearer)).status).toBe(400);
  });

  it('decodes for the Temporal CLI (--codec-endpoint with --codec-auth)', async () => {
    // Asynchronously: the codec server the CLI calls runs in this process.
    const show = async (...codec: string[]) =>
      (
        await promisify(execFile)(
          resolveTemporalCli(),
          ['workflow', 'show', '--address', stackValue('temporalAddress'), '--workflow-id', runId, ...codec],
          { encoding: 'utf8' },
        )
      ).stdout;
    expect(await show()).not.toContain(marker);
    expect(await show('--codec-endpoint', `${platform.apiUrl}/codec`, '--codec-auth', `Bearer ${CODEC_TOKEN}`)).toContain(marker);
  });

  it('serves the Temporal UI origin: CORS preflight, then decode without a token', async () => {
    const preflight = await fetch(`${platform.apiUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: UI_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.split(',')).toEqual(['content-type', 'authorization', 'x-namespace']);

    const other = await fetch(`${platform.apiUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const fromUi = await api(
      platform.apiUrl,
      'POST',
      '/codec/decode',
      { payloads: storedInput.map(toJson) },
      { origin: UI_ORIGIN, 'x-namespace': 'default' },
    );
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(JSON.parse(fromJsonText(fromUi.json.payloads[0]))).toMatchObject({ name: marker });
  });

  it('is not part of the public API document', async () => {
    const document = await api(platform.apiUrl, 'GET', '/openapi.json');
    expect(Object.keys(document.json.paths).filter((path) => path.startsWith('/codec'))).toEqual([]);
  });
});
