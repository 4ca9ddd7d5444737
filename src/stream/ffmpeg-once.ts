/**
 * One short ffmpeg job: bytes in on stdin, one result out on stdout (a JPEG), within a deadline and
 * a size bound. The process ends when the job ends, however it ends: done, too slow, too large, or
 * the owner's signal. Used for the camera's still pictures.
 */
import { childLifetime } from '../clock';
import { spawnFfmpeg, SpawnFfmpeg } from './ffmpeg-process';

export interface FfmpegOnceOptions {
  ffmpegPath: string;
  args: string[];
  /** Written to stdin, which is then closed; none = stdin closed at once. */
  input?: Buffer;
  timeoutMs: number;
  maxOutputBytes: number;
  /** Short label for errors, e.g. "the snapshot of Das Erste HD". */
  label: string;
  signal: AbortSignal;
  spawn?: SpawnFfmpeg;
}

/** Resolves with stdout once ffmpeg exited 0 with some output; rejects with a sentence otherwise. */
export function runFfmpegOnce(options: FfmpegOnceOptions): Promise<Buffer> {
  const lifetime = childLifetime(options.signal);
  const ffmpeg = (options.spawn ?? spawnFfmpeg)(options.ffmpegPath, options.args, { label: options.label, signal: lifetime.signal });
  const chunks: Buffer[] = [];
  let bytes = 0;
  let problem: string | undefined;
  const timer = setTimeout(() => {
    problem ??= `ffmpeg took longer than ${options.timeoutMs / 1000} s`;
    lifetime.abort();
  }, options.timeoutMs);
  ffmpeg.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > options.maxOutputBytes) {
      problem ??= `ffmpeg wrote more than ${Math.round(options.maxOutputBytes / 1024)} KB`;
      lifetime.abort();
      return;
    }
    chunks.push(chunk);
  });
  ffmpeg.stdin.end(options.input);
  return ffmpeg.wait().then((exit) => {
    clearTimeout(timer);
    // Ends the child lifetime's link to the owner's signal.
    lifetime.abort();
    if (problem) throw new Error(`${options.label} failed: ${problem}`);
    if (options.signal.aborted) throw new Error(`${options.label} was cancelled: the plugin is shutting down`);
    if (exit.code !== 0 || bytes === 0) {
      const why = exit.stderr.split('\n').map((l) => l.trim()).filter(Boolean).slice(-2).join(' | ') || `exit code ${exit.code}`;
      throw new Error(`${options.label} failed: ${bytes === 0 && exit.code === 0 ? 'ffmpeg wrote nothing' : why}`);
    }
    return Buffer.concat(chunks);
  });
}
