// Home control over MQTT end to end: the simulator over HTTP, an App with the proxy and MQTT, and a
// real broker. Instant recordings and timers change what the box keeps and what `…/timers` and
// `…/recording` say; the box's refusal of a conflicting timer reaches `…/error` in its own words; a
// yes/no question's answer reaches `…/message/answer`; ON wakes a box in deep standby with a magic
// packet; OFF is refused while someone watches through the proxy and OFF_FORCE is not; and one MQTT
// connection serves two receivers, as the broker counts it.
import http from 'node:http';
import { bridgeTopics, receiverTopics } from '../../src/mqtt/topics';
import { Simulator, startSimulator } from '../../src/simulator';
import { ARTE_HD, DAS_ERSTE_HD, SERVUS_AAC, until, ZDF_HD } from '../helpers/stack';
import { discoveryConfigs, MqttStack, receiverBlock, retainedSnapshot, startAedes, startMosquitto, startMqttStack, TestBroker, Watcher } from './helpers';

const T = receiverTopics('xg2g', 'living_room');
const B = bridgeTopics('xg2g');

interface TimerPayload { id: string; name: string; channel: string; begin: string; end: string; state: string }

/** Keeps a proxy stream open until `close()`; resolves once the first bytes arrived. */
function openStream(url: string): Promise<{ close: () => void }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`));
      response.once('data', () => resolve({ close: () => request.destroy() }));
      response.on('error', () => undefined);
    });
    request.on('error', reject);
  });
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, '+00:00');

describe('home control over MQTT (embedded aedes)', () => {
  let broker: TestBroker;
  let stack: MqttStack | undefined;
  let sim: Simulator | undefined;
  let w: Watcher | undefined;

  beforeAll(async () => {
    broker = await startAedes();
  });

  afterEach(async () => {
    await w?.close();
    w = undefined;
    await stack?.stop();
    stack = undefined;
    await sim?.close();
    sim = undefined;
  });

  afterAll(async () => {
    await broker.stop();
  });

  async function start(receiver: (sim: Simulator) => Record<string, unknown> = () => ({}), simOptions: Parameters<typeof startSimulator>[0] = {}): Promise<{ stack: MqttStack; w: Watcher; sim: Simulator }> {
    sim = await startSimulator(simOptions);
    w = await Watcher.connect(broker.url, ['xg2g/#']);
    stack = await startMqttStack({ brokerUrl: broker.url, sim, receiver: receiver(sim) });
    await w.waitFor(T.availability, (p) => p === 'online', 10_000);
    await w.waitFor(T.field('power'), (p) => p === 'ON');
    await w.waitFor(T.state, (p) => JSON.parse(p).channel?.listed === true);
    return { stack, w, sim };
  }

  const errors = (watcher: Watcher): string[] => watcher.messages.filter((m) => m.topic === T.error).map((m) => m.text);
  const timers = (watcher: Watcher): TimerPayload[] => JSON.parse(watcher.latest.get(T.timers) ?? '[]') as TimerPayload[];

  it('records the programme on screen with record/set NOW and stops with STOP; recording and timers follow', async () => {
    const { w, sim } = await start();
    await w.waitFor(T.timers, (p) => p === '[]');
    await w.publish(T.command('record'), 'NOW');
    await until(() => sim.timers.length === 1, 5_000, 'the instant recording on the box');
    expect(sim.timers[0]).toMatchObject({ serviceref: DAS_ERSTE_HD, dontsave: true });
    await w.waitFor(T.field('recording'), (p) => p === 'ON', 5_000);
    await w.waitFor(T.timers, (p) => JSON.parse(p).length === 1);
    expect(timers(w)[0]).toMatchObject({ channel: 'Das Erste HD', state: 'recording', begin: expect.stringMatching(/\+00:00$/) });
    // Retained: Home Assistant gets the list when it subscribes.
    const retained = await retainedSnapshot(broker.url, [T.timers]);
    expect(JSON.parse(retained.get(T.timers) ?? '[]')).toHaveLength(1);

    await w.publish(T.command('record'), 'STOP');
    await until(() => sim.timers.length === 0, 5_000, 'the recording stopped on the box');
    await w.waitFor(T.timers, (p) => p === '[]');
    await w.waitFor(T.field('recording'), (p) => p === 'OFF', 5_000);
    expect(errors(w)).toEqual([]);
  });

  it('adds and deletes timers with timer/add and timer/delete, and refuses a conflict in the box\'s words', async () => {
    const { w, sim } = await start();
    const begin = Date.now() + 3_600_000;
    const end = begin + 1_800_000;
    await w.publish(T.command('timer/add'), JSON.stringify({ channel: 'ZDF HD', begin: iso(begin), end: Math.floor(end / 1000), name: 'Late show' }));
    await until(() => sim.timers.length === 1, 5_000, 'the timer on the box');
    expect(sim.timers[0]).toMatchObject({ serviceref: ZDF_HD, name: 'Late show', begin: Math.floor(begin / 1000), end: Math.floor(end / 1000) });
    await w.waitFor(T.timers, (p) => JSON.parse(p).length === 1);
    const added = timers(w)[0];
    expect(added).toEqual({ id: expect.any(String), name: 'Late show', channel: 'ZDF HD', begin: iso(Math.floor(begin / 1000) * 1000), end: iso(Math.floor(end / 1000) * 1000), state: 'waiting' });

    // Two tuners: a second timer at the same time fits, a third does not.
    await w.publish(T.command('timer/add'), JSON.stringify({ channel: ARTE_HD, begin: iso(begin), end: iso(end), name: 'Arte' }));
    await w.waitFor(T.timers, (p) => JSON.parse(p).length === 2);
    await w.publish(T.command('timer/add'), JSON.stringify({ channel: 'ServusTV HD Deutschland', begin: iso(begin + 60_000), end: iso(end), name: 'Servus' }));
    await w.waitFor(T.error, (p) => /timer\/add refused by the receiver: Conflicting Timer\(s\) detected! Servus/.test(p), 5_000);
    expect(sim.timers.map((t) => t.name)).toEqual(['Late show', 'Arte']);
    expect(sim.timers.some((t) => t.serviceref === SERVUS_AAC)).toBe(false);

    await w.publish(T.command('timer/delete'), added.id);
    await until(() => sim.timers.length === 1, 5_000, 'the timer deleted on the box');
    await w.waitFor(T.timers, (p) => JSON.parse(p).length === 1 && JSON.parse(p)[0].name === 'Arte');
    // A timer that is not there: a sentence naming it, nothing deleted.
    await w.publish(T.command('timer/delete'), added.id);
    await w.waitFor(T.error, (p) => p.startsWith(`timer/delete ignored: Living Room has no timer "${added.id}"`), 5_000);
    expect(sim.timers).toHaveLength(1);
  });

  it('asks a yes/no question on the TV and publishes the answer on message/answer', async () => {
    const { w, sim } = await start();
    await w.publish(T.command('message'), 'Dinner is ready');
    await until(() => sim.messages.length === 1, 5_000, 'the message on the TV');
    expect(sim.messages[0]).toMatchObject({ text: 'Dinner is ready', timeout: 10 });

    await w.publish(T.command('message'), JSON.stringify({ text: 'Record the match?', type: 'yesno', timeout: 20 }));
    await until(() => sim.messages.length === 2, 5_000, 'the question on the TV');
    expect(sim.messages[1]).toMatchObject({ text: 'Record the match?', timeout: 20 });
    expect(sim.answerMessage('yes')).toBe(true);
    await w.waitFor(T.messageAnswer, (p) => p === 'yes', 10_000);
    await w.waitFor(T.messageResult);
    expect(w.json(T.messageResult)).toEqual({ question: 'Record the match?', answer: 'yes' });
    // An event, not a state: not retained.
    expect(w.messages.filter((m) => m.topic === T.messageAnswer).map((m) => [m.text, m.retain])).toEqual([['yes', false]]);
    expect(errors(w)).toEqual([]);
  });

  it('wakes a box in deep standby with power/set ON (a magic packet), and the power state follows', async () => {
    const { w, sim } = await start((box) => ({ wakeBroadcast: [`127.0.0.1:${box.wakePort}`] }), { bootDelayMs: 300 });
    await w.publish(T.command('power'), 'DEEP_STANDBY');
    await until(() => sim.state.power === 'deep', 5_000, 'deep standby');
    await w.waitFor(T.availability, (p) => p === 'offline', 10_000);
    expect(w.latest.get(T.field('power'))).toBe('OFF');
    // The bridge stays online: the power switch stays usable while the box is away.
    expect(w.latest.get(B.availability)).toBe('online');

    await w.publish(T.command('power'), 'ON');
    await until(() => sim.wakePackets.length > 0, 5_000, 'the magic packet');
    await until(() => sim.state.power === 'on', 20_000, 'the box booted');
    await w.waitFor(T.field('power'), (p) => p === 'ON', 20_000);
    await w.waitFor(T.availability, (p) => p === 'online', 10_000);
    expect(errors(w)).toEqual([]);
  }, 40_000);

  it('refuses power/set OFF while a proxy viewer watches, on the error topic, and OFF_FORCE goes through', async () => {
    const { stack, w, sim } = await start();
    const stream = await openStream(`${stack.app.proxyUrl}/${DAS_ERSTE_HD}`);
    try {
      await w.waitFor(T.streams, (p) => JSON.parse(p).clients === 1, 10_000);
      await w.publish(T.command('power'), 'OFF');
      await w.waitFor(T.error, (p) => p.startsWith('power/set refused: Living Room stays on: 1 viewer is watching Das Erste HD'), 5_000);
      expect(w.latest.get(T.error)).toMatch(/OFF_FORCE/);
      await new Promise((r) => setTimeout(r, 300));
      expect(sim.state.power).toBe('on');

      await w.publish(T.command('power'), 'OFF_FORCE');
      await until(() => sim.state.power === 'standby', 5_000, 'standby anyway');
      await w.waitFor(T.field('power'), (p) => p === 'OFF', 5_000);
      expect(errors(w)).toHaveLength(1);
    } finally {
      stream.close();
    }
  }, 30_000);
});

describe.each([['embedded aedes', startAedes], ['mosquitto', startMosquitto]])('one MQTT connection for the whole plugin (%s)', (_kind, startBroker) => {
  let broker: TestBroker;
  let stack: MqttStack | undefined;
  let sim2: Simulator | undefined;
  let w: Watcher | undefined;

  beforeAll(async () => {
    broker = await startBroker();
  });

  afterAll(async () => {
    await w?.close();
    await stack?.stop();
    await sim2?.close();
    await broker.stop();
  });

  it('serves two receivers, each with its topics, entities and availability, over one client', async () => {
    w = await Watcher.connect(broker.url, ['xg2g/#', 'homeassistant/#']);
    sim2 = await startSimulator({ mac: '00:1d:ec:0e:4a:32' });
    stack = await startMqttStack({ brokerUrl: broker.url, moreReceivers: [receiverBlock(sim2, 'Bedroom')] });
    const bedroom = receiverTopics('xg2g', 'bedroom');
    await w.waitFor(B.availability, (p) => p === 'online', 10_000);
    for (const t of [T, bedroom]) {
      await w.waitFor(t.availability, (p) => p === 'online', 10_000);
      await w.waitFor(t.field('power'), (p) => p === 'ON');
    }
    await until(() => new Set([...discoveryConfigs(w!).values()].map((c) => (c.device as { name: string }).name)).size === 2, 10_000, 'both devices');
    // The watcher and the bridge: two clients, not one per receiver.
    await until(async () => (await broker.clients()) === 2, 10_000, 'two clients at the broker');
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await broker.clients()).toBe(2);
    // Commands reach the right box.
    stack.sim.clearRequests();
    await w.publish(bedroom.command('volume'), '17');
    await until(() => sim2!.state.volume === 17, 5_000, 'the bedroom volume');
    expect(stack.sim.state.volume).not.toBe(17);
  }, 30_000);
});
