/**
 * Argument parsing on top of Node's built-in util.parseArgs (no dependency): strict options,
 * every mistake turned into a UsageError, and typed readers for ports, counts and user:pass.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './io';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
export type ParsedOptions = Record<string, string | boolean | undefined>;

/** Parse `argv` (after the command name); `--help`/`-h` is always accepted. */
export function parseOptions(argv: string[], spec: OptionSpec): ParsedOptions {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { ...spec, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    return values as ParsedOptions;
  } catch (err) {
    // parseArgs messages are clear but mention internals ("To specify a positional argument…").
    const msg = (err as Error).message.split('. ')[0].replace(/^Unknown option '(.*)'$/, 'unknown option $1');
    throw new UsageError(msg);
  }
}

export function stringOption(values: ParsedOptions, name: string, def: string): string {
  const v = values[name];
  return typeof v === 'string' ? v : def;
}

export function intOption(values: ParsedOptions, name: string, def: number, min: number, max: number): number {
  const v = values[name];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim())) throw new UsageError(`--${name} must be a whole number, not "${String(v)}"`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be from ${min} to ${max}, not ${n}`);
  return n;
}

export function portOption(values: ParsedOptions, name: string, def: number): number {
  return intOption(values, name, def, 0, 65535);
}

/** `user:pass` (the password may contain colons). Never echoes the value. */
export function credentialsOption(values: ParsedOptions, name: string): { username: string; password: string } | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const s = String(v);
  const idx = s.indexOf(':');
  if (idx <= 0) throw new UsageError(`--${name} must be user:password`);
  return { username: s.slice(0, idx), password: s.slice(idx + 1) };
}
