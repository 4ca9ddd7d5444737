#!/usr/bin/env node
/**
 * The `xg2g` command: dispatches to one module per command (src/cli/). `runCli` does all the work
 * and returns the exit code, so tests run it in-process; the tiny `main` at the bottom only wires
 * process signals, streams and the exit code when the file is run directly.
 */
import { ConfigError } from './config';
import { ReceiverError } from './receiver/errors';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './settings';
import { FfmpegNotFoundError } from './stream/ffmpeg-locate';
import type { Command } from './cli/command';
import { CliError, println, UsageError, type CliIo } from './cli/io';
import { serveCommand } from './cli/serve';
import { packageVersion } from './version';

export type { CliIo } from './cli/io';

/**
 * A command whose module is loaded only when it runs or its summary or usage is read, so a long
 * running `xg2g serve` does not carry the demo, the doctor and the simulator.
 */
function lazyCommand(name: string, load: () => Command): Command {
  let command: Command | undefined;
  const get = (): Command => (command ??= load());
  return {
    name,
    get summary() {
      return get().summary;
    },
    get usage() {
      return get().usage;
    },
    run: (argv, io) => get().run(argv, io),
  };
}

/* eslint-disable @typescript-eslint/no-require-imports -- typed lazy loading, see lazyCommand */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  lazyCommand('simulate', () => (require('./cli/simulate') as typeof import('./cli/simulate')).simulateCommand),
  lazyCommand('channels', () => (require('./cli/channels') as typeof import('./cli/channels')).channelsCommand),
  lazyCommand('doctor', () => (require('./cli/doctor') as typeof import('./cli/doctor')).doctorCommand),
  lazyCommand('demo', () => (require('./cli/demo') as typeof import('./cli/demo')).demoCommand),
];
/* eslint-enable @typescript-eslint/no-require-imports */

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: xg2g <command> [options]',
    '',
    'Enigma2 receivers (VU+, Dreambox, OpenATV/OpenPLi) from the command line.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "xg2g <command> --help" for a command\'s options. "xg2g --version" prints the version.',
    'Receiver settings come from --config FILE and XG2G_* environment variables (XG2G_OWI_BASE, ...).',
    '',
  ].join('\n');
}

/** Run the command line `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    println(io.stdout, packageVersion());
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    if (name !== undefined) println(io.stderr, `xg2g: unknown command "${name}"`);
    io.stderr.write(usage());
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      println(io.stderr, `xg2g ${command.name}: ${err.message}`);
      io.stderr.write(command.usage);
      return EXIT_USAGE;
    }
    // Known failures carry a message meant for the user: print it alone, without a stack.
    if (err instanceof ConfigError || err instanceof ReceiverError || err instanceof CliError || err instanceof FfmpegNotFoundError) {
      println(io.stderr, err.message);
      return EXIT_FAILURE;
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') {
      println(io.stderr, `xg2g ${command.name}: cannot listen: ${e.message}. Pick other ports (see --help).`);
      return EXIT_FAILURE;
    }
    println(io.stderr, `xg2g ${command.name} failed: ${e instanceof Error ? e.message : String(err)}`);
    return EXIT_FAILURE;
  }
}

/** Run as the `xg2g` binary: one AbortController for SIGINT/SIGTERM; a second signal forces exit. */
async function main(): Promise<void> {
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stop.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: stop.signal,
  });
  process.exit(code);
}

if (require.main === module) {
  void main();
}
