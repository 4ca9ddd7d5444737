// Home control through the real Receiver against the simulator over real HTTP and real UDP on
// loopback: power-on from deep standby with Wake-on-LAN (and the MAC remembered across restarts),
// the standby guard, offMode, instant recordings, timers, conflicts, yes/no messages and the
// 'timers' event. Delays are made short through options; nothing asserts wall-clock times.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { HomeTiming, Viewers } from '../../src/receiver/control';
import { CommandRefused, ReceiverError } from '../../src/receiver/errors';
import { ReceiverState } from '../../src/receiver/monitor';
import { Receiver } from '../../src/receiver/receiver';
import { parseServiceRef } from '../../src/receiver/service-ref';
import { Timer } from '../../src/receiver/types';
import { SIM_MAC, Simulator, startSimulator } from '../../src/simulator';
import { recordingLogger, until } from '../helpers/stack';

const DAS_ERSTE_HD = '1:0:19:283D:3FB:1:C00000:0:0:0:';
const ZDF_HD = '1:0:19:2B66:3F3:1:C00000:0:0:0:';
const ARTE_HD = '1:0:19:283E:3FB:1:C00000:0:0:0:';
const FAST: Partial<HomeTiming> = { bootTimeoutMs: 10_000, bootPollMs: 100, resendMs: 2_000, answerPollMs: 100, answerGraceMs: 300 };

interface Setup {
  sim: Simulator;
  receiver: Receiver;
  abort: AbortController;
}

const setups: Setup[] = [];
let cacheDir = '';

beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'xg2g-home-'));
});

afterEach(async () => {
  for (const s of setups.splice(0)) {
    s.abort.abort();
    s.receiver.close();
    await s.sim.close();
  }
  await rm(cacheDir, { recursive: true, force: true });
});

async function setup(options: {
  sim?: Simulator;
  block?: Record<string, unknown>;
  viewers?: () => Viewers;
  cache?: boolean;
  lines?: string[];
  timerPollMs?: number;
  waitLoaded?: boolean;
} = {}): Promise<Setup> {
  const sim = options.sim ?? (await startSimulator({ bootDelayMs: 100 }));
  const web = new URL(sim.webUrl);
  const block = { name: 'Living Room', host: web.hostname, port: Number(web.port), refreshInterval: 1, wakeBroadcast: [`127.0.0.1:${sim.wakePort}`], ...options.block };
  const config = loadConfig({ env: {}, block: { receivers: [block] } });
  const abort = new AbortController();
  const receiver = new Receiver({
    config: config.receivers[0], log: options.lines ? recordingLogger(options.lines) : silentLogger, signal: abort.signal, epg: false,
    cacheDir: options.cache === false ? undefined : cacheDir, viewers: options.viewers, homeTiming: FAST, timerPollMs: options.timerPollMs,
  });
  const s = { sim, receiver, abort };
  setups.push(s);
  receiver.start();
  if (options.waitLoaded !== false) await until(() => receiver.device !== undefined && receiver.channels().size > 0, 5_000, 'the channels');
  return s;
}

it('wakes a box in deep standby with Wake-on-LAN, waits for it, and zaps', async () => {
  const { sim, receiver } = await setup();
  expect(receiver.mac).toBe(SIM_MAC);
  const states: ReceiverState[] = [];
  receiver.monitor.on('state', (state: ReceiverState) => states.push(state));
  sim.setState({ power: 'deep' });
  await until(() => !receiver.monitor.state.reachable, 5_000, 'the box to drop off');

  const state = await receiver.control.zap(parseServiceRef(ZDF_HD));
  expect(sim.state).toMatchObject({ power: 'on', channelRef: ZDF_HD });
  expect(state).toMatchObject({ reachable: true, power: 'on', channel: { ref: ZDF_HD }, waking: false });
  expect(sim.wakePackets.filter((p) => p.matched).length).toBeGreaterThanOrEqual(1);
  // While it booted the state said so.
  expect(states.some((s) => s.waking && !s.reachable)).toBe(true);
});

it('remembers the MAC, so a new Receiver wakes a box that sleeps since before it started', async () => {
  const first = await setup();
  await until(async () => (await readFile(join(cacheDir, 'receivers-v1.json'), 'utf8').catch(() => '')).includes(SIM_MAC), 5_000, 'the MAC file');
  first.sim.setState({ power: 'deep' });
  first.abort.abort();
  first.receiver.close();
  setups.splice(setups.indexOf(first), 1);

  const second = await setup({ sim: first.sim, waitLoaded: false });
  await until(() => second.receiver.mac === SIM_MAC, 5_000, 'the remembered MAC');
  expect(second.receiver.device).toBeUndefined();
  await second.receiver.control.powerOn();
  expect(first.sim.state.power).toBe('on');
});

it('says what to set when an unreachable box cannot be woken', async () => {
  const sim = await startSimulator({ bootDelayMs: 100 });
  sim.setState({ power: 'deep' });
  const { receiver } = await setup({ sim, cache: false, waitLoaded: false });
  await until(() => receiver.monitor.polled, 5_000, 'the first poll');
  const noMac = receiver.control.powerOn();
  await expect(noMac).rejects.toBeInstanceOf(ReceiverError);
  await expect(noMac).rejects.toThrow(/receivers\[\]\.mac.*Wake-on-LAN in the box's settings/);

  const off = await setup({ sim, block: { mac: SIM_MAC, wakeOnLan: false }, cache: false, waitLoaded: false });
  await until(() => off.receiver.monitor.polled, 5_000, 'the first poll');
  await expect(off.receiver.control.powerOn()).rejects.toThrow(/receivers\[\]\.wakeOnLan/);
  expect(sim.wakePackets).toHaveLength(0);
});

it('refuses "off" while proxy viewers watch, unless forced', async () => {
  let viewers: Viewers = { count: 2, channels: ['Das Erste HD'] };
  const { sim, receiver } = await setup({ viewers: () => viewers });
  const refused = receiver.control.powerOff();
  await expect(refused).rejects.toBeInstanceOf(CommandRefused);
  await expect(refused).rejects.toThrow('Living Room stays on: 2 viewers are watching Das Erste HD through the proxy; send OFF_FORCE to turn it off anyway.');
  await expect(receiver.control.setPower(false)).rejects.toBeInstanceOf(CommandRefused);
  await expect(receiver.control.deepStandby()).rejects.toBeInstanceOf(CommandRefused);
  expect(sim.state.power).toBe('on');

  expect((await receiver.control.powerOff({ force: true })).power).toBe('standby');
  expect(sim.state.power).toBe('standby');
  viewers = { count: 0, channels: [] };
  expect((await receiver.control.setPower(true)).power).toBe('on');
  expect((await receiver.control.setPower(false)).power).toBe('standby');
});

it('sends the box to deep standby when offMode says so, and reports it asleep', async () => {
  const { sim, receiver } = await setup({ block: { offMode: 'deepStandby' } });
  await receiver.control.powerOff();
  expect(sim.state.power).toBe('deep');
  await until(() => !receiver.monitor.state.reachable, 5_000, 'the box to drop off');
  expect(receiver.monitor.state).toMatchObject({ reachable: false, power: 'standby', channel: null });
  // And back on with Wake-on-LAN.
  expect((await receiver.control.powerOn()).power).toBe('on');
});

it('records now, lists the recording and stops it', async () => {
  const { sim, receiver } = await setup();
  const timers = await receiver.control.recordNow();
  expect(timers).toEqual([expect.objectContaining({ ref: DAS_ERSTE_HD, channel: 'Das Erste HD', state: 'recording', instant: true })]);
  expect(receiver.monitor.state.recording).toBe(true);
  expect(await receiver.control.timers()).toEqual(timers);
  expect(receiver.timers).toEqual(timers);

  expect(await receiver.control.stopRecording()).toEqual([]);
  expect(sim.timers).toHaveLength(0);
  expect(receiver.monitor.state.recording).toBe(false);
});

it('adds and deletes timers by channel name and event, and passes the box\'s conflict on', async () => {
  const { sim, receiver } = await setup();
  const begin = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000);
  const end = new Date(begin.getTime() + 3_600_000);
  const list = await receiver.control.addTimer({ channel: 'zdf hd', begin, end, name: 'Krimi' });
  expect(list).toEqual([expect.objectContaining({ name: 'Krimi', ref: ZDF_HD, channel: 'ZDF HD', state: 'waiting', begin, end })]);
  expect(list[0].id).toBe(`${begin.getTime() / 1000}_${end.getTime() / 1000}_2b66_3f3_1_c00000`);
  expect(sim.timers.map((t) => t.name)).toEqual(['Krimi']);

  await receiver.control.addTimer({ channel: ARTE_HD, begin, end, name: 'Doku' });
  const conflict = receiver.control.addTimer({ channel: 'Das Erste HD', begin, end, name: 'Dritte' });
  await expect(conflict).rejects.toMatchObject({ kind: 'rejected', boxMessage: 'Conflicting Timer(s) detected! Dritte / Krimi / Doku' });
  expect(sim.timers).toHaveLength(2);

  const unknown = receiver.control.deleteTimer('1_2_nope');
  await expect(unknown).rejects.toMatchObject({ kind: 'invalid' });
  await expect(unknown).rejects.toThrow(/Living Room has no timer "1_2_nope"/);
  await expect(receiver.control.addTimer({ channel: 'No Such TV', begin, end })).rejects.toMatchObject({ kind: 'invalid' });

  for (const t of await receiver.control.timers()) await receiver.control.deleteTimer(t.id);
  expect(sim.timers).toHaveLength(0);

  // An event of the channel on screen (no channel named), with the box's margins.
  const [, next] = await receiver.client.epgService(parseServiceRef(DAS_ERSTE_HD), new Date(), 120);
  const byEvent = await receiver.control.addTimer({ eventId: next.id });
  expect(byEvent).toEqual([expect.objectContaining({ ref: DAS_ERSTE_HD, eventId: next.id, name: next.title })]);
});

it('asks a yes/no question and returns the answer, or none when its time ran out', async () => {
  const { sim, receiver } = await setup();
  const asking = receiver.control.message({ text: 'Aufnahme stoppen?', type: 'yesno', timeoutS: 20 });
  await until(() => sim.messages.length === 1, 5_000, 'the question on screen');
  expect(sim.answerMessage('yes')).toBe(true);
  expect(await asking).toBe('yes');

  expect(await receiver.control.message({ text: 'Noch da?', type: 'yesno', timeoutS: 1 })).toBe('none');
  expect(await receiver.control.message({ text: 'Hallo', type: 'info', timeoutS: 5 })).toBeUndefined();
  expect(sim.messages.map((m) => [m.text, m.type, m.timeout])).toEqual([['Aufnahme stoppen?', 0, 20], ['Noch da?', 0, 1], ['Hallo', 1, 5]]);
});

it('emits \'timers\' only when the list changed', async () => {
  const { receiver } = await setup({ timerPollMs: 100 });
  const events: Timer[][] = [];
  receiver.on('timers', (list: Timer[]) => events.push(list));
  await receiver.readTimers();
  expect(events).toHaveLength(0);
  const begin = new Date(Date.now() + 3_600_000);
  await receiver.control.addTimer({ channel: 'ZDF HD', begin, end: new Date(begin.getTime() + 600_000) });
  expect(events).toHaveLength(1);
  expect(events[0]).toEqual([expect.objectContaining({ name: 'ZDF HD' })]);
  // Several polls of an unchanged list later: still one.
  const reads = receiver.readTimers().then(() => new Promise((r) => setTimeout(r, 350))).then(() => receiver.readTimers());
  await reads;
  expect(events).toHaveLength(1);
  await receiver.control.deleteTimer(events[0][0].id);
  expect(events).toHaveLength(2);
  expect(events[1]).toEqual([]);
});
