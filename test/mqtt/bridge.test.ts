// The MQTT bridge end to end, against the embedded aedes broker and a real Mosquitto: Home
// Assistant discovery payloads (checked against HA's schema, see ha-schema.ts), state on change,
// every command driving the simulator, stream sessions through the proxy, malformed commands,
// leftovers of earlier runs, and broker restarts.
import http from 'node:http';
import { CONTROL_BUTTONS, KEY_BUTTONS } from '../../src/mqtt/discovery';
import { bridgeTopics, receiverTopics } from '../../src/mqtt/topics';
import { ARTE_HD, DAS_ERSTE_HD, SERVUS_AAC, until, ZDF_HD } from '../helpers/stack';
import { discoveryProblems } from './ha-schema';
import { discoveryConfigs, haAvailable, MqttStack, retainedSnapshot, startAedes, startMosquitto, startMqttStack, TestBroker, Watcher } from './helpers';

const T = receiverTopics('xg2g', 'living_room');
const B = bridgeTopics('xg2g');
const DP = 'homeassistant';
/**
 * Power, channel, volume, mute, programme with its begin and end, recording, timers, box streaming,
 * refresh, the channel logo and 3 stream sensors (these 4 with the proxy), the key and control buttons.
 */
const ENTITIES = 15 + KEY_BUTTONS.length + CONTROL_BUTTONS.length;
const PROXY_ENTITIES = 4;

/** Keeps a proxy stream open until `close()`; resolves once the first bytes arrived. */
function openStream(url: string): Promise<{ bytes: () => number; close: () => void }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const request = http.get(url, { agent: false }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`));
      response.on('data', (chunk: Buffer) => {
        if (bytes === 0) resolve({ bytes: () => bytes, close: () => request.destroy() });
        bytes += chunk.length;
      });
      response.on('error', () => undefined);
    });
    request.on('error', (error) => (bytes === 0 ? reject(error) : undefined));
  });
}

const brokers: Array<[string, () => Promise<TestBroker>]> = [['embedded aedes', startAedes], ['mosquitto', startMosquitto]];

describe.each(brokers)('MQTT bridge with %s', (_kind, startBroker) => {
  let broker: TestBroker;
  let stack: MqttStack | undefined;
  let watcher: Watcher | undefined;

  beforeAll(async () => {
    broker = await startBroker();
  });

  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    await stack?.stop();
    stack = undefined;
  });

  afterAll(async () => {
    await broker.stop();
  });

  /** Whether an earlier stack left its retained `offline` on the broker. */
  let leftOffline = false;

  /** `onlineSeen: 'retained'` checks `online` on the broker instead of live (see the leftovers test). */
  async function start(options: Partial<Parameters<typeof startMqttStack>[0]> = {}, onlineSeen: 'live' | 'retained' = 'live'): Promise<{ stack: MqttStack; w: Watcher }> {
    watcher = await Watcher.connect(broker.url, ['xg2g/#', `${DP}/#`]);
    // aedes may deliver retained messages after newer live ones: take the old `offline` first, so
    // it cannot land after the new `online`.
    if (leftOffline) {
      await watcher.waitFor(B.availability, (p) => p === 'offline');
      await watcher.waitFor(T.availability, (p) => p === 'offline');
    }
    leftOffline = true;
    stack = await startMqttStack({ brokerUrl: broker.url, ...options });
    if (onlineSeen === 'live') {
      await watcher.waitFor(B.availability, (p) => p === 'online');
      await watcher.waitFor(T.availability, (p) => p === 'online');
    }
    else await until(async () => (await retainedSnapshot(broker.url, [T.availability], 100)).get(T.availability) === 'online', 5_000, 'online on the broker');
    await watcher.waitFor(T.field('power'));
    return { stack, w: watcher };
  }

  it('publishes availability, state and discovery payloads that Home Assistant accepts', async () => {
    const { stack, w } = await start();
    await until(() => discoveryConfigs(w).size === ENTITIES, 5_000, 'all discovery configs');
    const configs = discoveryConfigs(w);
    const uniqueIds = new Set<string>();
    for (const [topic, config] of configs) {
      const component = topic.split('/')[1];
      // Home Assistant's schema: required keys, no key it would drop, every value of the right type.
      expect([topic, discoveryProblems(component, config)]).toEqual([topic, []]);
      for (const key of ['unique_id', 'default_entity_id', 'device', 'availability', 'origin', 'name']) {
        expect([topic, key, config[key]]).toEqual([topic, key, expect.anything()]);
      }
      uniqueIds.add(config.unique_id as string);
      const device = config.device as Record<string, unknown>;
      expect(device).toMatchObject({ name: 'Living Room', manufacturer: expect.any(String), model: expect.any(String), sw_version: expect.any(String) });
      expect((device.identifiers as string[])[0]).toMatch(/^xg2g_/);
      expect(device.configuration_url).toBe(`${stack.sim.webUrl}/`);
      expect((config.origin as Record<string, unknown>).name).toBe('homebridge-xg2g');
      // Every entity follows the bridge's last will; all of them are available now.
      const availability = config.availability as Array<{ topic: string }>;
      expect(availability[0].topic).toBe(B.availability);
      expect([topic, haAvailable(config, w.latest)]).toEqual([topic, true]);
      // Every topic it names is one the bridge publishes or listens to.
      for (const key of ['state_topic', 'json_attributes_topic', 'url_topic']) if (config[key]) expect([topic, w.latest.has(config[key] as string)]).toEqual([topic, true]);
    }
    expect(uniqueIds.size).toBe(configs.size);
    const select = [...configs].find(([topic]) => topic.includes('/select/'))![1];
    const options = select.options as string[];
    expect(options).toEqual(expect.arrayContaining(['Das Erste HD', 'ZDF HD', 'arte HD']));
    expect(new Set(options).size).toBe(options.length);
    // The select's state (through its template) is one of its options.
    const state = w.json<{ channel: { name: string; listed: boolean; ref: string }; power: string }>(T.state);
    expect(state).toMatchObject({ power: 'ON', channel: { ref: DAS_ERSTE_HD, listed: true } });
    expect(options).toContain(state.channel.name);
    // The channel logo: the proxy's picon of the channel on screen.
    expect(w.latest.get(T.picon)).toBe(`${stack.app.proxyUrl}/picon/${encodeURIComponent(DAS_ERSTE_HD)}.png`);
    const logo = await fetch(w.latest.get(T.picon)!);
    expect([logo.status, logo.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(JSON.parse(w.latest.get(T.timers)!)).toEqual([]);
    const number = [...configs].find(([topic]) => topic.includes('/number/'))![1];
    expect(number).toMatchObject({ min: 0, max: 100, command_topic: T.command('volume'), state_topic: T.field('volume') });
    expect(w.latest.get(T.field('volume'))).toBe(String(stack.sim.state.volume));
    // A reload that finds the same channels and device sends no discovery again (on change only);
    // the state change after it is the barrier (one connection keeps its publishes in order).
    const configsSent = (): number => w.messages.filter((m) => m.topic.endsWith('/config')).length;
    const sent = configsSent();
    const reloaded = new Promise((r) => stack.app.receivers[0].once('loaded', r));
    await w.publish(T.command('refresh'), 'REFRESH');
    await reloaded;
    stack.sim.setState({ volume: 12 });
    await w.waitFor(T.field('volume'), (p) => p === '12', 2_500);
    expect(configsSent()).toBe(sent);
    // Home Assistant coming back asks for discovery again.
    const before = w.messages.length;
    await w.publish(`${DP}/status`, 'online');
    await until(() => w.messages.slice(before).filter((m) => m.topic.endsWith('/config')).length >= ENTITIES, 5_000, 'discovery resent');
  });

  it('shows a state change on the box within one poll interval, retained and on change only', async () => {
    const { stack, w } = await start();
    const first = w.messages.length;
    stack.sim.setState({ channelRef: ZDF_HD, volume: 33, muted: true, recording: true });
    // refreshInterval is 1 s: one poll plus the time to answer.
    await w.waitFor(T.field('channel'), (p) => p === 'ZDF HD', 2_500);
    await w.waitFor(T.field('volume'), (p) => p === '33', 2_500);
    expect(w.latest.get(T.field('channel_ref'))).toBe(ZDF_HD);
    expect(w.latest.get(T.field('mute'))).toBe('ON');
    expect(w.latest.get(T.field('recording'))).toBe('ON');
    expect(w.json(T.state)).toMatchObject({ channel: { name: 'ZDF HD', ref: ZDF_HD }, volume: 33, muted: true, recording: true });
    await w.waitFor(T.field('programme'), (p) => /^(heute journal|Der Bergdoktor|Markus Lanz)$/.test(p), 2_500);
    expect(w.json(T.field('programme_info'))).toMatchObject({ title: expect.any(String), begin: expect.any(String), next_title: expect.any(String) });
    // Nothing new on the box: nothing new on MQTT (no retained topic is sent twice with the same value).
    const settled = w.messages.length;
    await new Promise((r) => setTimeout(r, 1_500));
    const again = w.messages.slice(settled).filter((m) => m.topic.startsWith('xg2g/') && !m.topic.includes('/streams'));
    expect(again).toEqual([]);
    expect(w.messages.length).toBeGreaterThan(first);

    stack.sim.setState({ power: 'standby' });
    await w.waitFor(T.field('power'), (p) => p === 'OFF', 2_500);
    await w.waitFor(T.field('channel'), (p) => p === '', 2_500);
    expect(w.json(T.state)).toMatchObject({ power: 'OFF', channel: null, now: null });
    const retained = await retainedSnapshot(broker.url, ['xg2g/#']);
    expect(retained.get(T.field('power'))).toBe('OFF');
    expect(retained.get(T.availability)).toBe('online');
    expect(retained.has(T.field('channel'))).toBe(false);
  });

  it('carries out every command on the box', async () => {
    const { stack, w } = await start();
    const sim = stack.sim;
    const errors = (): string[] => w.messages.filter((m) => m.topic === T.error).map((m) => m.text);

    await w.publish(T.command('power'), 'OFF');
    await until(() => sim.state.power === 'standby', 5_000, 'standby');
    await w.waitFor(T.field('power'), (p) => p === 'OFF');
    await w.publish(T.command('power'), 'ON');
    await until(() => sim.state.power === 'on', 5_000, 'on');
    await w.publish(T.command('power'), 'TOGGLE');
    await until(() => sim.state.power === 'standby', 5_000, 'toggled off');

    // Zapping wakes the box first.
    await w.publish(T.command('channel'), 'ZDF HD');
    await until(() => sim.state.power === 'on' && sim.state.channelRef === ZDF_HD, 10_000, 'zap by name');
    await w.waitFor(T.field('channel'), (p) => p === 'ZDF HD');
    await w.publish(T.command('channel'), ARTE_HD);
    await until(() => sim.state.channelRef === ARTE_HD, 5_000, 'zap by ref');
    await w.publish(T.command('channel'), '132f_3ef_1_c00000');
    await until(() => sim.state.channelRef === SERVUS_AAC, 5_000, 'zap by short id');

    await w.publish(T.command('volume'), '20');
    await until(() => sim.state.volume === 20, 5_000, 'volume');
    await w.waitFor(T.field('volume'), (p) => p === '20');
    await w.publish(T.command('volume'), '42.0');
    await until(() => sim.state.volume === 42, 5_000, 'volume from a number entity');

    await w.publish(T.command('mute'), 'ON');
    await until(() => sim.state.muted, 5_000, 'mute');
    await w.waitFor(T.field('mute'), (p) => p === 'ON');
    await w.publish(T.command('mute'), 'ON');
    await w.publish(T.command('mute'), 'OFF');
    await until(() => !sim.state.muted, 5_000, 'unmute');

    await w.publish(T.command('key'), 'MENU');
    await until(() => sim.keys.includes(139), 5_000, 'key by name');
    await w.publish(T.command('key'), '352');
    await until(() => sim.keys.includes(352), 5_000, 'key by code');

    sim.clearRequests();
    await w.publish(T.command('refresh'), 'REFRESH');
    await until(() => sim.requests.some((r) => r.path === '/api/deviceinfo'), 5_000, 'refresh reloads');

    await w.publish(T.command('power'), 'REBOOT');
    await until(() => sim.requests.some((r) => r.path === '/api/powerstate' && r.query.newstate === '2'), 5_000, 'reboot');
    await w.publish(T.command('power'), 'DEEP_STANDBY');
    await until(() => sim.state.power === 'deep', 5_000, 'deep standby');
    await w.waitFor(T.field('reachable'), (p) => p === 'false', 5_000);
    // A box that does not answer: the receiver's entities go unavailable, the power switch shows OFF.
    await w.waitFor(T.availability, (p) => p === 'offline', 5_000);
    expect(w.latest.get(T.field('power'))).toBe('OFF');
    expect(errors()).toEqual([]);
  });

  it('ignores malformed commands on every topic, with one error message each, and keeps working', async () => {
    const { stack, w } = await start();
    const sim = stack.sim;
    await until(() => stack.app.receivers[0].channels().size > 0, 5_000, 'channels');
    const before = { ...sim.state };
    const keys = sim.keys.length;
    sim.clearRequests();
    const junk = Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x80, 0x41]);
    const bad: Array<[string, string | Buffer]> = [
      ['power', junk], ['power', 'MAYBE'], ['power', '{"state":"ON"}'], ['power', ' '], ['power', 'x'.repeat(5000)],
      ['channel', junk], ['channel', 'No Such Channel'], ['channel', '1:0:19:FFFF:FFFF:1:C00000:0:0:0:'], ['channel', ' '], ['channel', '42'],
      ['volume', junk], ['volume', 'loud'], ['volume', '-5'], ['volume', '101'], ['volume', '1e3'], ['volume', 'NaN'], ['volume', '[50]'],
      ['mute', junk], ['mute', 'perhaps'], ['mute', '2'],
      ['key', junk], ['key', 'SELF_DESTRUCT'], ['key', '0'], ['key', '99999'], ['key', '-1'],
      ['refresh', junk],
      ['record', 'LATER'], ['record', '0'],
      ['timer/add', '{"channel":"ZDF HD"}'], ['timer/add', 'at eight'], ['timer/add', '{"eventId":1,"begin":1}'],
      ['timer/delete', 'all of them'],
      ['message', '{"text":"Hi","type":"alarm"}'], ['message', '{"text":"Hi","timeout":100000}'], ['message', junk],
    ];
    for (const [command, payload] of bad) await w.publish(T.command(command as never), payload);
    // An empty payload (clearing a retained command) is no command and no error.
    for (const command of ['power', 'channel', 'record', 'timer/add', 'timer/delete', 'message'] as const) await w.publish(T.command(command), '');
    await until(() => w.messages.filter((m) => m.topic === T.error).length === bad.length, 5_000, 'one error per bad command');
    await new Promise((r) => setTimeout(r, 300));
    expect(w.messages.filter((m) => m.topic === T.error)).toHaveLength(bad.length);
    expect(sim.state).toEqual(before);
    expect(sim.keys).toHaveLength(keys);
    expect(sim.timers).toEqual([]);
    expect(sim.messages).toEqual([]);
    const control = sim.requests.filter((r) => /powerstate|zap|\/vol|remotecontrol|timer|recordnow|message/.test(r.path));
    expect(control).toEqual([]);
    const errorLines = stack.logs.filter((l) => / ignored: /.test(l));
    expect(errorLines).toHaveLength(bad.length);
    expect(w.messages.filter((m) => m.topic === T.error).map((m) => m.text)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^channel\/set ignored: no channel "No Such Channel" in the configured bouquets$/),
      expect.stringMatching(/^power\/set ignored: .*not text/),
    ]));
    // Still alive and obeying.
    await w.publish(T.command('volume'), '7');
    await until(() => sim.state.volume === 7, 5_000, 'a valid command afterwards');
  });

  it('shows a stream through the proxy on the stream topics and clears its retained topic when it ends', async () => {
    const { stack, w } = await start();
    const streamTopic = T.stream('132f_3ef_1_c00000');
    const stream = await openStream(`${stack.app.proxyUrl}/${SERVUS_AAC}`);
    try {
      // A stream opened before the channel list loaded carries its name once the list is there.
      await w.waitFor(streamTopic, (p) => p !== '' && JSON.parse(p).clients === 1 && JSON.parse(p).channel.name !== SERVUS_AAC, 10_000);
      const payload = w.json(streamTopic);
      expect(payload).toMatchObject({
        channel: { name: 'ServusTV HD Deutschland', ref: SERVUS_AAC, id: '132f_3ef_1_c00000' }, clients: 1, started_at: expect.any(String), last_error: null,
      });
      expect(Object.keys(payload)).toEqual(expect.arrayContaining(['mode', 'codecs_in', 'codecs_out', 'bitrate_in', 'bitrate_out']));
      await w.waitFor(T.streams, (p) => JSON.parse(p).sessions === 1 && JSON.parse(p).clients === 1);
      const retained = await retainedSnapshot(broker.url, [`${T.streams}/#`, T.streams]);
      expect(retained.has(streamTopic)).toBe(true);
    } finally {
      stream.close();
    }
    await w.waitFor(streamTopic, (p) => p === '', 5_000);
    await w.waitFor(T.streams, (p) => JSON.parse(p).sessions === 0 && JSON.parse(p).clients === 0);
    const retained = await retainedSnapshot(broker.url, [`${T.base}/streams/+`]);
    expect([...retained.keys()]).toEqual([]);
  });

  it('removes entities and sessions an earlier run left behind', async () => {
    const first = await start();
    await until(() => discoveryConfigs(first.w).size === ENTITIES, 5_000, 'discovery');
    const streamSensor = [...discoveryConfigs(first.w).keys()].find((t) => t.endsWith('/stream_bitrate/config'))!;
    const sim = first.stack.sim;
    await first.stack.app.stop();
    await watcher!.close();
    stack = undefined;
    // A session topic left by a run that crashed, and a command someone published retained (it
    // would run again on every reconnect).
    const other = await Watcher.connect(broker.url, []);
    await other.publish(T.stream('dead_beef'), '{"clients":1}', true);
    await other.publish(T.command('power'), 'OFF', true);
    try {
      // The same box, now without the proxy: its stream sensors no longer exist. `online` follows the
      // SUBACK, and so, at once, does the error reply to the retained command the broker hands over
      // on subscribing; aedes then drops the live `online` for a subscriber of both (a retained
      // publish is stored before it is sent, the non-retained one overtakes it, and aedes takes the
      // earlier one for a duplicate: moscajs/aedes#994). What the broker retains is right.
      const second = await start({ sim, proxy: { enabled: false } }, 'retained');
      await second.w.waitFor(streamSensor, (p) => p === '', 5_000);
      await second.w.waitFor(T.stream('dead_beef'), (p) => p === '', 5_000);
      await until(() => discoveryConfigs(second.w).size === ENTITIES - PROXY_ENTITIES, 5_000, 'the remaining configs');
      const retained = await retainedSnapshot(broker.url, [`${DP}/#`, `${T.base}/streams/+`]);
      expect(retained.has(streamSensor)).toBe(false);
      expect(retained.has(T.stream('dead_beef'))).toBe(false);
      expect([...retained.keys()].filter((t) => t.endsWith('/config'))).toHaveLength(ENTITIES - PROXY_ENTITIES);
      await second.w.waitFor(T.error, (p) => /retained/.test(p));
      expect(sim.state.power).toBe('on');
    } finally {
      await other.publish(T.command('power'), '', true);
      await other.close();
      // start() set it again (TypeScript cannot see that through the closure).
      await (stack as MqttStack | undefined)?.stop();
      stack = undefined;
      await sim.close();
    }
  });

  it('reconnects and republishes everything after the broker was killed and restarted', async () => {
    const { stack, w } = await start();
    await until(() => discoveryConfigs(w).size === ENTITIES, 5_000, 'discovery');
    await w.close();
    watcher = undefined;
    await broker.kill();
    // The box changes while the broker is gone; the proxy keeps working.
    stack.sim.setState({ volume: 77 });
    await until(async () => (await fetch(`${stack.app.proxyUrl}/healthz`)).ok, 5_000, 'the proxy');
    await new Promise((r) => setTimeout(r, 1_500));
    await broker.restart();
    leftOffline = false;
    // Mosquitto ran without persistence and aedes in memory: everything retained is gone, so what
    // a new subscriber sees was republished by the bridge.
    watcher = await Watcher.connect(broker.url, ['xg2g/#', `${DP}/#`]);
    await watcher.waitFor(B.availability, (p) => p === 'online', 15_000);
    await watcher.waitFor(T.availability, (p) => p === 'online', 5_000);
    await watcher.waitFor(T.field('volume'), (p) => p === '77', 5_000);
    await until(() => discoveryConfigs(watcher!).size === ENTITIES, 5_000, 'discovery republished');
    expect(watcher.latest.get(T.field('power'))).toBe('ON');
    expect(stack.logs.filter((l) => /reconnected/.test(l))).toHaveLength(1);
  }, 40_000);
});
