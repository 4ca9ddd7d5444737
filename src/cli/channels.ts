/**
 * `xg2g channels`: the bouquets and channels of receiver one as a table (position, name, ref), so a
 * user can check the connection and pick bouquet names and references for the config.
 */
import { receiverConnection } from '../config';
import { OpenWebIfClient } from '../receiver/client';
import type { Bouquet, BouquetService } from '../receiver/types';
import { parseOptions } from './args';
import { loadCommandConfig, receiverOne } from './config';
import { CliError, println, type CliIo } from './io';
import type { Command } from './command';

function norm(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(header: string[], rows: string[][], rightAlign: boolean[] = []): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : rightAlign[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export const channelsCommand: Command = {
  name: 'channels',
  summary: 'list the bouquets and channels of receiver one',
  usage: `Usage: xg2g channels [--config FILE] [--all]

Lists the configured bouquets of receiver one (default "Favourites (TV)") with each channel's
position, name and service reference. The receiver comes from --config FILE (JSON or YAML, same
shape as the Homebridge platform block) and/or XG2G_OWI_BASE, XG2G_OWI_USER, XG2G_OWI_PASS,
XG2G_BOUQUET.

Options:
  --config FILE   config file (JSON or YAML)
  --all           list every TV bouquet, not only the configured ones
  -h, --help      show this help

Example:
  XG2G_OWI_BASE=http://192.168.1.100 xg2g channels
`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const values = parseOptions(argv, { config: { type: 'string' }, all: { type: 'boolean' } });
    if (values.help) {
      io.stdout.write(this.usage);
      return 0;
    }
    const config = loadCommandConfig(values.config as string | undefined, io);
    const receiver = receiverOne(config);
    const client = new OpenWebIfClient(receiverConnection(receiver), { signal: io.signal });
    try {
      const tv = await client.bouquets('tv');
      let selected: Bouquet[];
      let missing: string[] = [];
      if (values.all) {
        selected = tv;
      } else {
        let available = tv;
        if (receiver.bouquets.some((b) => !tv.some((t) => norm(t.name) === norm(b)))) {
          available = [...tv, ...(await client.bouquets('radio'))];
        }
        selected = [];
        for (const name of receiver.bouquets) {
          const found = available.find((b) => norm(b.name) === norm(name));
          if (found) selected.push(found);
          else missing.push(name);
        }
        missing = [...new Set(missing)];
      }
      println(io.stdout, `${client.label}: ${tv.length} TV bouquet${tv.length === 1 ? '' : 's'}: ${tv.map((b) => b.name).join(', ') || '(none)'}`);
      for (const bouquet of selected) {
        const channels: BouquetService[] = await client.channels(bouquet.ref);
        println(io.stdout);
        println(io.stdout, `${bouquet.name} (${channels.length} channel${channels.length === 1 ? '' : 's'})`);
        const rows = channels.map((c) => [String(c.position), c.name, c.ref.ref]);
        for (const l of formatTable(['Pos', 'Name', 'Ref'], rows, [true])) println(io.stdout, `  ${l}`);
      }
      for (const name of missing) {
        println(io.stderr, `Bouquet "${name}" was not found on ${client.label}; it has: ${tv.map((b) => `"${b.name}"`).join(', ') || 'no TV bouquets'}.`);
      }
      if (selected.length === 0 && missing.length > 0) {
        throw new CliError('None of the configured bouquets exists on the receiver: fix "bouquets" (or XG2G_BOUQUET).');
      }
      return missing.length > 0 ? 1 : 0;
    } finally {
      client.close();
    }
  },
};
