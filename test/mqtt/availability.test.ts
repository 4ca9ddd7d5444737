// `online` on the availability topics (the bridge's, and each receiver's) promises that commands are
// heard: it is published only once the broker acknowledged the command subscriptions (SUBACK), on
// the first connect and on every reconnect. A relay in front of the broker holds the bridge's
// SUBSCRIBE back (a broker that is slow to put a subscription in place), so publishing `online` any
// earlier loses the command every time.
import { bridgeTopics, receiverTopics } from '../../src/mqtt/topics';
import { until } from '../helpers/stack';
import { MqttStack, startAedes, startAedesWith, startMosquitto, startMqttStack, SubscribeDelayRelay, TestBroker, Watcher } from './helpers';

const T = receiverTopics('xg2g', 'living_room');
const B = bridgeTopics('xg2g');

/** Publishes a volume command the instant each `online` arrives on `topic`, taking values from `volumes`. */
async function commander(url: string, volumes: string[], topic = B.availability): Promise<Watcher> {
  const w = await Watcher.connect(url, [topic]);
  w.client.on('message', (t, payload) => {
    if (t === topic && payload.toString() === 'online' && volumes.length > 0) void w.publish(T.command('volume'), volumes.shift()!);
  });
  return w;
}

const brokers: Array<[string, () => Promise<TestBroker>]> = [['embedded aedes', startAedes], ['mosquitto', startMosquitto]];

describe.each(brokers)('availability with %s', (_kind, startBroker) => {
  let broker: TestBroker;
  let relay: SubscribeDelayRelay;
  let stack: MqttStack | undefined;
  const watchers: Watcher[] = [];

  // A fresh broker each time: a retained `online` left by an earlier test would set off the command early.
  beforeEach(async () => {
    broker = await startBroker();
    relay = await SubscribeDelayRelay.start(broker.url);
  });

  afterEach(async () => {
    for (const w of watchers.splice(0)) await w.close();
    await stack?.stop();
    stack = undefined;
    await relay.close();
    await broker.stop();
  });

  const refused = (): string[] => stack!.logs.filter((l) => /refused/.test(l));

  it.each([['bridge', B.availability], ['receiver', T.availability]])('announces online on the %s topic only after the command subscription is acknowledged, so a command sent at once takes effect', async (_which, topic) => {
    relay.mode = 500;
    const volumes = ['23'];
    watchers.push(await commander(broker.url, volumes, topic));
    stack = await startMqttStack({ brokerUrl: relay.url });
    expect(stack.sim.state.volume).not.toBe(23);
    await until(() => volumes.length === 0, 10_000, 'online');
    await until(() => stack!.sim.state.volume === 23, 3_000, 'the volume command sent the instant online arrived');
    expect(relay.subscribes).toBeGreaterThan(0);
    expect(refused()).toEqual([]);
  });

  it('waits for the new connection\'s SUBACK after a reconnect that cut a pending one', async () => {
    relay.mode = 'hold';
    const w = await Watcher.connect(broker.url, ['xg2g/#']);
    watchers.push(w);
    stack = await startMqttStack({ brokerUrl: relay.url });
    // State goes out while the subscription waits; `online` does not.
    await w.waitFor(T.field('power'), (p) => p === 'ON');
    await until(() => relay.subscribes > 0, 5_000, 'the SUBSCRIBE');
    await new Promise((r) => setTimeout(r, 300));
    expect(w.latest.has(B.availability)).toBe(false);
    expect(w.latest.get(T.availability) ?? 'offline').toBe('offline');

    const volumes = ['31'];
    watchers.push(await commander(broker.url, volumes));
    relay.mode = 300;
    relay.cut();
    // The last will.
    await w.waitFor(B.availability, (p) => p === 'offline');
    await until(() => volumes.length === 0, 10_000, 'online after the reconnect');
    await until(() => stack!.sim.state.volume === 31, 3_000, 'the volume command sent the instant online arrived');
    expect(w.messages.filter((m) => m.topic === B.availability).map((m) => m.text)).toEqual(['offline', 'online']);
    await w.waitFor(T.availability, (p) => p === 'online');
    expect(stack.logs.filter((l) => /reconnected/.test(l))).toHaveLength(1);
    // The cut connection's unanswered SUBSCRIBE is no refusal.
    expect(refused()).toEqual([]);
  });

  it('stopping while the SUBACK is pending leaves offline and never says online', async () => {
    // The SUBACK comes while stop() is under way (mqtt.js lets the DISCONNECT wait for it).
    relay.mode = 1_000;
    const w = await Watcher.connect(broker.url, ['xg2g/#']);
    watchers.push(w);
    stack = await startMqttStack({ brokerUrl: relay.url });
    await w.waitFor(T.field('power'), (p) => p === 'ON');
    await until(() => relay.subscribes > 0, 5_000, 'the SUBSCRIBE');
    const logs = stack.logs;
    await stack.stop();
    stack = undefined;
    await w.waitFor(B.availability, (p) => p === 'offline');
    await new Promise((r) => setTimeout(r, 300));
    expect(w.messages.filter((m) => m.topic === B.availability).map((m) => m.text)).toEqual(['offline']);
    expect(w.messages.filter((m) => m.topic === T.availability).map((m) => m.text)).not.toContain('online');
    expect(w.latest.get(T.availability)).toBe('offline');
    expect(logs.filter((l) => /refused/.test(l))).toEqual([]);
  });
});

describe('a broker that refuses the command subscription', () => {
  let stop: (() => Promise<void>) | undefined;
  let stack: MqttStack | undefined;
  let watcher: Watcher | undefined;

  afterEach(async () => {
    await watcher?.close();
    await stack?.stop();
    await stop?.();
  });

  it('still goes online, since state and Home Assistant\'s view stay right, and says once which topics it cannot hear', async () => {
    const broker = await startAedesWith({
      authorizeSubscribe: (_client, sub, done) => done(null, sub.topic === T.commandsWildcard ? null : sub),
    });
    stop = broker.stop;
    watcher = await Watcher.connect(broker.url, ['xg2g/#']);
    stack = await startMqttStack({ brokerUrl: broker.url });
    await watcher.waitFor(B.availability, (p) => p === 'online');
    await watcher.waitFor(T.availability, (p) => p === 'online');
    await watcher.waitFor(T.field('power'), (p) => p === 'ON');
    const lines = stack.logs.filter((l) => /refused/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(T.commandsWildcard);
    expect(lines[0]).not.toContain(T.streamsWildcard);
  });
});
