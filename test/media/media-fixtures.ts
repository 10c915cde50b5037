import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveMediaBinaries } from '../../lib/media';

const execFileAsync = promisify(execFile);
const ffmpegPath = () => resolveMediaBinaries().ffmpeg.path;

/**
 * A test video from lavfi: testsrc2 (moving pattern with a frame-exact timecode in the top-left
 * corner) plus a sine tone, H.264 with a keyframe every second (so whole seconds are
 * keyframe-aligned) and B-frames (as real encoders make), AAC audio.
 */
export async function makeTestVideo(path: string, options: { seconds?: number; size?: string; fps?: number } = {}): Promise<string> {
  const { seconds = 6, size = '640x360', fps = 30 } = options;
  await execFileAsync(ffmpegPath(), [
    '-v',
    'error',
    '-nostdin',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=44100:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-g',
    String(fps),
    '-keyint_min',
    String(fps),
    '-sc_threshold',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    path,
  ]);
  return path;
}

export async function makeAudioOnly(path: string): Promise<string> {
  await execFileAsync(ffmpegPath(), [
    '-v',
    'error',
    '-nostdin',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=300:duration=2',
    '-c:a',
    'aac',
    path,
  ]);
  return path;
}

export interface Crop {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Raw RGB24 pixels of a crop of the frame at `atSeconds` (a video) or of an image, decoded by ffmpeg. */
export async function rgbPixels(path: string, crop: Crop, atSeconds?: number): Promise<Buffer> {
  const { stdout } = await execFileAsync(
    ffmpegPath(),
    [
      '-v',
      'error',
      '-nostdin',
      ...(atSeconds === undefined ? [] : ['-ss', atSeconds.toFixed(3)]),
      '-i',
      path,
      '-frames:v',
      '1',
      '-vf',
      `crop=${crop.width}:${crop.height}:${crop.x}:${crop.y}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

/** Share of pixels whose largest channel difference exceeds `threshold` (0–255). */
export function changedPixelShare(a: Buffer, b: Buffer, threshold = 60): number {
  expect(a.length).toBe(b.length);
  // No `Math` in the loop: globals inside jest's VM context are slow to look up.
  let changed = 0;
  for (let i = 0; i < a.length; i += 3) {
    for (let channel = i; channel < i + 3; channel += 1) {
      const delta = a[channel]! - b[channel]!;
      if (delta > threshold || -delta > threshold) {
        changed += 1;
        break;
      }
    }
  }
  return changed / (a.length / 3);
}

/** Format and size from the file's own header: PNG IHDR, or the first JPEG SOFn marker. */
export function imageHeader(path: string): { format: 'png' | 'jpeg'; width: number; height: number } {
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    expect(bytes.toString('ascii', 12, 16)).toBe('IHDR');
    return { format: 'png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  expect(bytes[0]).toBe(0xff);
  expect(bytes[1]).toBe(0xd8);
  let offset = 2;
  while (offset < bytes.length) {
    expect(bytes[offset]).toBe(0xff);
    const marker = bytes[offset + 1]!;
    const length = bytes.readUInt16BE(offset + 2);
    const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isStartOfFrame) return { format: 'jpeg', height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    offset += 2 + length;
  }
  throw new Error(`${path}: no JPEG start-of-frame marker`);
}

/** Processes whose command line mentions `text` (e.g. an operation's temp directory). */
export function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const commandLine = readFileSync(join('/proc', pid, 'cmdline'), 'utf8').replace(/\0/g, ' ');
      if (commandLine.includes(text) && Number(pid) !== process.pid) found.push(`${pid}: ${commandLine}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}
