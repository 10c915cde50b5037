import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MediaToolkit, InvalidMediaError, MediaRequestError, createMediaToolkit } from '../../lib/media';
import { changedPixelShare, imageHeader, makeTestVideo, rgbPixels } from './media-fixtures';

let root: string;
let workDir: string;
let source: string;
let toolkit: MediaToolkit;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'media-images-test-'));
  workDir = join(root, "work it's: a, [strange];dir");
  mkdirSync(workDir);
  source = await makeTestVideo(join(root, 'source.mp4'), { seconds: 3, size: '320x180' });
  toolkit = createMediaToolkit({ tempRoot: workDir });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

afterEach(() => {
  expect(readdirSync(workDir)).toEqual([]);
});

const out = (name: string) => join(root, 'out', name);

describe('extractFrame', () => {
  it('writes the frame at the given time as PNG at the source size', async () => {
    const result = await toolkit.extractFrame({ input: source, output: out('frame.png'), atSeconds: 1.5 });
    expect(imageHeader(out('frame.png'))).toEqual({ format: 'png', width: 320, height: 180 });
    expect(result).toMatchObject({ format: 'png', width: 320, height: 180 });
    const timecode = { x: 0, y: 0, width: 50, height: 8 };
    const [image, frame] = await Promise.all([rgbPixels(out('frame.png'), timecode), rgbPixels(source, timecode, 1.5)]);
    expect(changedPixelShare(image, frame)).toBeLessThan(0.02);
  });

  it('writes a scaled JPEG, and clamps a time past the end to the last frame', async () => {
    const result = await toolkit.extractFrame({ input: source, output: out('frame.jpg'), atSeconds: 99, width: 160 });
    expect(imageHeader(out('frame.jpg'))).toEqual({ format: 'jpeg', width: 160, height: 90 });
    expect(result.sizeBytes).toBeGreaterThan(0);
  });

  it('rejects an unknown image extension and a non-video input', async () => {
    await expect(toolkit.extractFrame({ input: source, output: out('frame.gif'), atSeconds: 1 })).rejects.toBeInstanceOf(MediaRequestError);
    await expect(toolkit.extractFrame({ input: join(root, 'missing.mp4'), output: out('x.png'), atSeconds: 1 })).rejects.toBeInstanceOf(
      InvalidMediaError,
    );
  });
});

describe('composeThumbnail', () => {
  it('draws text over a video frame at 1280x720 PNG', async () => {
    const result = await toolkit.composeThumbnail({
      output: out('frame-thumb.png'),
      aspectRatio: '16:9',
      background: { kind: 'frame', video: source, atSeconds: 1, dim: 0.3 },
      text: { text: 'This changed everything', uppercase: true, color: '#ffde00', stroke: { color: '#000000', width: 6 } },
    });
    expect(imageHeader(out('frame-thumb.png'))).toEqual({ format: 'png', width: 1280, height: 720 });
    expect(result).toMatchObject({ width: 1280, height: 720, format: 'png' });
  });

  it('draws text over a generated gradient at 720x1280 JPEG', async () => {
    await toolkit.composeThumbnail({
      output: out('gradient-thumb.jpg'),
      aspectRatio: '9:16',
      background: { kind: 'gradient', from: '#ff0066', to: '#220044', direction: 'vertical' },
      text: { text: '5 secrets nobody tells you', box: { color: '#000000', opacity: 0.6 }, position: 'bottom' },
    });
    expect(imageHeader(out('gradient-thumb.jpg'))).toEqual({ format: 'jpeg', width: 720, height: 1280 });
    const [top, bottom] = await Promise.all([
      rgbPixels(out('gradient-thumb.jpg'), { x: 360, y: 0, width: 1, height: 1 }),
      rgbPixels(out('gradient-thumb.jpg'), { x: 10, y: 1279, width: 1, height: 1 }),
    ]);
    expect(top[0]).toBeGreaterThan(200); // #ff0066 at the top edge
    expect(bottom[0]).toBeLessThan(60); // #220044 at the bottom edge
  });

  it('places the text where the layout says: the text band differs from the plain background, the rest does not', async () => {
    const background = { kind: 'color', color: '#1e3a8a' } as const;
    await toolkit.composeThumbnail({ output: out('plain.png'), aspectRatio: '16:9', background });
    await toolkit.composeThumbnail({
      output: out('titled.png'),
      aspectRatio: '16:9',
      background,
      text: { text: 'Top of the frame', position: 'top', color: '#ffffff', fontSize: 90 },
    });
    const topBand = { x: 0, y: 0, width: 1280, height: 240 };
    const bottomBand = { x: 0, y: 480, width: 1280, height: 240 };
    const [titledTop, plainTop, titledBottom, plainBottom] = await Promise.all([
      rgbPixels(out('titled.png'), topBand),
      rgbPixels(out('plain.png'), topBand),
      rgbPixels(out('titled.png'), bottomBand),
      rgbPixels(out('plain.png'), bottomBand),
    ]);
    expect(changedPixelShare(titledTop, plainTop)).toBeGreaterThan(0.03);
    expect(changedPixelShare(titledBottom, plainBottom)).toBe(0);
  });

  it('rejects an invalid colour and empty text as InvalidInput', async () => {
    await expect(
      toolkit.composeThumbnail({ output: out('bad.png'), aspectRatio: '16:9', background: { kind: 'color', color: 'blue' } }),
    ).rejects.toMatchObject({ type: 'InvalidInput' });
    await expect(
      toolkit.composeThumbnail({
        output: out('bad.png'),
        aspectRatio: '16:9',
        background: { kind: 'color', color: '#000' },
        text: { text: '  ' },
      }),
    ).rejects.toBeInstanceOf(MediaRequestError);
  });
});
