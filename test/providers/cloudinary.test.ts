import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import { providerCall } from '../../providers/call';
import { CloudinaryAdapter, type CloudinaryCredentials, parseCloudinaryUrl } from '../../providers/cloudinary';
import { ProviderLimiter } from '../../providers/rate-limit';
import { type CloudinarySandbox, startCloudinarySandbox } from '../../sandbox/cloudinary';

const ACCOUNT = { cloudName: 'sandbox', apiKey: '123456789012345', apiSecret: 'sandbox-api-secret' };

let sandbox: CloudinarySandbox;
let adapter: CloudinaryAdapter;
let credentials: CloudinaryCredentials;
let work: string;
let png: string;
let jpeg: Buffer;

function encodeImage(size: string, file: string): void {
  execFileSync(ffmpeg.path, ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=1`, '-frames:v', '1', '-y', file]);
}

beforeAll(async () => {
  // The SDK is loaded without CLOUDINARY_URL: the adapter's per-call options must reach the http sandbox anyway.
  expect(process.env.CLOUDINARY_URL).toBeUndefined();
  work = mkdtempSync(join(tmpdir(), 'cloudinary-test-'));
  png = join(work, 'frame.png');
  encodeImage('320x180', png);
  encodeImage('640x360', join(work, 'frame.jpg'));
  jpeg = readFileSync(join(work, 'frame.jpg'));
  sandbox = await startCloudinarySandbox({ ...ACCOUNT, storageDir: join(work, 'store') });
  const host = new URL(sandbox.url).host;
  credentials = {
    ...parseCloudinaryUrl(`cloudinary://${ACCOUNT.apiKey}:${ACCOUNT.apiSecret}@${ACCOUNT.cloudName}?upload_prefix=${sandbox.url}`),
    deliveryHost: host,
  };
});

beforeEach(() => {
  sandbox.server.reset();
  adapter = new CloudinaryAdapter(credentials, providerCall(new ProviderLimiter('cloudinary', { maxConcurrent: 2 })));
});

afterAll(async () => {
  await sandbox.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('Cloudinary adapter against the sandbox', () => {
  test('parses CLOUDINARY_URL', () => {
    expect(parseCloudinaryUrl('cloudinary://key:s%2Fecret@demo?upload_prefix=http://127.0.0.1:9')).toEqual({
      cloudName: 'demo',
      apiKey: 'key',
      apiSecret: 's/ecret',
      uploadPrefix: 'http://127.0.0.1:9',
    });
    expect(() => parseCloudinaryUrl('https://demo')).toThrow(/cloudinary:\/\//);
  });

  test('uploads a local PNG over http to the sandbox, signed; the returned URL serves the same bytes', async () => {
    const asset = await adapter.upload({ source: png, publicId: 'thumb-1', folder: 'thumbnails/user-1', resourceType: 'image' });
    expect(asset).toMatchObject({ publicId: 'thumbnails/user-1/thumb-1', resourceType: 'image', format: 'png', width: 320, height: 180 });
    expect(asset.bytes).toBe(readFileSync(png).length);
    expect(asset.url.startsWith(`${sandbox.url}/sandbox/image/upload/v`)).toBe(true);
    const [request] = sandbox.server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1_1/sandbox/image/upload', status: 200 });
    const served = await fetch(asset.url);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(readFileSync(png))).toBe(true);
  });

  test('uploading a buffer twice under one public id overwrites a single asset (idempotent retry)', async () => {
    const first = await adapter.upload({ source: jpeg, publicId: 'cover', folder: 'covers', resourceType: 'image' });
    const second = await adapter.upload({ source: jpeg, publicId: 'cover', folder: 'covers', resourceType: 'image' });
    expect(first).toMatchObject({ publicId: 'covers/cover', format: 'jpg', width: 640, height: 360 });
    expect(second.publicId).toBe(first.publicId);
    expect(second.version).toBeGreaterThan(first.version);
    expect(sandbox.assets.size).toBe(1);
  });

  test('video upload, transformation URL served by the sandbox, destroy', async () => {
    const clip = join(work, 'clip.mp4');
    writeFileSync(clip, Buffer.from('not really a video, the sandbox stores bytes as given'));
    const video = await adapter.upload({ source: clip, publicId: 'clip-1', resourceType: 'video' });
    expect(video).toMatchObject({ publicId: 'clip-1', resourceType: 'video', format: 'mp4' });

    const image = await adapter.upload({ source: png, publicId: 'thumb-2', folder: 'thumbs', resourceType: 'image' });
    const url = adapter.url(image.publicId, 'image', { width: 160, height: 90, crop: 'fill', format: 'png' }, image.version);
    expect(url).toBe(`${sandbox.url}/sandbox/image/upload/c_fill,h_90,w_160/v${image.version}/thumbs/thumb-2.png`);
    expect((await fetch(url)).status).toBe(200);

    expect(await adapter.destroy(image.publicId, 'image')).toBe(true);
    expect(await adapter.destroy(image.publicId, 'image')).toBe(false);
    expect((await fetch(url)).status).toBe(404);
  });

  test('production URLs use https://res.cloudinary.com', () => {
    const production = new CloudinaryAdapter(
      { cloudName: 'demo', apiKey: 'k', apiSecret: 's' },
      providerCall(new ProviderLimiter('cloudinary', { maxConcurrent: 1 })),
    );
    expect(production.url('a/b', 'video', { width: 720, crop: 'limit' })).toBe(
      'https://res.cloudinary.com/demo/video/upload/c_limit,w_720/v1/a/b',
    );
  });

  test('a wrong API secret is non-retryable ProviderAuth; 500 and 429 stay retryable', async () => {
    const wrong = new CloudinaryAdapter(
      { ...credentials, apiSecret: 'wrong' },
      providerCall(new ProviderLimiter('cloudinary', { maxConcurrent: 1 })),
    );
    await expect(wrong.upload({ source: png, publicId: 'x', resourceType: 'image' })).rejects.toMatchObject({
      type: 'ProviderAuth',
      nonRetryable: true,
    });

    sandbox.server.faults.inject({ match: { path: '/v1_1/' }, status: 500, times: 2 });
    for (let i = 0; i < 2; i += 1)
      await expect(adapter.upload({ source: png, publicId: 'y', resourceType: 'image' })).rejects.toMatchObject({
        type: 'ProviderUnavailable',
        nonRetryable: false,
      });
    expect((await adapter.upload({ source: png, publicId: 'y', resourceType: 'image' })).publicId).toBe('y');

    sandbox.server.faults.inject({ match: { path: '/v1_1/' }, status: 429 });
    await expect(adapter.upload({ source: jpeg, publicId: 'z', resourceType: 'image' })).rejects.toMatchObject({
      type: 'RateLimited',
      nonRetryable: false,
    });
  });
});
