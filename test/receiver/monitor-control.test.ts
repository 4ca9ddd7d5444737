// The receiver monitor (state from statusinfo/getcurrent, emitted on change only, back-off while
// unreachable) and the control object (the box's quirks) against the simulator over real HTTP.
import { OpenWebIfClient } from '../../src/receiver/client';
import { ReceiverControl } from '../../src/receiver/control';
import { INITIAL_STATE, ReceiverMonitor, ReceiverState } from '../../src/receiver/monitor';
import { silentLogger } from '../../src/logger';
import { Simulator, startSimulator } from '../../src/simulator';
import { recordingLogger, until } from '../helpers/stack';

const DAS_ERSTE_HD = '1:0:19:283D:3FB:1:C00000:0:0:0:';
const ZDF_HD = '1:0:19:2B66:3F3:1:C00000:0:0:0:';

describe('monitor and control', () => {
  let sim: Simulator;
  let client: OpenWebIfClient;
  let monitor: ReceiverMonitor;
  let control: ReceiverControl;
  const events: ReceiverState[] = [];

  beforeEach(async () => {
    sim = await startSimulator();
    const web = new URL(sim.webUrl);
    client = new OpenWebIfClient({ name: 'Sim', host: web.hostname, port: Number(web.port), timeoutMs: 1000 });
    monitor = new ReceiverMonitor(client, { intervalS: 1, epg: true, log: silentLogger });
    control = new ReceiverControl(client, monitor, silentLogger);
    events.length = 0;
    monitor.on('state', (state: ReceiverState) => events.push(state));
  });

  afterEach(async () => {
    monitor.stop();
    client.close();
    await sim.close();
  });

  it('reads power, channel, volume and programme now/next with entities decoded', async () => {
    const state = await monitor.refresh();
    expect(state).toMatchObject({ reachable: true, power: 'on', channel: { ref: DAS_ERSTE_HD, name: 'Das Erste HD' }, volume: sim.state.volume, muted: sim.state.muted });
    // The simulator's schedule moves with the clock: compare with what the box says right now.
    const current = await client.current();
    expect(state.now?.title).toBe(current.now?.title);
    expect(state.next?.title).toBe(current.next?.title);
    expect(state.now?.title).toMatch(/^(Tagesschau|Tatort: Borowski & die Angst|Tagesthemen)$/);
    expect(`${state.now?.title} ${state.now?.description} ${state.next?.title}`).not.toMatch(/&(amp|lt|gt|quot|#\w+);/);
    expect(state.now?.end?.getTime()).toBeGreaterThan(state.now!.begin!.getTime());
  });

  it('emits a state only when something changed, within one poll of a change on the box', async () => {
    monitor.start();
    await until(() => events.length === 1, 5_000, 'the first state');
    // Polls that find nothing new emit nothing.
    await monitor.refresh();
    await monitor.refresh();
    expect(events).toHaveLength(1);
    sim.setState({ channelRef: ZDF_HD, volume: 33 });
    await until(() => events.length === 2, 2_500, 'the change');
    expect(events[1]).toMatchObject({ channel: { ref: ZDF_HD, name: 'ZDF HD' }, volume: 33 });
    expect(events[1].now?.title).toMatch(/^(heute journal|Der Bergdoktor|Markus Lanz)$/);
    sim.setState({ power: 'standby' });
    await until(() => events.length === 3, 2_500, 'standby');
    expect(events[2]).toMatchObject({ power: 'standby', channel: null, now: null, next: null });
  });

  it('answers a refresh made during a poll with the next poll, shared by later callers', async () => {
    sim.clearRequests();
    const first = monitor.refresh();
    const second = monitor.refresh();
    const third = monitor.refresh();
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    await Promise.all([first, second]);
    expect(sim.requests.filter((r) => r.path === '/api/statusinfo')).toHaveLength(2);
  });

  it('reports an unreachable box once and recovers by itself, saying so once each way', async () => {
    const lines: string[] = [];
    monitor.stop();
    monitor = new ReceiverMonitor(client, { intervalS: 1, epg: true, log: recordingLogger(lines) });
    const reachable: boolean[] = [];
    monitor.on('reachable', (r: boolean) => reachable.push(r));
    monitor.start();
    await until(() => reachable.length === 1, 5_000);
    sim.setFault('refuse');
    await until(() => reachable.length === 2, 5_000, 'unreachable');
    expect(monitor.state).toMatchObject({ reachable: false, power: 'on' });
    sim.setFault(null);
    await until(() => reachable.length === 3, 5_000, 'recovery');
    expect(reachable).toEqual([true, false, true]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^warn Sim \(127\.0\.0\.1:\d+\) .*[^.]\. Will keep trying\.$/);
    expect(lines[1]).toMatch(/^info Sim \(127\.0\.0\.1:\d+\) answers again\.$/);
  });

  it('wakes a box in standby before zapping, then confirms the channel', async () => {
    sim.setState({ power: 'standby' });
    sim.clearRequests();
    const state = await control.zap(ZDF_HD);
    expect(state).toMatchObject({ power: 'on', channel: { ref: ZDF_HD } });
    expect(sim.state).toMatchObject({ power: 'on', channelRef: ZDF_HD });
    const calls = sim.requests.filter((r) => r.path === '/api/powerstate' || r.path === '/api/zap').map((r) => `${r.path}?${new URLSearchParams(r.query)}`);
    expect(calls[0]).toBe('/api/powerstate?newstate=4');
    expect(calls[calls.length - 1]).toMatch(/^\/api\/zap\?sRef=/);
  });

  it('stops waiting for a box that does not wake when its owner stops', async () => {
    // A box that takes the wake command but stays in standby (a stuck GUI).
    const stop = new AbortController();
    const asleep = { ...INITIAL_STATE, reachable: true, power: 'standby' as const };
    const stuck = new ReceiverControl(
      { ...client, label: 'Stuck box', power: async () => true, zap: async () => true } as unknown as OpenWebIfClient,
      { refresh: async () => asleep, state: asleep },
      silentLogger,
      stop.signal,
    );
    const zapping = stuck.zap(ZDF_HD);
    setTimeout(() => stop.abort(), 200);
    await expect(zapping).rejects.toThrow('stopped while waiting for Stuck box to wake up');
  });

  it('switches power, volume, mute (only when needed) and keys', async () => {
    expect((await control.setPower(false)).power).toBe('standby');
    expect(sim.state.power).toBe('standby');
    expect((await control.setPower(true)).power).toBe('on');
    expect((await control.setVolume(55)).volume).toBe(55);
    expect(sim.state.volume).toBe(55);
    sim.setState({ muted: false });
    await control.setMute(true);
    await control.setMute(true);
    expect(sim.state.muted).toBe(true);
    expect(sim.requests.filter((r) => r.path === '/api/vol' && r.query.set === 'mute')).toHaveLength(1);
    await control.key(139);
    expect(sim.keys).toContain(139);
  });
});
