import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaToolMissingError, resolveMediaBinaries, resolveMediaFonts } from '../../lib/media';

let root: string;
const binDir = () => join(root, 'bin');

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'media-binaries-test-'));
  mkdirSync(binDir());
  for (const tool of ['ffmpeg', 'ffprobe']) {
    writeFileSync(join(binDir(), tool), '#!/bin/sh\n');
    chmodSync(join(binDir(), tool), 0o755);
  }
  writeFileSync(join(root, 'not-executable'), '');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('resolveMediaBinaries', () => {
  it('prefers FFMPEG_PATH / FFPROBE_PATH over everything', () => {
    const env = { FFMPEG_PATH: join(binDir(), 'ffmpeg'), FFPROBE_PATH: join(binDir(), 'ffprobe'), PATH: '/usr/bin' };
    expect(resolveMediaBinaries(env)).toEqual({
      ffmpeg: { path: join(binDir(), 'ffmpeg'), source: 'env' },
      ffprobe: { path: join(binDir(), 'ffprobe'), source: 'env' },
    });
  });

  it('fails loudly when an explicit path is not executable', () => {
    expect(() => resolveMediaBinaries({ FFMPEG_PATH: join(root, 'not-executable') })).toThrow(MediaToolMissingError);
  });

  it('finds the tools on PATH next', () => {
    const resolved = resolveMediaBinaries({ PATH: `${join(root, 'missing')}:${binDir()}` });
    expect(resolved.ffmpeg).toEqual({ path: join(binDir(), 'ffmpeg'), source: 'path' });
    expect(resolved.ffprobe).toEqual({ path: join(binDir(), 'ffprobe'), source: 'path' });
  });

  it('falls back to the npm-shipped builds', () => {
    const resolved = resolveMediaBinaries({ PATH: join(root, 'missing') });
    expect(resolved.ffmpeg.source).toBe('npm');
    expect(resolved.ffmpeg.path).toContain('@ffmpeg-installer');
    expect(resolved.ffprobe.source).toBe('npm');
    expect(resolved.ffprobe.path).toContain('@ffprobe-installer');
  });
});

describe('resolveMediaFonts', () => {
  it('uses the dejavu-fonts-ttf package by default', () => {
    const fonts = resolveMediaFonts({});
    expect(fonts.dir).toContain(join('dejavu-fonts-ttf', 'ttf'));
    expect(fonts).toMatchObject({
      family: 'DejaVu Sans',
      regular: join(fonts.dir, 'DejaVuSans.ttf'),
      bold: join(fonts.dir, 'DejaVuSans-Bold.ttf'),
    });
  });

  it('takes MEDIA_FONTS_DIR when it holds both files, and rejects it when it does not', () => {
    const fontDir = join(root, 'fonts');
    mkdirSync(fontDir);
    expect(() => resolveMediaFonts({ MEDIA_FONTS_DIR: fontDir })).toThrow(MediaToolMissingError);
    const packaged = resolveMediaFonts({});
    copyFileSync(packaged.regular, join(fontDir, 'DejaVuSans.ttf'));
    copyFileSync(packaged.bold, join(fontDir, 'DejaVuSans-Bold.ttf'));
    expect(resolveMediaFonts({ MEDIA_FONTS_DIR: fontDir }).bold).toBe(join(fontDir, 'DejaVuSans-Bold.ttf'));
  });
});
