/**
 * loadConfig: environment over file (or Homebridge platform block) over defaults, validated once.
 * A file may be JSON or YAML, and may be a whole Homebridge config.json (its XG2G platform block is
 * used). All problems come back in one ConfigError; unknown keys and variables are warnings.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { PLATFORM_NAME } from '../settings';
import { readEnv } from './env';
import { ConfigError } from './errors';
import type { Config } from './types';
import { buildConfig } from './validate';
import { isPlainObject } from './values';

export interface LoadConfigOptions {
  /** Homebridge platform block, or an already parsed file. Not together with `file`. */
  block?: unknown;
  /** JSON or YAML file to read. */
  file?: string;
  /** Environment to read XG2G_* from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Receives each warning of loadConfig (loadConfigWithWarnings returns them instead). */
  onWarning?: (warning: string) => void;
  /** api.listen when neither the file nor XG2G_LISTEN sets it; default API_LISTEN_DEFAULT. */
  apiListenDefault?: string;
}

export interface LoadResult {
  config: Config;
  /** Unknown keys and XG2G_* variables, e.g. `proxy.foo: unknown setting, ignored`. */
  warnings: string[];
}

/** Read and parse a JSON or YAML config file; a Homebridge config.json yields its XG2G block. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : `cannot be read (${(err as Error).message})`;
    throw new ConfigError([`config file ${file}: ${why}`]);
  }
  let parsed: unknown;
  if (extname(file).toLowerCase() === '.json') {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError([`config file ${file}: is not valid JSON (${(err as Error).message})`]);
    }
  } else {
    // Loaded only for a YAML file: it costs a process about 8 MB, and JSON files, Homebridge and the
    // environment never need it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const YAML = require('yaml') as typeof import('yaml');
    try {
      parsed = YAML.parse(text);
    } catch (err) {
      const first = (err as Error).message.split('\n')[0];
      throw new ConfigError([`config file ${file}: is not valid YAML (${first})`]);
    }
  }
  if (parsed === null || parsed === undefined) return {};
  if (isPlainObject(parsed) && Array.isArray(parsed.platforms) && parsed.receivers === undefined) {
    const block = parsed.platforms.find(
      (p: unknown) => isPlainObject(p) && typeof p.platform === 'string' && p.platform.toUpperCase() === PLATFORM_NAME,
    );
    if (!block) throw new ConfigError([`config file ${file}: is a Homebridge config without a "${PLATFORM_NAME}" platform`]);
    return block;
  }
  return parsed;
}

/** Merge the environment overlay into the raw block; receiver one's fields merge field by field. */
function merge(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = key in base ? merge(base[key], value) : value;
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over) && over.every(isPlainObject)) {
    const out = [...base];
    over.forEach((v, i) => {
      out[i] = i < base.length ? merge(base[i], v) : v;
    });
    return out;
  }
  return over;
}

/** Load and validate; returns the config and its warnings, throws ConfigError listing every problem. */
export function loadConfigWithWarnings(opts: LoadConfigOptions = {}): LoadResult {
  if (opts.block !== undefined && opts.file !== undefined) {
    throw new TypeError('loadConfig: pass either block or file, not both');
  }
  const raw = opts.file !== undefined ? readConfigFile(opts.file) : (opts.block ?? {});
  const env = readEnv(opts.env ?? process.env);

  const errors = [...env.errors];
  const fileReceivers = isPlainObject(raw) && Array.isArray(raw.receivers) ? raw.receivers.length : 0;
  const hasBase = env.overlay.receivers !== undefined && 'host' in (env.overlay.receivers as Record<string, unknown>[])[0];
  if (fileReceivers === 0 && !hasBase && env.overlay.receivers !== undefined) {
    // Receiver variables without a usable XG2G_OWI_BASE: one error about the base, not one per field.
    if (!errors.some((e) => e.startsWith('XG2G_OWI_BASE'))) {
      errors.push(`XG2G_OWI_BASE: is required: ${env.receiverVars.join(', ')} ${env.receiverVars.length === 1 ? 'is' : 'are'} set but no receiver is configured`);
    }
    delete env.overlay.receivers;
  }
  const merged = merge(raw, env.overlay);
  const built = buildConfig(merged, env.origins, opts.apiListenDefault);
  errors.push(...built.errors);
  if (errors.length > 0) throw new ConfigError(errors);
  return { config: built.config, warnings: [...env.warnings, ...built.warnings] };
}

/** Load and validate (see loadConfigWithWarnings); warnings go to `opts.onWarning` when given. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const { config, warnings } = loadConfigWithWarnings(opts);
  if (opts.onWarning) for (const w of warnings) opts.onWarning(w);
  return config;
}

/** True once at least one receiver is configured; until then the plugin does nothing. */
export function isConfigured(config: Config): boolean {
  return config.receivers.length > 0;
}
