import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { MediaToolMissingError } from './errors';

export type BinarySource = 'env' | 'path' | 'npm';

export interface ResolvedBinary {
  path: string;
  source: BinarySource;
}

export interface MediaBinaries {
  ffmpeg: ResolvedBinary;
  ffprobe: ResolvedBinary;
}

/** Fonts the toolkit draws text with: a directory for libass and the two files drawtext needs. */
export interface MediaFonts {
  dir: string;
  /** ASS `Fontname` matching the files below. */
  family: string;
  regular: string;
  bold: string;
}

const NPM_BUILDS = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' } as const;
const ENV_NAMES = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' } as const;
const FONT_FILES = { family: 'DejaVu Sans', regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf' } as const;
/** Debian's fonts-dejavu-core, for a checkout whose node_modules lacks the font package. */
const SYSTEM_FONT_DIR = '/usr/share/fonts/truetype/dejavu';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string, pathVariable: string | undefined): string | undefined {
  for (const dir of (pathVariable ?? '').split(delimiter)) {
    if (dir !== '' && isExecutableFile(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function npmBuildPath(tool: keyof typeof NPM_BUILDS): string | undefined {
  try {
    return (require(NPM_BUILDS[tool]) as { path: string }).path;
  } catch {
    return undefined;
  }
}

function resolveBinary(tool: 'ffmpeg' | 'ffprobe', env: NodeJS.ProcessEnv): ResolvedBinary {
  const fromEnv = env[ENV_NAMES[tool]]?.trim();
  if (fromEnv) {
    // An explicit setting that is wrong must fail loudly, not fall back to another build.
    if (!isExecutableFile(fromEnv)) throw new MediaToolMissingError(`${ENV_NAMES[tool]}=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'env' };
  }
  const onPath = findOnPath(tool, env.PATH);
  if (onPath) return { path: onPath, source: 'path' };
  const npmBuild = npmBuildPath(tool);
  if (npmBuild && isExecutableFile(npmBuild)) return { path: npmBuild, source: 'npm' };
  const hint = npmBuild ? `${npmBuild} is not executable (its install script did not run)` : `${NPM_BUILDS[tool]} is not installed`;
  throw new MediaToolMissingError(
    `${tool} not found: set ${ENV_NAMES[tool]}, put ${tool} on PATH, or install ${NPM_BUILDS[tool]} (${hint})`,
  );
}

/**
 * ffmpeg and ffprobe, each from the first of: FFMPEG_PATH / FFPROBE_PATH, the PATH, the builds
 * shipped in @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe (so `npm install` alone suffices).
 */
export function resolveMediaBinaries(env: NodeJS.ProcessEnv = process.env): MediaBinaries {
  return { ffmpeg: resolveBinary('ffmpeg', env), ffprobe: resolveBinary('ffprobe', env) };
}

function hasFontFiles(dir: string): boolean {
  return existsSync(join(dir, FONT_FILES.regular)) && existsSync(join(dir, FONT_FILES.bold));
}

function npmFontDir(): string | undefined {
  try {
    return join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  } catch {
    return undefined;
  }
}

/**
 * The DejaVu Sans TrueType files used for captions and thumbnail text, from the first of:
 * MEDIA_FONTS_DIR (a directory holding DejaVuSans.ttf and DejaVuSans-Bold.ttf), the npm package
 * dejavu-fonts-ttf, Debian's fonts-dejavu-core. Fonts are passed to ffmpeg by file, never looked
 * up through fontconfig, so rendering is the same on every machine.
 */
export function resolveMediaFonts(env: NodeJS.ProcessEnv = process.env): MediaFonts {
  const configured = env.MEDIA_FONTS_DIR?.trim();
  if (configured && !hasFontFiles(configured)) {
    throw new MediaToolMissingError(`MEDIA_FONTS_DIR=${configured} lacks ${FONT_FILES.regular} and ${FONT_FILES.bold}`);
  }
  const dir = configured || [npmFontDir(), SYSTEM_FONT_DIR].find((d) => d !== undefined && hasFontFiles(d));
  if (!dir) throw new MediaToolMissingError('no DejaVu Sans font found: install dejavu-fonts-ttf or set MEDIA_FONTS_DIR');
  return { dir, family: FONT_FILES.family, regular: join(dir, FONT_FILES.regular), bold: join(dir, FONT_FILES.bold) };
}
