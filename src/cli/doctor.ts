/**
 * `xg2g doctor`: checks a setup end to end and prints one ✓/✗ line per check — config, each
 * receiver (reachable, login, bouquets), ffmpeg, and whether the listen ports are free. Exit code 1
 * when any check fails. Output is built from the redacted config and the client's own messages,
 * which never carry passwords.
 */
import { createServer } from 'node:net';
import {
  ConfigError, loadConfigWithWarnings, parseListen, receiverConnection, redactConfig, type Config, type ReceiverConfig,
} from '../config';
import { OpenWebIfClient } from '../receiver/client';
import { isReceiverError } from '../receiver/errors';
import { locateFfmpeg } from '../stream/ffmpeg-locate';
import { parseOptions } from './args';
import { println, type CliIo } from './io';
import type { Command } from './command';

const OK = '✓';
const FAIL = '✗';
const WARN = '!';

class Report {
  failed = 0;
  constructor(private readonly io: CliIo) {}
  ok(text: string): void {
    println(this.io.stdout, `${OK} ${text}`);
  }
  fail(text: string): void {
    this.failed++;
    println(this.io.stdout, `${FAIL} ${text}`);
  }
  note(text: string): void {
    println(this.io.stdout, `  ${text}`);
  }
  warn(text: string): void {
    println(this.io.stdout, `${WARN} ${text}`);
  }
}

function describeConfig(config: Config): string {
  const safe = redactConfig(config);
  const receivers = safe.receivers.map((r) => {
    const login = r.username !== '' ? `, user ${r.username}${r.password !== '' ? ' with password ***' : ''}` : '';
    return `${r.name} (${r.https ? 'https' : 'http'}://${r.host}:${r.port}${login}, bouquets ${r.bouquets.map((b) => `"${b}"`).join(', ')})`;
  });
  const parts = [
    receivers.length === 0 ? 'no receivers (nothing to do until one is configured)' : `${receivers.length} receiver${receivers.length === 1 ? '' : 's'}: ${receivers.join('; ')}`,
    safe.proxy.enabled ? `proxy on ${safe.proxy.listen}${safe.proxy.token !== '' ? ' with token ***' : ''}` : 'proxy off',
    safe.api.listen !== '' ? `API on ${safe.api.listen}` : 'API off',
    safe.mqtt.enabled ? `MQTT to ${safe.mqtt.url}` : 'MQTT off',
  ];
  return parts.join('; ');
}

async function checkReceiver(r: ReceiverConfig, report: Report, io: CliIo): Promise<void> {
  const client = new OpenWebIfClient(receiverConnection(r), { signal: io.signal });
  try {
    try {
      const info = await client.deviceInfo();
      report.ok(`${client.label}: reachable`);
      const tuners = `${info.tunerCount} tuner${info.tunerCount === 1 ? '' : 's'}`;
      report.ok(`${client.label}: login works (${[info.brand, info.model].filter(Boolean).join(' ')}, ${[info.imageDistro, info.imageVersion].filter(Boolean).join(' ')}, ${tuners})`);
    } catch (err) {
      if (!isReceiverError(err)) throw err;
      if (err.kind === 'auth' || err.kind === 'forbidden') {
        report.ok(`${client.label}: reachable`);
        report.fail(`${client.label}: login failed: ${err.message}`);
      } else {
        report.fail(`${client.label}: not reachable: ${err.message}`);
      }
      return;
    }
    try {
      const tv = await client.bouquets('tv');
      const all = r.bouquets.some((b) => !tv.some((t) => t.name.toLowerCase() === b.toLowerCase()))
        ? [...tv, ...(await client.bouquets('radio'))]
        : tv;
      const found: string[] = [];
      const missing: string[] = [];
      for (const name of r.bouquets) {
        const b = all.find((t) => t.name.toLowerCase() === name.toLowerCase());
        if (!b) {
          missing.push(name);
          continue;
        }
        const channels = await client.channels(b.ref);
        found.push(`"${b.name}" (${channels.length} channel${channels.length === 1 ? '' : 's'})`);
      }
      if (missing.length === 0) {
        report.ok(`${client.label}: bouquets found: ${found.join(', ')}`);
      } else {
        report.fail(
          `${client.label}: bouquet${missing.length === 1 ? '' : 's'} not found: ${missing.map((m) => `"${m}"`).join(', ')}; ` +
            `the receiver has ${tv.map((t) => `"${t.name}"`).join(', ') || 'no TV bouquets'}`,
        );
      }
    } catch (err) {
      if (!isReceiverError(err)) throw err;
      report.fail(`${client.label}: bouquets could not be read: ${err.message}`);
    }
  } finally {
    client.close();
  }
}

/** Resolves to why the address cannot be listened on, or undefined when it is free. */
export function portProblem(listen: string): Promise<string | undefined> {
  const addr = parseListen(listen);
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE' ? 'is in use (is xg2g or Homebridge already running?)'
          : err.code === 'EACCES' ? 'needs root (ports below 1024), pick a higher port'
            : err.code === 'EADDRNOTAVAIL' ? `cannot be used: ${addr.host} is not an address of this machine`
              : `cannot be used (${err.code ?? err.message})`;
      resolve(why);
    });
    server.listen({ host: addr.host, port: addr.port, exclusive: true }, () => {
      server.close(() => resolve(undefined));
    });
  });
}

async function checkPort(label: string, listen: string, report: Report): Promise<void> {
  const addr = parseListen(listen);
  if (addr.port === 0) {
    report.ok(`${label} ${listen}: any free port will be used`);
    return;
  }
  const problem = await portProblem(listen);
  if (problem === undefined) report.ok(`${label} ${listen}: port ${addr.port} is free`);
  else report.fail(`${label} ${listen}: port ${addr.port} ${problem}`);
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check config, receivers, ffmpeg and ports, one ✓/✗ line each',
  usage: `Usage: xg2g doctor [--config FILE]

Checks the setup and prints one line per check, ✓ or ✗:
  the config is valid (a summary, passwords shown as ***), each receiver is reachable, its login
  works, its bouquets exist, ffmpeg is found (where from, which version), and the proxy and API
  ports are free. Exits with 1 if any check fails.

Options:
  --config FILE   config file (JSON or YAML); XG2G_* environment variables apply on top
  -h, --help      show this help
`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const values = parseOptions(argv, { config: { type: 'string' } });
    if (values.help) {
      io.stdout.write(this.usage);
      return 0;
    }
    const report = new Report(io);
    let config: Config | undefined;
    try {
      const loaded = loadConfigWithWarnings({ file: values.config as string | undefined, env: io.env });
      config = loaded.config;
      report.ok(`config valid: ${describeConfig(config)}`);
      for (const w of loaded.warnings) report.warn(`config: ${w}`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      report.fail('config invalid:');
      for (const p of err.problems) report.note(p);
    }

    if (config) {
      if (config.receivers.length === 0) report.warn('no receiver configured: set XG2G_OWI_BASE or add "receivers" to the config');
      for (const r of config.receivers) {
        if (io.signal?.aborted) break;
        await checkReceiver(r, report, io);
      }
    }

    try {
      const ff = await locateFfmpeg(config?.proxy.ffmpegPath, { env: io.env });
      report.ok(`ffmpeg found: ${ff.path} (from ${ff.source}), version ${ff.version}`);
    } catch (err) {
      report.fail(`ffmpeg: ${(err as Error).message}`);
    }

    if (config) {
      if (config.proxy.enabled) await checkPort('proxy.listen', config.proxy.listen, report);
      if (config.api.listen !== '') await checkPort('api.listen', config.api.listen, report);
    }

    println(io.stdout);
    println(io.stdout, report.failed === 0 ? 'All checks passed.' : `${report.failed} check${report.failed === 1 ? '' : 's'} failed.`);
    return report.failed === 0 ? 0 : 1;
  },
};
