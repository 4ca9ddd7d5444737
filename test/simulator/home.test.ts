// The simulator's home-control side over real HTTP and real UDP on loopback: deep standby that only
// a Wake-on-LAN packet for its own MAC ends, timers whose state follows the (test-moved) clock,
// conflicts, instant recordings and yes/no messages, with the JSON shapes OpenWebIF 2.x sends.
import { sendMagicPacket } from '../../src/receiver/wake';
import { SIM_MAC, Simulator, startSimulator } from '../../src/simulator';
import { until } from './helpers';

const DAS_ERSTE_HD = '1:0:19:283D:3FB:1:C00000:0:0:0:';
const ZDF_HD = '1:0:19:2B66:3F3:1:C00000:0:0:0:';
const ARTE_HD = '1:0:19:283E:3FB:1:C00000:0:0:0:';

type Json = Record<string, unknown>;

async function api(sim: Simulator, path: string, query: Record<string, string | number> = {}): Promise<Json> {
  const q = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
  const res = await fetch(`${sim.webUrl}${path}?${q}`);
  return (await res.json()) as Json;
}

describe('simulator: deep standby and Wake-on-LAN', () => {
  let sim: Simulator;
  beforeEach(async () => {
    sim = await startSimulator({ bootDelayMs: 50 });
  });
  afterEach(() => sim.close());

  it('drops HTTP in deep standby, ignores another MAC, and boots on a packet for its own', async () => {
    expect((await api(sim, '/api/deviceinfo')).ifaces).toEqual([expect.objectContaining({ mac: SIM_MAC })]);
    expect(await api(sim, '/api/powerstate', { newstate: 1 })).toEqual({ result: true, instandby: false });
    await until(() => sim.state.power === 'deep');
    await expect(fetch(`${sim.webUrl}/api/statusinfo`)).rejects.toThrow();

    const other = await sendMagicPacket('00:11:22:33:44:55', [`127.0.0.1:${sim.wakePort}`]);
    expect(other.sent).toEqual([`127.0.0.1:${sim.wakePort}`]);
    await until(() => sim.wakePackets.length === 1);
    expect(sim.wakePackets[0]).toMatchObject({ mac: '00:11:22:33:44:55', matched: false });
    // Well past the boot delay: a packet for another card wakes nothing.
    await new Promise((r) => setTimeout(r, 200));
    expect(sim.state.power).toBe('deep');
    await expect(fetch(`${sim.webUrl}/api/statusinfo`)).rejects.toThrow();

    const own = await sendMagicPacket(SIM_MAC.toUpperCase(), [`127.0.0.1:${sim.wakePort}`]);
    expect(own.failed).toEqual([]);
    await until(() => sim.state.power === 'on');
    expect(sim.wakePackets[1]).toMatchObject({ mac: SIM_MAC, matched: true });
    // Wake from deep standby comes up on, with the web interface back.
    expect(await api(sim, '/api/statusinfo')).toMatchObject({ inStandby: 'false' });
  });

  it('boots into standby when told to, as some images do', async () => {
    await sim.close();
    sim = await startSimulator({ bootDelayMs: 10, bootInto: 'standby' });
    sim.setState({ power: 'deep' });
    await sendMagicPacket(SIM_MAC, [`127.0.0.1:${sim.wakePort}`]);
    await until(() => sim.state.power === 'standby');
    expect(await api(sim, '/api/statusinfo')).toMatchObject({ inStandby: 'true' });
  });
});

describe('simulator: timers and recordings', () => {
  let sim: Simulator;
  let now = Date.UTC(2025, 0, 15, 18, 0, 0);
  beforeEach(async () => {
    now = Date.UTC(2025, 0, 15, 18, 0, 0);
    sim = await startSimulator({ clock: () => now });
  });
  afterEach(() => sim.close());

  it('lists timers in OpenWebIF\'s shape, with a state and isRecording that follow the clock', async () => {
    const begin = Math.floor(now / 1000) + 600;
    const added = await api(sim, '/api/timeradd', { sRef: ZDF_HD, begin, end: begin + 1800, name: 'heute journal', description: 'Nachrichten' });
    expect(added).toEqual({ result: true, message: "Timer 'heute journal' added" });
    const list = await api(sim, '/api/timerlist');
    expect(list).toMatchObject({ version: 2, result: true });
    expect(list.timers).toEqual([expect.objectContaining({
      serviceref: ZDF_HD, servicename: 'ZDF HD', name: 'heute journal', description: 'Nachrichten',
      begin, end: begin + 1800, duration: 1800, state: 0, disabled: 0, justplay: 0, dontsave: 0, eit: 0,
    })]);
    const stateAt = async (t: number): Promise<unknown> => {
      now = t * 1000;
      return ((await api(sim, '/api/timerlist')).timers as Json[])[0].state;
    };
    expect(await stateAt(begin - 5)).toBe(1);
    expect(await stateAt(begin + 1)).toBe(2);
    expect(await api(sim, '/api/statusinfo')).toMatchObject({ isRecording: 'true' });
    expect(await stateAt(begin + 1800)).toBe(3);
    expect(await api(sim, '/api/statusinfo')).toMatchObject({ isRecording: 'false' });
  });

  it('refuses a timer when more recordings would overlap than it has tuners, naming them', async () => {
    const begin = Math.floor(now / 1000) + 3600;
    await api(sim, '/api/timeradd', { sRef: ZDF_HD, begin, end: begin + 3600, name: 'One' });
    await api(sim, '/api/timeradd', { sRef: ARTE_HD, begin: begin + 600, end: begin + 1200, name: 'Two' });
    const third = await api(sim, '/api/timeradd', { sRef: DAS_ERSTE_HD, begin: begin + 900, end: begin + 2000, name: 'Three' });
    expect(third).toMatchObject({ result: false, message: 'Conflicting Timer(s) detected! Three / One / Two' });
    expect(sim.timers.map((t) => t.name)).toEqual(['One', 'Two']);
    // After the others: no conflict.
    expect(await api(sim, '/api/timeradd', { sRef: DAS_ERSTE_HD, begin: begin + 4000, end: begin + 5000, name: 'Later' })).toMatchObject({ result: true });
    expect(await api(sim, '/api/timeradd', { sRef: ZDF_HD, begin })).toEqual({ result: false, message: "Missing mandatory parameter 'end'" });
  });

  it('deletes by reference, begin and end, and says when none matches', async () => {
    const begin = Math.floor(now / 1000) + 3600;
    await api(sim, '/api/timeradd', { sRef: ZDF_HD, begin, end: begin + 60, name: 'Gone' });
    expect(await api(sim, '/api/timerdelete', { sRef: ZDF_HD, begin, end: begin + 61 })).toEqual({ result: false, message: 'No matching Timer found' });
    expect(await api(sim, '/api/timerdelete', { sRef: ZDF_HD, begin, end: begin + 60 })).toEqual({ result: true, message: "The timer 'Gone' has been deleted successfully" });
    expect(sim.timers).toHaveLength(0);
  });

  it('adds a timer for an EPG event with the recording margins, and refuses an unknown event', async () => {
    const current = (await api(sim, '/api/epgservice', { sRef: ZDF_HD, time: Math.floor(now / 1000), endTime: 120 })).events as Json[];
    const next = current[1];
    expect(await api(sim, '/api/timeraddbyeventid', { sRef: ZDF_HD, eventid: next.id as number })).toMatchObject({ result: true });
    expect(sim.timers[0]).toMatchObject({
      eit: next.id, begin: (next.begin_timestamp as number) - 180, end: (next.begin_timestamp as number) + (next.duration_sec as number) + 300,
    });
    expect(await api(sim, '/api/timeraddbyeventid', { sRef: ZDF_HD, eventid: 1 })).toEqual({ result: false, message: 'EventId not found' });
  });

  it('records the current event now, as an unsaved instant timer that sets isRecording', async () => {
    const started = await api(sim, '/api/recordnow', { recordnow: 'event' });
    expect(started).toMatchObject({ result: true, message: 'Instant record for current Event started', newtimer: { serviceref: DAS_ERSTE_HD } });
    expect(sim.timers[0]).toMatchObject({ serviceref: DAS_ERSTE_HD, dontsave: true, begin: Math.floor(now / 1000) });
    expect(await api(sim, '/api/statusinfo')).toMatchObject({ isRecording: 'true' });
    // Deleting the running timer stops the recording.
    const t = sim.timers[0];
    await api(sim, '/api/timerdelete', { sRef: t.serviceref, begin: t.begin, end: t.end });
    expect(await api(sim, '/api/statusinfo')).toMatchObject({ isRecording: 'false' });
  });
});

describe('simulator: messages', () => {
  let sim: Simulator;
  let now = Date.now();
  beforeEach(async () => {
    now = Date.now();
    sim = await startSimulator({ clock: () => now });
  });
  afterEach(() => sim.close());

  it('shows messages, keeps the last yes/no answer and times questions out without one', async () => {
    expect(await api(sim, '/api/message', { text: 'Hallo', type: 1, timeout: 5 })).toEqual({ result: true, message: 'Message sent successfully!' });
    expect(await api(sim, '/api/message', { text: 'x', type: 'a' })).toEqual({ result: false, message: 'type a is not a number' });
    expect(await api(sim, '/api/message', { type: 1 })).toEqual({ result: false, message: "Missing mandatory parameter 'text'" });
    expect(sim.answerMessage('yes')).toBe(false);

    await api(sim, '/api/message', { text: 'Aufnahme stoppen?', type: 0, timeout: 30 });
    expect(await api(sim, '/api/messageanswer')).toEqual({ result: false, message: 'No answer in time' });
    expect(sim.answerMessage('no')).toBe(true);
    expect(await api(sim, '/api/messageanswer')).toEqual({ result: true, message: 'Answer is NO!' });
    // The box keeps the last answer until the next question.
    expect(await api(sim, '/api/messageanswer')).toEqual({ result: true, message: 'Answer is NO!' });

    await api(sim, '/api/message', { text: 'Noch da?', type: 0, timeout: 10 });
    expect(await api(sim, '/api/messageanswer')).toEqual({ result: false, message: 'No answer in time' });
    now += 10_000;
    expect(sim.answerMessage('yes')).toBe(false);
    expect(await api(sim, '/api/messageanswer')).toEqual({ result: false, message: 'No answer in time' });
    expect(sim.messages.map((m) => [m.text, m.type, m.answer])).toEqual([
      ['Hallo', 1, undefined], ['Aufnahme stoppen?', 0, 'no'], ['Noch da?', 0, undefined],
    ]);
  });
});
