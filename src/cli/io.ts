/**
 * What a command gets from its caller: the environment, two output streams and the stop signal.
 * Commands never touch `process` directly, so tests run them in-process with captured output.
 */
import type { Logger } from '../logger';

export interface CliOutput {
  write(chunk: string): unknown;
}

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: CliOutput;
  stderr: CliOutput;
  /** Fires on Ctrl-C / SIGTERM; long-running commands stop and clean up when it does. */
  signal?: AbortSignal;
}

/** Thrown for bad arguments: runCli prints the message and the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown for failures whose message is already a complete sentence for the user (exit code 1). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export function println(out: CliOutput, line = ''): void {
  out.write(`${line}\n`);
}

/** Resolves when the signal fires (never, without one): how long-running commands wait. */
export function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** For demo parts: warnings and errors reach the terminal, tagged; routine lines stay quiet so the
 * demo's summary stays readable. */
export function demoLogger(io: CliIo, tag: string): Logger {
  const warn = (m: string): void => println(io.stderr, `[${tag}] ${m}`);
  return { debug: () => undefined, info: () => undefined, warn, error: warn };
}
