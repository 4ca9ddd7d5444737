/**
 * Finds a working ffmpeg (and ffprobe) and its version: the configured path if any (it must run),
 * else the ffmpeg-for-homebridge binary (an optional dependency that is often missing or built
 * for another CPU), else `ffmpeg` on PATH. "Working" means `-version` runs and answers.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { FFMPEG_VERSION_TIMEOUT_MS } from '../settings';

export type FfmpegSource = 'config' | 'ffmpeg-for-homebridge' | 'PATH';
export type FfprobeSource = 'config' | 'beside-ffmpeg' | 'PATH';

export interface LocatedFfmpeg {
  /** Absolute path of the binary. */
  path: string;
  source: FfmpegSource;
  /** Version as `-version` prints it, e.g. "5.1.6-0+deb12u1". */
  version: string;
}

export interface LocatedFfprobe {
  path: string;
  source: FfprobeSource;
  version: string;
}

export interface LocateOptions {
  /** Environment whose PATH is searched; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where ffmpeg-for-homebridge's binary is; defaults to requiring the package (tests override). */
  bundled?: () => string | undefined;
}

export class FfmpegNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FfmpegNotFoundError';
  }
}

/** The binary ffmpeg-for-homebridge offers, or undefined when the package or its download is missing. */
function bundledFfmpeg(): string | undefined {
  try {
    // Optional dependency resolved at run time: it may be absent, or export undefined.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod: unknown = require('ffmpeg-for-homebridge');
    const p = typeof mod === 'string' ? mod : (mod as { default?: unknown } | undefined)?.default;
    return typeof p === 'string' && p !== '' ? p : undefined;
  } catch {
    return undefined;
  }
}

/** First executable `name` on PATH, as an absolute path. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = resolve(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Run `<bin> -version`; resolve the version word of its first line, reject with a reason. */
export function binaryVersion(bin: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(bin, ['-version'], { timeout: FFMPEG_VERSION_TIMEOUT_MS, windowsHide: true }, (err, stdout) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        const why = e.code === 'ENOENT' ? 'does not exist'
          : e.code === 'EACCES' ? 'is not executable'
            : e.killed ? `did not answer within ${FFMPEG_VERSION_TIMEOUT_MS / 1000} s`
              : `failed to run (${e.message.split('\n')[0]})`;
        reject(new Error(why));
        return;
      }
      const first = stdout.split('\n')[0]?.trim() ?? '';
      const m = /^\S+ version (\S+)/.exec(first);
      if (!m) {
        reject(new Error(`does not look like ffmpeg (its -version printed ${JSON.stringify(first.slice(0, 60))})`));
        return;
      }
      resolvePromise(m[1]);
    });
  });
}

function absolute(p: string, env: NodeJS.ProcessEnv): string {
  if (isAbsolute(p)) return p;
  // A bare name ("ffmpeg7") means "on PATH"; a relative path is relative to the working directory.
  if (!p.includes('/') && !p.includes('\\')) return findOnPath(p, env) ?? p;
  return resolve(p);
}

/** Locate ffmpeg: `configured` (must work), else ffmpeg-for-homebridge, else PATH. */
export async function locateFfmpeg(configured?: string, opts: LocateOptions = {}): Promise<LocatedFfmpeg> {
  const env = opts.env ?? process.env;
  if (configured !== undefined && configured.trim() !== '') {
    const path = absolute(configured.trim(), env);
    try {
      return { path, source: 'config', version: await binaryVersion(path) };
    } catch (err) {
      throw new FfmpegNotFoundError(
        `The configured ffmpeg "${configured}" (proxy.ffmpegPath / XG2G_FFMPEG_PATH) ${(err as Error).message}. ` +
          'Fix the path, or leave it empty to use ffmpeg-for-homebridge or ffmpeg on PATH.',
      );
    }
  }
  const tried: string[] = [];
  const bundled = (opts.bundled ?? bundledFfmpeg)();
  if (bundled !== undefined) {
    try {
      return { path: bundled, source: 'ffmpeg-for-homebridge', version: await binaryVersion(bundled) };
    } catch (err) {
      tried.push(`ffmpeg-for-homebridge's ${bundled} ${(err as Error).message}`);
    }
  } else {
    tried.push('ffmpeg-for-homebridge has no binary for this system');
  }
  const onPath = await versionOnPath('ffmpeg', env, tried, 'there is no ffmpeg on PATH');
  if (onPath) return { ...onPath, source: 'PATH' };
  throw new FfmpegNotFoundError(
    `ffmpeg was not found: ${tried.join('; ')}. Install ffmpeg (e.g. "apt install ffmpeg") or set ` +
      'proxy.ffmpegPath / XG2G_FFMPEG_PATH to its full path.',
  );
}

/**
 * Locate ffprobe: `configured` if given (must work), else the `ffprobe` beside the located ffmpeg,
 * else PATH.
 */
export async function locateFfprobe(ffmpegPath?: string, opts: LocateOptions & { configured?: string } = {}): Promise<LocatedFfprobe> {
  const env = opts.env ?? process.env;
  if (opts.configured !== undefined && opts.configured.trim() !== '') {
    const path = absolute(opts.configured.trim(), env);
    try {
      return { path, source: 'config', version: await binaryVersion(path) };
    } catch (err) {
      throw new FfmpegNotFoundError(`The configured ffprobe "${opts.configured}" ${(err as Error).message}.`);
    }
  }
  const tried: string[] = [];
  if (ffmpegPath !== undefined && ffmpegPath !== '') {
    const beside = join(dirname(ffmpegPath), process.platform === 'win32' ? 'ffprobe.exe' : 'ffprobe');
    if (isExecutableFile(beside)) {
      try {
        return { path: beside, source: 'beside-ffmpeg', version: await binaryVersion(beside) };
      } catch (err) {
        tried.push(`${beside} ${(err as Error).message}`);
      }
    }
  }
  const onPath = await versionOnPath('ffprobe', env, tried, 'there is no ffprobe beside ffmpeg or on PATH');
  if (onPath) return { ...onPath, source: 'PATH' };
  throw new FfmpegNotFoundError(`ffprobe was not found: ${tried.join('; ')}. Install ffmpeg, which includes ffprobe.`);
}

/** `name` found on PATH and answering `-version`; otherwise undefined, with the reason added to `tried`. */
async function versionOnPath(name: string, env: NodeJS.ProcessEnv, tried: string[], absent: string): Promise<{ path: string; version: string } | undefined> {
  const path = findOnPath(name, env);
  if (path === undefined) {
    tried.push(absent);
    return undefined;
  }
  try {
    return { path, version: await binaryVersion(path) };
  } catch (err) {
    tried.push(`${path} ${(err as Error).message}`);
    return undefined;
  }
}
