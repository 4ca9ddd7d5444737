// `xg2g demo`'s MQTT part (the embedded broker) with the core part publishing to it: the printed
// mosquitto_sub / mosquitto_pub lines work as printed, and streams show on the stream topics.
import { DemoContext, simulatorPart, startDemo } from '../../src/cli/demo';
import { mqttPart } from '../../src/cli/demo-mqtt';
import { proxyPart } from '../../src/cli/demo-proxy';
import { fetchBytes } from '../helpers/stack';
import { Watcher } from './helpers';

class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe('demo MQTT part', () => {
  let close: (() => Promise<void>) | undefined;
  let watcher: Watcher | undefined;

  afterEach(async () => {
    await watcher?.close();
    await close?.();
  });

  it('runs the embedded broker, bridges the simulator and prints how to watch and command it', async () => {
    const stderr = new Capture();
    const ctx: DemoContext = { io: { env: {}, stdout: new Capture(), stderr }, host: '127.0.0.1' };
    const demo = await startDemo([simulatorPart, mqttPart, proxyPart], ctx);
    close = demo.close;
    const lines = demo.started[1].running.lines.join('\n');
    const sub = /mosquitto_sub -h 127\.0\.0\.1 -p (\d+) -t 'xg2g\/#' -v/.exec(lines);
    expect(sub).not.toBeNull();
    const pub = /mosquitto_pub -h 127\.0\.0\.1 -p \d+ -t '(xg2g\/simulator\/channel\/set)' -m '([^']+)'/.exec(lines);
    expect(pub).not.toBeNull();
    watcher = await Watcher.connect(`mqtt://127.0.0.1:${sub![1]}`, ['xg2g/#']);
    // `online` means the bridge hears commands; a channel name needs its channel list as well,
    // which the state shows by marking the current channel as listed.
    await watcher.waitFor('xg2g/simulator/availability', (p) => p === 'online');
    await watcher.waitFor('xg2g/simulator/state', (p) => (JSON.parse(p) as { channel?: { name: string; listed: boolean } }).channel?.listed === true);
    expect(watcher.json<{ channel: { name: string } }>('xg2g/simulator/state').channel.name).toBe('Das Erste HD');
    await watcher.publish(pub![1], pub![2]);
    await watcher.waitFor('xg2g/simulator/channel', (p) => p === pub![2], 5_000);
    expect(ctx.simulator!.state.channelRef).not.toBe('1:0:19:283D:3FB:1:C00000:0:0:0:');
    // A stream through the demo's proxy shows on the stream topics.
    const channelUrl = /one channel \(open in VLC\) +(\S+)/.exec(demo.started[2].running.lines.join('\n'))![1];
    const reading = fetchBytes(channelUrl, 300_000, 20_000);
    await watcher.waitFor('xg2g/simulator/streams', (p) => (JSON.parse(p) as { sessions: number }).sessions === 1, 15_000);
    await reading;
    expect(stderr.text).toBe('');
  });
});
