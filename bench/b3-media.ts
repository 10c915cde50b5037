import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createMediaToolkit, resolveMediaBinaries, resolveMediaFonts, type MediaToolkit } from '../lib/media';
import {
  atMostPlus,
  atMostTimes,
  type BenchmarkContext,
  type BenchmarkModule,
  type BenchmarkResult,
  type Check,
  type Series,
} from './lib/result';
import { summarize, timed } from './lib/stats';

const run = promisify(execFile);

const SOURCE = { width: 1280, height: 720, fps: 30, seconds: 10, gopFrames: 60 };
/** Keyframes every 2 s: a clip from 4 s is a stream copy, one from 1.5 s must re-encode. */
const CLIP = { copyStart: 4, reencodeStart: 1.5, seconds: 4 };
const FRAME_AT = 5.5;
const THUMBNAIL_TEXT = 'Benchmark';

interface Operation {
  name: string;
  ours: (out: string) => Promise<unknown>;
  raw: (out: string) => Promise<unknown>;
  check: (metric: string, ours: number, raw: number) => Check;
}

/** The same encoder settings the toolkit uses for re-encodes, so only the wrapper differs. */
const REENCODE = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '21', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k'];

function operations(toolkit: MediaToolkit, ffmpeg: string, input: string, fontFile: string): Operation[] {
  const raw = (args: string[]) => run(ffmpeg, ['-nostdin', '-v', 'error', '-y', ...args]);
  return [
    {
      name: 're-encode clip (4 s of 720p, H.264 veryfast)',
      ours: async (out) => {
        const result = await toolkit.renderClip({ input, output: out, startSeconds: CLIP.reencodeStart, durationSeconds: CLIP.seconds });
        if (result.mode !== 'reencode') throw new Error(`expected a re-encode, got ${result.mode}`);
      },
      raw: (out) =>
        raw(['-ss', String(CLIP.reencodeStart), '-i', input, '-t', String(CLIP.seconds), ...REENCODE, '-movflags', '+faststart', out]),
      check: (metric, ours, base) => atMostTimes(metric, ours, base, 1.05),
    },
    {
      name: 'copy clip (4 s from a keyframe)',
      ours: async (out) => {
        const result = await toolkit.renderClip({ input, output: out, startSeconds: CLIP.copyStart, durationSeconds: CLIP.seconds });
        if (result.mode !== 'copy') throw new Error(`expected a stream copy, got ${result.mode}`);
      },
      raw: (out) =>
        raw(['-ss', String(CLIP.copyStart), '-i', input, '-t', String(CLIP.seconds), '-c', 'copy', '-avoid_negative_ts', 'make_zero', out]),
      check: (metric, ours, base) => atMostPlus(metric, ours, base, 300),
    },
    {
      name: 'extract frame (640 px JPEG)',
      ours: (out) => toolkit.extractFrame({ input, output: out, atSeconds: FRAME_AT, width: 640 }),
      raw: (out) => raw(['-ss', String(FRAME_AT), '-i', input, '-frames:v', '1', '-vf', 'scale=640:360', '-q:v', '2', out]),
      check: (metric, ours, base) => atMostPlus(metric, ours, base, 300),
    },
    {
      name: 'thumbnail (frame + title text, 1280x720 PNG)',
      ours: (out) =>
        toolkit.composeThumbnail({
          output: out,
          aspectRatio: '16:9',
          background: { kind: 'frame', video: input, atSeconds: FRAME_AT },
          text: { text: THUMBNAIL_TEXT, position: 'center' },
        }),
      raw: (out) =>
        raw([
          '-ss',
          String(FRAME_AT),
          '-i',
          input,
          '-frames:v',
          '1',
          '-vf',
          `scale=1280:720:force_original_aspect_ratio=increase,crop=1280:720,drawtext=fontfile=${fontFile}:text=${THUMBNAIL_TEXT}:fontsize=86:fontcolor=white:x=(w-tw)/2:y=(h-th)/2`,
          out,
        ]),
      check: (metric, ours, base) => atMostPlus(metric, ours, base, 300),
    },
  ];
}

async function generateInput(ffmpeg: string, path: string): Promise<void> {
  const { width, height, fps, seconds, gopFrames } = SOURCE;
  await run(ffmpeg, [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${width}x${height}:rate=${fps}:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-g',
    String(gopFrames),
    '-keyint_min',
    String(gopFrames),
    '-sc_threshold',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    path,
  ]);
}

/**
 * B3: each toolkit operation against one hand-written ffmpeg command doing the same work with the
 * same binary. Ours and raw alternate sample by sample so load drift hits both alike.
 */
export const mediaBenchmark: BenchmarkModule = {
  id: 'B3',
  title: 'Media: toolkit vs one raw ffmpeg command',
  async run(context: BenchmarkContext): Promise<BenchmarkResult> {
    const n = context.quick ? 2 : 10;
    const warmup = 1;
    const binaries = resolveMediaBinaries();
    const fonts = resolveMediaFonts();
    const toolkit = createMediaToolkit({ binaries, fonts, tempRoot: context.workDir });
    const input = join(context.workDir, 'b3-source.mp4');
    await generateInput(binaries.ffmpeg.path, input);

    const series: Series[] = [];
    const checks: Check[] = [];
    let file = 0;
    for (const op of operations(toolkit, binaries.ffmpeg.path, input, fonts.bold)) {
      context.log(`B3 ${op.name}`);
      const extension = op.name.includes('PNG') ? 'png' : op.name.includes('JPEG') ? 'jpg' : 'mp4';
      const samples = { ours: [] as number[], raw: [] as number[] };
      for (let i = 0; i < warmup + n; i++) {
        const ours = await timed(() => op.ours(join(context.workDir, `b3-${file++}.${extension}`)));
        const raw = await timed(() => op.raw(join(context.workDir, `b3-${file++}.${extension}`)));
        if (i >= warmup) {
          samples.ours.push(ours);
          samples.raw.push(raw);
        }
      }
      const ours = summarize(samples.ours);
      const raw = summarize(samples.raw);
      series.push({ label: `${op.name}: toolkit`, role: 'ours', latencyMs: ours, throughputPerSec: 1000 / ours.mean });
      series.push({ label: `${op.name}: raw ffmpeg`, role: 'baseline', latencyMs: raw, throughputPerSec: 1000 / raw.mean });
      checks.push(op.check(`${op.name} p50`, ours.p50, raw.p50));
    }
    return {
      id: this.id,
      title: this.title,
      status: 'measured',
      n,
      warmup,
      concurrency: 1,
      series,
      checks,
      notes: [
        `Input: ${SOURCE.seconds} s ${SOURCE.width}x${SOURCE.height}@${SOURCE.fps} lavfi testsrc2 + sine, H.264/AAC, keyframe every ${SOURCE.gopFrames / SOURCE.fps} s.`,
        `ffmpeg ${binaries.ffmpeg.path} (${binaries.ffmpeg.source}). The toolkit's extra cost is its ffprobe calls (source probe, keyframe lookup for copies, output probe) and temp-dir moves.`,
      ],
    };
  },
};
