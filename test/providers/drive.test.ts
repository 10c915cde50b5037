import { ApplicationFailure } from '@temporalio/common';
import { providerCall } from '../../providers/call';
import { requestedRetryDelayMs } from '../../providers/errors';
import { createGoogleAuthAdapter } from '../../providers/google/auth';
import { createDriveAdapter, DRIVE_FOLDER_MIME, folderPath } from '../../providers/google/drive';
import { ProviderLimiter } from '../../providers/rate-limit';
import { startGoogleSandbox, type GoogleSandbox } from '../../sandbox/google';

const TOKEN = 'ya29.drive-user';
let sandbox: GoogleSandbox;

beforeAll(async () => {
  sandbox = await startGoogleSandbox();
});
afterAll(() => sandbox?.stop());
beforeEach(() => sandbox.reset());

const call = () => providerCall(new ProviderLimiter('google', { maxConcurrent: 2 }));
const drive = () => createDriveAdapter({ rootUrl: `${sandbox.url}/`, call: call() });
const auth = () =>
  createGoogleAuthAdapter({
    clientId: 'client-id',
    clientSecret: 'client-secret',
    tokenUrl: `${sandbox.url}/token`,
    call: call(),
    now: () => Date.parse('2026-01-01T00:00:00Z'),
  });

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('Google Drive adapter (googleapis drive v3 → sandbox)', () => {
  it('turns a naming pattern into folder levels', () => {
    expect(folderPath('{product} exports/{yyyy}-{mm}/', { product: 'ClipFlow', yyyy: 2026, mm: '01' })).toEqual([
      'ClipFlow exports',
      '2026-01',
    ]);
    expect(folderPath('{title}/{missing}', { title: "Maya's talk" })).toEqual(["Maya's talk", '{missing}']);
  });

  it('find-or-create folder: creates once, then finds the same folder (names with quotes included)', async () => {
    const d = drive();
    const root = await d.findOrCreateFolder({ accessToken: TOKEN, name: "Maya's exports" });
    expect(root).toMatchObject({ name: "Maya's exports", mimeType: DRIVE_FOLDER_MIME });
    expect(await d.findOrCreateFolder({ accessToken: TOKEN, name: "Maya's exports" })).toEqual(root);
    const child = await d.findOrCreateFolder({ accessToken: TOKEN, name: '2026-01', parentId: root.id });
    expect(sandbox.driveFiles.get(child.id)!.parents).toEqual([root.id]);
    // Same name under another parent is another folder.
    expect((await d.findOrCreateFolder({ accessToken: TOKEN, name: '2026-01' })).id).not.toBe(child.id);
    expect([...sandbox.driveFiles.values()].filter((f) => f.mimeType === DRIVE_FOLDER_MIME)).toHaveLength(3);
    expect(sandbox.requests.find((r) => r.method === 'GET')!.query.q).toBe(
      `mimeType = 'application/vnd.google-apps.folder' and name = 'Maya\\'s exports' and 'root' in parents and trashed = false`,
    );
  });

  it('files.create multipart upload to the per-call rootUrl: bytes and mime type arrive intact; a retry finds the first copy', async () => {
    const d = drive();
    const folder = await d.findOrCreateFolder({ accessToken: TOKEN, name: 'Blog posts' });
    const docx = Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(2048, 7), Buffer.from([0xff, 0xfe, 0x0d, 0x0a])]);
    const request = {
      accessToken: TOKEN,
      folderId: folder.id,
      name: 'post.docx',
      mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      body: docx,
      idempotencyKey: 'video_content:42:v1:docx',
    };
    const file = await d.uploadFile(request);
    expect(file).toMatchObject({ name: 'post.docx', mimeType: request.mimeType, size: docx.length });
    expect(file.webViewLink).toContain(file.id);
    expect(sandbox.requests.at(-1)).toMatchObject({ method: 'POST', path: '/upload/drive/v3/files', query: { uploadType: 'multipart' } });
    const downloaded = Buffer.from(
      await (
        await fetch(`${sandbox.url}/drive/v3/files/${file.id}?alt=media`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).arrayBuffer(),
    );
    expect(downloaded.equals(docx)).toBe(true);

    const uploadsBefore = sandbox.requests.filter((r) => r.path === '/upload/drive/v3/files').length;
    expect(await d.uploadFile(request)).toEqual(file);
    expect(sandbox.requests.filter((r) => r.path === '/upload/drive/v3/files')).toHaveLength(uploadsBefore);
    await expect(
      d.uploadFile({
        ...request,
        name: 'post.md',
        mimeType: 'text/markdown',
        body: Buffer.from('# Post'),
        idempotencyKey: 'video_content:42:v1:md',
      }),
    ).resolves.toMatchObject({ name: 'post.md', size: 6 });
  });

  it('classifies Drive faults: 429 → retryable with Retry-After; 401 → ProviderAuth; unknown parent → NotFound', async () => {
    const d = drive();
    sandbox.faults.inject({ match: { method: 'GET', path: '/drive/v3/files' }, status: 429, retryAfterSeconds: 4 });
    const limited = await failureOf(d.findOrCreateFolder({ accessToken: TOKEN, name: 'x' }));
    expect(limited).toMatchObject({ type: 'RateLimited', nonRetryable: false });
    expect(requestedRetryDelayMs(limited)).toBe(4000);
    await expect(failureOf(drive().findOrCreateFolder({ accessToken: 'revoked-token', name: 'x' }))).resolves.toMatchObject({
      type: 'ProviderAuth',
      nonRetryable: true,
    });
    await expect(
      failureOf(drive().findOrCreateFolder({ accessToken: TOKEN, name: 'x', parentId: 'no-such-folder' })),
    ).resolves.toMatchObject({ type: 'NotFound', nonRetryable: true });
  });
});

describe('Google OAuth token refresh (token endpoint → sandbox)', () => {
  it('exchanges a refresh token for a new access token with its expiry', async () => {
    const token = await auth().refreshGoogleToken('1//refresh-token');
    expect(token.accessToken).toMatch(/^ya29\./);
    expect(token.expiresAt.toISOString()).toBe('2026-01-01T00:59:59.000Z');
    expect(token.scope).toContain('youtube.upload');
    const form = new URLSearchParams(sandbox.requests.at(-1)!.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: '1//refresh-token',
      client_id: 'client-id',
      client_secret: 'client-secret',
    });
    // The new token works on the APIs.
    await expect(drive().findOrCreateFolder({ accessToken: token.accessToken, name: 'after refresh' })).resolves.toMatchObject({
      name: 'after refresh',
    });
  });

  it('invalid_grant (revoked consent) → non-retryable ProviderAuth; a 503 stays retryable', async () => {
    await expect(failureOf(auth().refreshGoogleToken('revoked-refresh-token'))).resolves.toMatchObject({
      type: 'ProviderAuth',
      nonRetryable: true,
    });
    sandbox.faults.inject({ match: { path: '/token' }, status: 503 });
    await expect(failureOf(auth().refreshGoogleToken('1//refresh-token'))).resolves.toMatchObject({
      type: 'ProviderUnavailable',
      nonRetryable: false,
    });
  });
});
