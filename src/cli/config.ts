/**
 * Config for the commands: `--config FILE` (or none) plus the XG2G_* environment, warnings to
 * stderr, and receiver one — the receiver `channels` and `doctor` talk to first.
 */
import { loadConfigWithWarnings, type Config, type ReceiverConfig } from '../config';
import { CliError, println, type CliIo } from './io';

export function loadCommandConfig(file: string | undefined, io: CliIo): Config {
  const { config, warnings } = loadConfigWithWarnings({ file, env: io.env });
  for (const w of warnings) println(io.stderr, `warning: ${w}`);
  return config;
}

export const NOT_CONFIGURED =
  'No receiver is configured: set XG2G_OWI_BASE (e.g. XG2G_OWI_BASE=http://192.168.1.100:80) or pass --config FILE with a "receivers" list.';

export function receiverOne(config: Config): ReceiverConfig {
  const r = config.receivers[0];
  if (!r) throw new CliError(NOT_CONFIGURED);
  return r;
}
