/** The shape every `xg2g` command has, so cli.ts dispatches and prints help uniformly. */
import type { CliIo } from './io';

export interface Command {
  name: string;
  /** One line for the overall usage. */
  summary: string;
  /** Full `--help` text, ending in a newline. */
  usage: string;
  /** Resolves to the exit code. Throws UsageError, ConfigError, ReceiverError, CliError for runCli to print. */
  run(argv: string[], io: CliIo): Promise<number>;
}
