/**
 * `xg2g demo`: everything runnable without a receiver, started together and explained: the
 * simulator, an MQTT broker, the core (proxy + MQTT bridge) and Homebridge, each a DemoPart that
 * starts after the ones before it and sees what they started through the DemoContext.
 * Parts stop in reverse order on Ctrl-C or when a later part fails to start.
 */
import { encodeServiceRef } from '../receiver/service-ref';
import type { BouquetService } from '../receiver/types';
import { SIM_HOST_DEFAULT, SIM_TUNERS_DEFAULT, SIMULATOR_WEB_PORT_DEFAULT, STREAM_PORT, STREAM_RELAY_PORT } from '../settings';
import type { Simulator } from '../simulator';
import { parseOptions, stringOption } from './args';
import { homebridgePart } from './demo-homebridge';
import { proxyPart } from './demo-proxy';
import { simulatorAddress } from './demo-receiver';
import { mqttPart } from './demo-mqtt';
import { portFree } from './ports';
import { println, untilAborted, type CliIo } from './io';
import type { Command } from './command';

/** What the parts started so far share with the next ones. */
export interface DemoContext {
  io: CliIo;
  /** Address the demo listens on. */
  host: string;
  simulator?: Simulator;
  /** Channels of the simulator's favourites bouquet, for examples. */
  channels?: BouquetService[];
  /** The demo's MQTT broker, for the core part to publish to. */
  mqttUrl?: string;
}

export interface StartedPart {
  /** Lines printed under the part's title: what runs where, how to try it. */
  lines: string[];
  close(): Promise<void>;
}

export interface DemoPart {
  title: string;
  start(ctx: DemoContext): Promise<StartedPart>;
}

/** The usual ports when all are free (so URLs look like a real box's), else any free ones. */
async function simulatorPorts(host: string): Promise<{ webPort: number; streamPort: number; relayPort: number }> {
  const preferred = { webPort: SIMULATOR_WEB_PORT_DEFAULT, streamPort: STREAM_PORT, relayPort: STREAM_RELAY_PORT };
  for (const port of Object.values(preferred)) {
    if (!(await portFree(host, port))) return { webPort: 0, streamPort: 0, relayPort: 0 };
  }
  return preferred;
}

export const simulatorPart: DemoPart = {
  title: 'Simulated receiver',
  async start(ctx) {
    // Loaded here, not on top: every `xg2g` command loads this module, and `serve` never needs these.
    const [{ startSimulator }, { OpenWebIfClient }] = await Promise.all([import('../simulator'), import('../receiver/client')]);
    const sim = await startSimulator({ host: ctx.host, tuners: SIM_TUNERS_DEFAULT, ...(await simulatorPorts(ctx.host)) });
    ctx.simulator = sim;
    try {
      const client = new OpenWebIfClient(
        { name: 'Simulator', ...simulatorAddress(sim) },
        { signal: ctx.io.signal },
      );
      try {
        const [first] = await client.bouquets('tv');
        ctx.channels = first ? await client.channels(first.ref) : [];
      } finally {
        client.close();
      }
      const example = ctx.channels[0];
      const lines = [
        `web interface (OpenWebIF)  ${sim.webUrl}`,
        `stream port                ${sim.streamUrl}`,
        `descrambling relay         ${sim.relayUrl}`,
      ];
      if (example) {
        lines.push(`example channel stream     ${sim.streamUrl.replace(/\/$/, '')}/${encodeServiceRef(example.ref)}  (${example.name}; open in VLC)`);
      }
      lines.push(`list its channels          XG2G_OWI_BASE=${sim.webUrl.replace(/\/$/, '')} xg2g channels`);
      lines.push(`check a setup against it   XG2G_OWI_BASE=${sim.webUrl.replace(/\/$/, '')} xg2g doctor`);
      return { lines, close: () => sim.close() };
    } catch (err) {
      await sim.close();
      throw err;
    }
  },
};

/** The parts `xg2g demo` runs, in start order. */
export const DEMO_PARTS: DemoPart[] = [simulatorPart, mqttPart, proxyPart, homebridgePart];

/** Start `parts` in order; on failure stop the started ones (reverse order) and rethrow. */
export async function startDemo(parts: DemoPart[], ctx: DemoContext): Promise<{ started: Array<{ part: DemoPart; running: StartedPart }>; close(): Promise<void> }> {
  const started: Array<{ part: DemoPart; running: StartedPart }> = [];
  const close = async (): Promise<void> => {
    for (const { running } of started.splice(0).reverse()) {
      try {
        await running.close();
      } catch (err) {
        println(ctx.io.stderr, `Stopping failed: ${(err as Error).message}`);
      }
    }
  };
  try {
    for (const part of parts) started.push({ part, running: await part.start(ctx) });
  } catch (err) {
    await close();
    throw err;
  }
  return { started: [...started], close };
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run everything against a simulated receiver (proxy, MQTT broker, Homebridge) and show what runs where',
  usage: `Usage: xg2g demo [--host ADDR]

Starts, on their usual ports when free (else on free ones), and prints what runs where:
  - a simulated receiver (${SIMULATOR_WEB_PORT_DEFAULT}, ${STREAM_PORT}, ${STREAM_RELAY_PORT}),
  - an embedded MQTT broker (1883) with Home Assistant discovery,
  - the core against the simulator: the stream proxy (18000) and the MQTT bridge,
  - a real Homebridge with this plugin (once built), with its pairing code for the Home app.
Runs until Ctrl-C.

Options:
  --host ADDR   address to listen on (default ${SIM_HOST_DEFAULT}; 0.0.0.0 to reach it from the LAN)
  -h, --help    show this help
`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const values = parseOptions(argv, { host: { type: 'string' } });
    if (values.help) {
      io.stdout.write(this.usage);
      return 0;
    }
    const ctx: DemoContext = { io, host: stringOption(values, 'host', SIM_HOST_DEFAULT) };
    const demo = await startDemo(DEMO_PARTS, ctx);
    try {
      println(io.stdout, 'xg2g demo is running:');
      for (const { part, running } of demo.started) {
        println(io.stdout);
        println(io.stdout, `${part.title}:`);
        for (const line of running.lines) println(io.stdout, `  ${line}`);
      }
      println(io.stdout);
      println(io.stdout, 'Press Ctrl-C to stop.');
      await untilAborted(io.signal);
    } finally {
      await demo.close();
    }
    println(io.stdout, 'Demo stopped.');
    return 0;
  },
};
