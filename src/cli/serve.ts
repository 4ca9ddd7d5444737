/**
 * `xg2g serve`: the core without Homebridge: the stream proxy (and, as they land, MQTT) for the
 * receivers of --config FILE and the XG2G_* environment, until Ctrl-C or SIGTERM.
 */
import { App } from '../app';
import { redactUrl } from '../config';
import { textLogger } from '../logger';
import { parseOptions, stringOption } from './args';
import { loadCommandConfig, NOT_CONFIGURED } from './config';
import { CliError, println, untilAborted, type CliIo } from './io';
import type { Command } from './command';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the stream proxy for the configured receiver(s) until stopped',
  usage: `Usage: xg2g serve [--config FILE] [--debug]

Runs the stream proxy (GET /<service ref> on proxy.listen, default :18000, AC-3/MP2 audio remuxed to
AAC), /playlist.m3u, /api/status, /metrics and /healthz, for the receivers of --config FILE and/or
XG2G_OWI_BASE, XG2G_PROXY_TARGET, XG2G_PROXY_LISTEN, ... (see the README). Stops on Ctrl-C or SIGTERM.

Options:
  --config FILE   config file (JSON or YAML, the Homebridge platform block's shape)
  --debug         log debug lines too
  -h, --help      show this help
`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const values = parseOptions(argv, { config: { type: 'string' }, debug: { type: 'boolean' } });
    if (values.help) {
      io.stdout.write(this.usage);
      return 0;
    }
    const config = loadCommandConfig(stringOption(values, 'config', '') || undefined, io);
    if (config.receivers.length === 0) throw new CliError(NOT_CONFIGURED);
    if (!config.proxy.enabled) println(io.stderr, 'warning: the stream proxy is off (XG2G_ENABLE_STREAM_PROXY=false); only the API listener runs.');
    const log = textLogger(io.stdout, io.stderr, { debug: values.debug === true });
    const app = new App(config, log);
    await app.start();
    try {
      // The proxy is what this command is for: without its port, exit (a service manager retries).
      if (config.proxy.enabled && !app.proxyUrl) throw new CliError(`the stream proxy could not open ${config.proxy.listen} (see the error above)`);
      for (const r of config.receivers) {
        const target = r.streamTarget === 'auto' ? 'auto (per channel, from the receiver)' : redactUrl(r.streamTarget);
        println(io.stdout, `${r.name}: web interface ${r.https ? 'https' : 'http'}://${r.host}:${r.port}, streams from ${target}`);
      }
      const url = app.proxyUrl;
      if (url) {
        println(io.stdout, `Playlist for VLC:  ${url}/playlist.m3u`);
        println(io.stdout, `A channel:         ${url}/<service reference>, e.g. ${url}/1:0:19:283D:3FB:1:C00000:0:0:0:`);
        println(io.stdout, `Status:            ${url}/api/status`);
      }
      await untilAborted(io.signal);
    } finally {
      await app.stop();
    }
    return 0;
  },
};
