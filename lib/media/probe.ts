import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import ffmpeg, { type FfprobeData, type FfprobeStream } from 'fluent-ffmpeg';
import { InvalidMediaError } from './errors';

const execFileAsync = promisify(execFile);

/** What the toolkit and its callers need to know about a media file. */
export interface MediaInfo {
  durationSeconds: number;
  /** Displayed size (rotation metadata applied), 0 without a video stream. */
  width: number;
  height: number;
  fps: number;
  videoCodec: string | null;
  audioCodec: string | null;
  hasVideo: boolean;
  hasAudio: boolean;
  sizeBytes: number;
  formatName: string;
  /** Timestamp of the first packet; input seeks are relative to it. */
  startTimeSeconds: number;
}

function ffprobeData(path: string): Promise<FfprobeData> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(path, (err: Error | null, data: FfprobeData) => (err ? reject(err) : resolve(data)));
  });
}

const finite = (value: unknown): number | undefined => {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
};

/** `30000/1001` → 29.97; `0/0` (unknown) → 0. */
function frameRate(stream: FfprobeStream): number {
  for (const rate of [stream.avg_frame_rate, stream.r_frame_rate]) {
    const [num, den] = (rate ?? '').split('/').map(Number);
    if (num && den) return Math.round((num / den) * 1000) / 1000;
  }
  return 0;
}

/** Phone footage stores portrait video as landscape plus a rotation; players (and ffmpeg) apply it. */
function isQuarterTurn(stream: FfprobeStream): boolean {
  const record = stream as Record<string, unknown>;
  const tags = (stream.tags ?? {}) as Record<string, unknown>;
  const rotation = finite(record.rotation) ?? finite(tags.rotate) ?? 0;
  return Math.abs(rotation) % 180 === 90;
}

/** Probes a file with ffprobe; anything that is not a readable video or audio file is InvalidMedia. */
export async function probeMedia(path: string): Promise<MediaInfo> {
  const sizeBytes = await stat(path).then(
    (s) => s.size,
    () => {
      throw new InvalidMediaError(`media file not found: ${path}`);
    },
  );
  let data: FfprobeData;
  try {
    data = await ffprobeData(path);
  } catch (err) {
    const detail = (err as Error).message.split('\n').filter(Boolean).pop() ?? 'unreadable';
    throw new InvalidMediaError(`not a readable media file: ${detail}`, { cause: err });
  }
  const video = data.streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const audio = data.streams.find((s) => s.codec_type === 'audio');
  const durationSeconds = finite(data.format.duration) ?? finite(video?.duration) ?? finite(audio?.duration) ?? 0;
  if (!video && !audio) throw new InvalidMediaError('the file has no video or audio stream');
  if (durationSeconds <= 0) throw new InvalidMediaError('the file has no duration');
  const [width, height] = [video?.width ?? 0, video?.height ?? 0];
  const turned = video !== undefined && isQuarterTurn(video);
  return {
    durationSeconds,
    width: turned ? height : width,
    height: turned ? width : height,
    fps: video ? frameRate(video) : 0,
    videoCodec: video?.codec_name ?? null,
    audioCodec: audio?.codec_name ?? null,
    hasVideo: video !== undefined,
    hasAudio: audio !== undefined,
    sizeBytes,
    formatName: data.format.format_name ?? 'unknown',
    startTimeSeconds: finite(data.format.start_time) ?? 0,
  };
}

/** The pixel size of a still image (PNG, JPEG, WebP): probeMedia refuses files without a duration. */
export async function probeImageSize(path: string): Promise<{ width: number; height: number }> {
  let data: FfprobeData;
  try {
    data = await ffprobeData(path);
  } catch (err) {
    const detail = (err as Error).message.split('\n').filter(Boolean).pop() ?? 'unreadable';
    throw new InvalidMediaError(`not a readable image: ${detail}`, { cause: err });
  }
  const image = data.streams.find((s) => s.codec_type === 'video');
  if (!image?.width || !image.height) throw new InvalidMediaError('the file is not an image');
  return { width: image.width, height: image.height };
}

/** A video keyframe's presentation and decoding timestamps (they differ when the stream has B-frames). */
export interface Keyframe {
  pts: number;
  dts: number;
}

/**
 * The video keyframes between `from` and `to` seconds (input timeline), read from packet flags
 * without decoding. fluent-ffmpeg's ffprobe parses only streams and format, so this one query
 * runs ffprobe directly.
 */
export async function keyframesBetween(
  ffprobePath: string,
  path: string,
  from: number,
  to: number,
  signal?: AbortSignal,
): Promise<Keyframe[]> {
  const { stdout } = await execFileAsync(
    ffprobePath,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-read_intervals',
      `${Math.max(0, from)}%${to}`,
      '-show_entries',
      'packet=pts_time,dts_time,flags',
      '-of',
      'csv=p=0',
      path,
    ],
    { signal, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .map((line) => line.split(','))
    .filter(([, , flags]) => flags?.includes('K'))
    .map(([pts, dts]) => ({ pts: Number(pts), dts: Number(dts) }))
    .filter((k) => Number.isFinite(k.pts) && Number.isFinite(k.dts));
}
