// The receiver misbehaving, against `xg2g serve` as its own process: down at start, gone mid-
// stream (deep standby), a stream server that accepts and never answers, malformed streams, and
// garbage from the web API. Each ends with a clear status, and nothing is left behind.
import { startSimulator, type Simulator } from '../../src/simulator';
import { Behaviour, FakeReceiver, MALFORMED, startFakeReceiver } from '../helpers/fake-receiver';
import { fetchBytes, SERVUS_AAC, until } from '../helpers/stack';
import { record, removeBuild, scale, Served, settles, Viewer } from './served';

jest.setTimeout(scale(180_000, 600_000));

let sim: Simulator;
let fake: FakeReceiver;
let onSim: Served;
let onFake: Served;

beforeAll(async () => {
  sim = await startSimulator({ tuners: 4 });
  fake = await startFakeReceiver({ kind: 'healthy' });
  sim.setFault('refuse');
  // Down at start: it must come up all the same.
  // Polled every second, so recoveries are quick to see (the back-off still doubles from there).
  const web = new URL(sim.webUrl);
  onSim = new Served({}, { receivers: [{ name: 'Sim', host: web.hostname, port: Number(web.port), streamTarget: sim.streamUrl, refreshInterval: 1 }] });
  onFake = new Served({ XG2G_OWI_BASE: sim.webUrl, XG2G_PROXY_TARGET: fake.url, XG2G_MAX_SESSIONS: '16' });
  await Promise.all([onSim.url(), onFake.url()]);
}, 60_000);

afterAll(async () => {
  expect(await onSim?.stop()).toBe(0);
  expect(await onFake?.stop()).toBe(0);
  await fake?.close();
  await sim?.close();
  removeBuild();
});

async function status(served: Served): Promise<{ receivers: Array<{ reachable: boolean; lastError: string | null; channels: number }>; sessions: unknown[] }> {
  return JSON.parse(await (await fetch(`${await served.url()}/api/status`)).text());
}

it('starts with the receiver down, says so, and picks it up when it answers', async () => {
  await until(async () => (await status(onSim)).receivers[0].lastError !== null, 10_000, 'the status to name the problem');
  expect((await status(onSim)).receivers[0].reachable).toBe(false);
  sim.setFault(null);
  await until(async () => (await status(onSim)).receivers[0].channels > 0, 20_000, 'the channels');
  expect((await status(onSim)).receivers[0]).toMatchObject({ reachable: true, lastError: null });
});

it('ends a stream cleanly when the box goes to deep standby mid-stream, and plays again after', async () => {
  const base = await onSim.url();
  const viewer = new Viewer(`${base}/${SERVUS_AAC}`);
  await until(() => viewer.bytes > 200_000, 20_000, 'the stream');
  sim.setState({ power: 'deep' });
  await until(() => viewer.ended, 30_000, 'the stream to end');
  expect(viewer.status).toBe(200);
  await until(async () => (await status(onSim)).sessions.length === 0, 15_000, 'the session to end');
  await until(async () => !(await status(onSim)).receivers[0].reachable, 15_000, 'the status to say unreachable');
  sim.setState({ power: 'on' });
  sim.setFault(null);
  await until(async () => (await status(onSim)).receivers[0].reachable, 30_000, 'the box to be back');
  expect((await fetchBytes(`${base}/${SERVUS_AAC}`, 200_000, 20_000)).status).toBe(200);
});

it('survives garbage and HTML from the web API, naming the problem in the status', async () => {
  for (const fault of ['garbage', 'html'] as const) {
    sim.setFault(fault);
    await until(async () => (await status(onSim)).receivers[0].lastError !== null, 15_000, `the status to name the ${fault}`);
    expect(onSim.alive()).toBe(true);
  }
  sim.setFault(null);
  await until(async () => (await status(onSim)).receivers[0].reachable, 30_000, 'recovery');
});

/**
 * Every malformed or silent stream at once, one channel each: each fails on its own deadline, in
 * parallel. Resolves with what each viewer got, once every session, ffmpeg and upstream is gone.
 */
async function malformedRound(round: number): Promise<Record<string, string>> {
  const base = await onFake.url();
  const cases: Array<[string, Behaviour]> = [
    ['random bytes', { kind: 'random' }],
    ...Object.entries(MALFORMED).map(([name, packet]): [string, Behaviour] => [name, { kind: 'packets', packet }]),
    ['AC-3 announced but absent', { kind: 'no-audio' }],
    ['a stream server that never answers', { kind: 'hang' }],
  ];
  // Fresh references each round: a second round must not meet the first round's lingering sessions.
  const refOf = (i: number): string => `1:0:19:${(0x7000 + round * 0x100 + i).toString(16).toUpperCase()}:1:1:C00000:0:0:0:`;
  cases.forEach(([, behaviour], i) => fake.setBehaviour(behaviour, refOf(i)));
  const outcomes: Record<string, string> = {};
  await Promise.all(cases.map(async ([name], i) => {
    const response = await fetchBytes(`${base}/${refOf(i)}`, scale(1_000_000, 5_000_000), 30_000);
    outcomes[name] = `${response.status} ${response.status === 200 ? `${response.body.length} bytes` : response.body.toString().trim()}`;
  }));
  await until(async () => (await status(onFake)).sessions.length === 0 && onFake.ffmpegs().length === 0 && fake.open === 0, 20_000, 'every session to end');
  expect(Object.keys(outcomes)).toHaveLength(cases.length);
  // A broken stream may still carry a picture for a while ("lost sync" resyncs), and a channel
  // whose announced AC-3 never comes plays its picture without sound (the splice touches only the
  // audio); the others end with a status that names what went wrong.
  for (const [name, outcome] of Object.entries(outcomes)) {
    if (name === 'lost sync' || name === 'AC-3 announced but absent') expect(outcome).toMatch(/^200 /);
    else expect(outcome).toMatch(/^50[23] \S.{10,}/);
  }
  return outcomes;
}

// Judged like the load cases (docs/reliability.md): the first round grows the allocator to its
// working size for streaming with encoders, the second must not grow it further.
it('answers every malformed or silent stream with a clear status and leaves nothing behind', async () => {
  const cold = { rss: onFake.rssMb(), fds: onFake.fds() };
  await malformedRound(1);
  await new Promise((r) => setTimeout(r, 5_000));
  const warm = onFake.rssMb();
  const outcomes = await malformedRound(2);
  const rss = await settles(() => onFake.rssMb(), warm * 1.2);
  const fds = await settles(() => onFake.fds(), cold.fds + 2);
  record('malformed and silent streams', { outcomes, cold, warm, rssAfter: rss, fdsAfter: fds });
  expect(rss).toBeLessThanOrEqual(warm * 1.2);
  expect(fds).toBeLessThanOrEqual(cold.fds + 2);
  expect(onFake.alive()).toBe(true);
});
