import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CaptionWord,
  type MediaProgress,
  type MediaToolkit,
  InvalidMediaError,
  MediaAbortError,
  MediaRequestError,
  createMediaToolkit,
} from '../../lib/media';
import { changedPixelShare, makeAudioOnly, makeTestVideo, processesMentioning, rgbPixels } from './media-fixtures';

/** testsrc2's timecode (hh:mm:ss.mmm) sits in this box; it differs between any two frames. */
const TIMECODE = { x: 0, y: 0, width: 100, height: 16 };

let root: string;
let workDir: string;
let source: string;
let toolkit: MediaToolkit;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'media-render-test-'));
  // Quotes, colons, commas, brackets and spaces in the temp path exercise filtergraph escaping.
  workDir = join(root, "work it's: a, [strange];dir");
  mkdirSync(workDir);
  source = await makeTestVideo(join(root, 'source.mp4'));
  toolkit = createMediaToolkit({ tempRoot: workDir });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

afterEach(() => {
  expect(readdirSync(workDir)).toEqual([]);
});

const out = (name: string) => join(root, 'out', name);

describe('probe', () => {
  it('reports the streams and format of a video', async () => {
    const info = await toolkit.probe(source);
    expect(info).toMatchObject({ width: 640, height: 360, fps: 30, videoCodec: 'h264', audioCodec: 'aac', hasVideo: true, hasAudio: true });
    expect(info.durationSeconds).toBeCloseTo(6, 1);
    expect(info.formatName).toContain('mp4');
    expect(info.sizeBytes).toBeGreaterThan(0);
  });

  it('rejects a file that is not media, and a missing file, as InvalidMedia', async () => {
    const text = join(root, 'notes.mp4');
    writeFileSync(text, 'this is not a video\n'.repeat(100));
    await expect(toolkit.probe(text)).rejects.toBeInstanceOf(InvalidMediaError);
    await expect(toolkit.probe(join(root, 'missing.mp4'))).rejects.toMatchObject({ type: 'InvalidMedia' });
  });

  it('rejects rendering from an audio-only file as InvalidMedia', async () => {
    const audio = await makeAudioOnly(join(root, 'tone.m4a'));
    await expect(toolkit.probe(audio)).resolves.toMatchObject({ hasVideo: false, hasAudio: true });
    await expect(toolkit.renderClip({ input: audio, output: out('never.mp4'), durationSeconds: 1 })).rejects.toBeInstanceOf(
      InvalidMediaError,
    );
  });
});

describe('cutting clips', () => {
  it('stream-copies a clip that starts on a keyframe, starting on exactly that frame', async () => {
    const result = await toolkit.renderClip({ input: source, output: out('copy.mp4'), startSeconds: 2, durationSeconds: 2.5 });
    expect(result.mode).toBe('copy');
    const probed = await toolkit.probe(out('copy.mp4'));
    expect(Math.abs(probed.durationSeconds - 2.5)).toBeLessThanOrEqual(0.1);
    const [first, expected, previous] = await Promise.all([
      rgbPixels(out('copy.mp4'), TIMECODE, 0),
      rgbPixels(source, TIMECODE, 2),
      rgbPixels(source, TIMECODE, 1.9),
    ]);
    expect(changedPixelShare(first, expected)).toBeLessThan(0.01);
    expect(changedPixelShare(first, previous)).toBeGreaterThan(0.02);
  });

  it('re-encodes a clip that starts between keyframes, frame-accurately', async () => {
    const progress: MediaProgress[] = [];
    const result = await toolkit.renderClip(
      { input: source, output: out('reencode.mp4'), startSeconds: 1.3, durationSeconds: 2 },
      { onProgress: (p) => progress.push(p) },
    );
    expect(result.mode).toBe('reencode');
    expect(Math.abs(result.media.durationSeconds - 2)).toBeLessThanOrEqual(0.1);
    expect((await toolkit.probe(out('reencode.mp4'))).durationSeconds).toBeCloseTo(result.media.durationSeconds, 3);
    const [first, expected, keyframeBefore] = await Promise.all([
      rgbPixels(out('reencode.mp4'), TIMECODE, 0),
      rgbPixels(source, TIMECODE, 1.3),
      rgbPixels(source, TIMECODE, 1),
    ]);
    expect(changedPixelShare(first, expected)).toBeLessThan(0.01);
    expect(changedPixelShare(first, keyframeBefore)).toBeGreaterThan(0.02);
    expect(progress.at(-1)).toEqual({ percent: 100, processedSeconds: 2 });
    expect(progress.map((p) => p.percent)).toEqual([...progress.map((p) => p.percent)].sort((a, b) => a - b));
  });

  it('rejects a clip outside the video as InvalidInput without running ffmpeg', async () => {
    await expect(
      toolkit.renderClip({ input: source, output: out('late.mp4'), startSeconds: 5, durationSeconds: 3 }),
    ).rejects.toBeInstanceOf(MediaRequestError);
    await expect(toolkit.renderClip({ input: source, output: out('after.mp4'), startSeconds: 7 })).rejects.toMatchObject({
      type: 'InvalidInput',
    });
  });
});

describe('reframing', () => {
  it.each([
    ['9:16', 'crop', 360, 360, 640],
    ['1:1', 'crop', 360, 360, 360],
    ['16:9', 'crop', 360, 640, 360],
    ['9:16', 'pad', 240, 240, 426],
  ] as const)('renders %s (%s, short side %d) at %dx%d', async (aspectRatio, fit, shortSide, width, height) => {
    const output = out(`reframe-${aspectRatio.replace(':', 'x')}-${fit}.mp4`);
    const result = await toolkit.renderClip({ input: source, output, startSeconds: 1, durationSeconds: 1, aspectRatio, fit, shortSide });
    const probed = await toolkit.probe(output);
    expect({ width: probed.width, height: probed.height }).toEqual({ width, height });
    expect(result.media).toMatchObject({ width, height, hasAudio: true });
    expect(Math.abs(probed.durationSeconds - 1)).toBeLessThanOrEqual(0.1);
  });

  it('letterboxes with black bars when padding a landscape source into 9:16', async () => {
    const output = out('reframe-9x16-pad.mp4');
    const topBar = await rgbPixels(output, { x: 0, y: 0, width: 240, height: 100 }, 0.5);
    expect(Math.max(...topBar)).toBeLessThan(24);
  });
});

describe('burned captions', () => {
  const words: CaptionWord[] = 'we tested every single caption style today'
    .split(' ')
    .map((text, i) => ({ text, start: 1 + i * 0.3, end: 1.25 + i * 0.3 }));
  // Captions sit in the bottom quarter of the frame; the top half never has any.
  const captionBand = { x: 0, y: 270, width: 640, height: 90 };
  const topBand = { x: 0, y: 0, width: 640, height: 180 };

  const plain = () => out('uncaptioned.mp4');
  const plainVertical = () => out('uncaptioned-9x16.mp4');
  beforeAll(async () => {
    await toolkit.renderClip({ input: source, output: plain(), startSeconds: 1, durationSeconds: 1 });
    await toolkit.renderClip({
      input: source,
      output: plainVertical(),
      startSeconds: 1,
      durationSeconds: 1,
      aspectRatio: '9:16',
      shortSide: 180,
    });
  });

  it.each(['ass', 'drawtext'] as const)('draws the words into the caption band with %s', async (renderer) => {
    const withRenderer = createMediaToolkit({ tempRoot: workDir, captionRenderer: renderer });
    const output = out(`captioned-${renderer}.mp4`);
    const result = await withRenderer.renderClip({
      input: source,
      output,
      startSeconds: 1,
      durationSeconds: 1,
      captions: { words, style: 'bold' },
    });
    expect(result.captionRenderer).toBe(renderer);
    // 0.4 s into the clip = 1.4 s of the source: the first cue ("WE TESTED EVERY") is on screen.
    const [captioned, uncaptioned, captionedTop, uncaptionedTop] = await Promise.all([
      rgbPixels(output, captionBand, 0.4),
      rgbPixels(plain(), captionBand, 0.4),
      rgbPixels(output, topBand, 0.4),
      rgbPixels(plain(), topBand, 0.4),
    ]);
    expect(changedPixelShare(captioned, uncaptioned)).toBeGreaterThan(0.03);
    expect(changedPixelShare(captionedTop, uncaptionedTop)).toBeLessThan(0.005);
  });

  it.each(['minimal', 'karaoke'] as const)('burns the %s style while reframing, in one pass', async (style) => {
    const output = out(`captioned-${style}.mp4`);
    const result = await toolkit.renderClip({
      input: source,
      output,
      startSeconds: 1,
      durationSeconds: 1,
      aspectRatio: '9:16',
      shortSide: 180,
      captions: { words, style },
    });
    expect(result.media).toMatchObject({ width: 180, height: 320 });
    const band = { x: 0, y: 200, width: 180, height: 120 };
    expect(changedPixelShare(await rgbPixels(output, band, 0.4), await rgbPixels(plainVertical(), band, 0.4))).toBeGreaterThan(0.02);
  });
});

describe('abort', () => {
  it('kills ffmpeg mid-render, rejects with AbortError and leaves no process or temp file', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const render = toolkit.renderClip(
      { input: source, output: out('aborted.mp4'), aspectRatio: '9:16', shortSide: 720 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p.percent);
          expect(processesMentioning(workDir).length).toBeGreaterThan(0);
          controller.abort(new Error('activity cancelled'));
        },
      },
    );
    const error = await render.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(MediaAbortError);
    expect(error).toMatchObject({ name: 'AbortError', cause: new Error('activity cancelled') });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toBeLessThan(100);
    expect(processesMentioning(workDir)).toEqual([]);
    expect(readdirSync(root)).not.toContain('aborted.mp4');
  });

  it('stops ffmpeg and rejects with the error when the progress callback throws (a failed heartbeat)', async () => {
    const heartbeatFailure = new Error('heartbeat failed');
    const render = toolkit.renderClip(
      { input: source, output: out('heartbeat.mp4'), aspectRatio: '9:16', shortSide: 720 },
      {
        onProgress: () => {
          throw heartbeatFailure;
        },
      },
    );
    await expect(render).rejects.toBe(heartbeatFailure);
    expect(processesMentioning(workDir)).toEqual([]);
  });

  it('does not start ffmpeg when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(toolkit.renderClip({ input: source, output: out('never.mp4') }, { signal: controller.signal })).rejects.toBeInstanceOf(
      MediaAbortError,
    );
    expect(processesMentioning(workDir)).toEqual([]);
  });
});
