import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalMediaStore } from '../../lib/media/store';

describe('local media store', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'media-store-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('copies a file in by default, leaving the caller its own', async () => {
    const source = join(root, 'upload.mp4');
    writeFileSync(source, 'video bytes');
    const stored = await createLocalMediaStore(join(root, 'media')).put('videos/v1/upload.mp4', source, 'video');
    expect(readFileSync(stored.path as string, 'utf8')).toBe('video bytes');
    expect(stored.bytes).toBe(11);
    expect(existsSync(source)).toBe(true);
  });

  it('with move, renames the handed-over file into place instead of copying it', async () => {
    const source = join(root, 'download.mp4');
    writeFileSync(source, 'downloaded bytes');
    const stored = await createLocalMediaStore(join(root, 'media')).put('videos/v2/download.mp4', source, 'video', { move: true });
    expect(readFileSync(stored.path as string, 'utf8')).toBe('downloaded bytes');
    expect(stored.url).toBe(`file://${join(root, 'media', 'videos', 'v2', 'download.mp4')}`);
    expect(existsSync(source)).toBe(false);
    expect(existsSync(`${stored.path as string}.partial`)).toBe(false);
  });
});
