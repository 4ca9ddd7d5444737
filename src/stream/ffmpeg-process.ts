/**
 * One ffmpeg child process: stdin/stdout pipes for the caller, stderr kept in a bounded buffer and
 * logged only when the process fails, and a stop that always ends it (SIGTERM, then SIGKILL). The
 * owner's AbortSignal stops it too, so no ffmpeg outlives what started it.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { FFMPEG_KILL_TIMEOUT_MS, FFMPEG_STDERR_MAX_BYTES } from '../settings';

export interface FfmpegProcessOptions {
  /** Short label for log lines, e.g. the channel name. */
  label: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the exit was asked for with stop(); such exits are not failures. */
  stopped: boolean;
  /** The tail of stderr (bounded). */
  stderr: string;
}

/**
 * What the stream code needs of an ffmpeg: its pipes, its pid, an 'exit' event (FfmpegExit) and a
 * stop. Tests of session states pass a fake through `SpawnFfmpeg` instead of starting processes.
 */
export interface FfmpegHandle extends EventEmitter {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly pid: number | undefined;
  readonly running: boolean;
  stop(): Promise<FfmpegExit>;
  wait(): Promise<FfmpegExit>;
}

export type SpawnFfmpeg = (path: string, args: string[], options: FfmpegProcessOptions) => FfmpegHandle;

export const spawnFfmpeg: SpawnFfmpeg = (path, args, options) => new FfmpegProcess(path, args, options);

export class FfmpegProcess extends EventEmitter implements FfmpegHandle {
  readonly child: ChildProcessWithoutNullStreams;
  private stderrTail = '';
  private stopping = false;
  private exitInfo: FfmpegExit | undefined;
  private readonly exited: Promise<FfmpegExit>;
  private readonly onAbort = (): void => void this.stop();

  constructor(path: string, args: string[], private readonly options: FfmpegProcessOptions) {
    super();
    this.child = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-FFMPEG_STDERR_MAX_BYTES);
    });
    // A client or ffmpeg going away mid-write raises EPIPE on stdin; the exit handler reports it.
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.exitInfo) return;
        this.exitInfo = { code, signal, stopped: this.stopping, stderr: this.stderrTail.trim() };
        this.options.signal?.removeEventListener('abort', this.onAbort);
        if (!this.exitInfo.stopped && code !== 0) {
          this.options.log?.(`ffmpeg for ${this.options.label} failed (${signal ?? `exit code ${code}`}): ${lastLines(this.exitInfo.stderr)}`);
        }
        this.emit('exit', this.exitInfo);
        resolve(this.exitInfo);
      };
      this.child.once('exit', finish);
      this.child.once('error', (error) => {
        this.stderrTail += `\n${error.message}`;
        finish(null, null);
      });
    });
    if (options.signal?.aborted) void this.stop();
    else options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get stdin(): Writable {
    return this.child.stdin;
  }

  get stdout(): Readable {
    return this.child.stdout;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Resolves when the process has exited, however that happened. */
  wait(): Promise<FfmpegExit> {
    return this.exited;
  }

  /** Ends the process: SIGTERM, then SIGKILL if it has not exited within the grace time. */
  async stop(): Promise<FfmpegExit> {
    if (this.exitInfo) return this.exitInfo;
    this.stopping = true;
    this.child.stdin.destroy();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), FFMPEG_KILL_TIMEOUT_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The last few lines of stderr: the error is almost always at the end. */
function lastLines(text: string, count = 3): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length === 0 ? 'no error output' : lines.slice(-count).join(' | ');
}
