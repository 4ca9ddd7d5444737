/** `xg2g simulate`: run the receiver simulator until Ctrl-C, printing where it listens. */
import {
  SIM_HOST_DEFAULT, SIM_TUNERS_DEFAULT, SIMULATOR_WEB_PORT_DEFAULT, STREAM_PORT, STREAM_RELAY_PORT,
} from '../settings';
import { credentialsOption, intOption, parseOptions, portOption, stringOption } from './args';
import { println, untilAborted, type CliIo } from './io';
import type { Command } from './command';

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'run a simulated Enigma2 receiver (OpenWebIF + stream ports) until Ctrl-C',
  usage: `Usage: xg2g simulate [options]

Runs a simulated Enigma2 receiver: the OpenWebIF web interface, the stream port and the
descrambling relay, with bouquets, channels, EPG and real MPEG-TS streams.

Options:
  --host ADDR         address to listen on (default ${SIM_HOST_DEFAULT}; 0.0.0.0 for the LAN)
  --web-port N        OpenWebIF port (default ${SIMULATOR_WEB_PORT_DEFAULT}; 0 = any free port)
  --stream-port N     stream port (default ${STREAM_PORT})
  --relay-port N      descrambling relay port (default ${STREAM_RELAY_PORT})
  --tuners N          tuners the box has (default ${SIM_TUNERS_DEFAULT})
  --auth USER:PASS    require HTTP Basic authentication
  -h, --help          show this help
`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const values = parseOptions(argv, {
      host: { type: 'string' },
      'web-port': { type: 'string' },
      'stream-port': { type: 'string' },
      'relay-port': { type: 'string' },
      tuners: { type: 'string' },
      auth: { type: 'string' },
    });
    if (values.help) {
      io.stdout.write(this.usage);
      return 0;
    }
    const auth = credentialsOption(values, 'auth');
    // Loaded here, not on top: every `xg2g` command loads this module, and `serve` never needs the simulator.
    const { startSimulator } = await import('../simulator');
    const sim = await startSimulator({
      host: stringOption(values, 'host', SIM_HOST_DEFAULT),
      webPort: portOption(values, 'web-port', SIMULATOR_WEB_PORT_DEFAULT),
      streamPort: portOption(values, 'stream-port', STREAM_PORT),
      relayPort: portOption(values, 'relay-port', STREAM_RELAY_PORT),
      tuners: intOption(values, 'tuners', SIM_TUNERS_DEFAULT, 1, 16),
      ...(auth ? { auth } : {}),
    });
    try {
      println(io.stdout, 'Simulated receiver running:');
      println(io.stdout, `  web interface  ${sim.webUrl}`);
      println(io.stdout, `  stream port    ${sim.streamUrl}`);
      println(io.stdout, `  relay port     ${sim.relayUrl}`);
      if (auth) println(io.stdout, `  login          user "${auth.username}" (password as given)`);
      println(io.stdout, 'Press Ctrl-C to stop.');
      await untilAborted(io.signal);
    } finally {
      await sim.close();
    }
    println(io.stdout, 'Simulator stopped.');
    return 0;
  },
};
