// The upstream connection's deadlines on a fake clock, against a real local stream server: a box
// that sends its 200 and then nothing is "busy" exactly at firstDataMs; a stream that goes silent
// is "stalled" exactly stallMs after its last data, however much data came before.
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { StreamError } from '../../src/stream/stream-error';
import { Upstream } from '../../src/stream/upstream';
import { FakeClock } from '../helpers/fake-clock';

let server: http.Server;
let answered: Promise<void>;
let send: (data: Buffer) => void = () => undefined;

beforeEach(async () => {
  let onAnswer: () => void = () => undefined;
  answered = new Promise((resolve) => { onAnswer = resolve; });
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'video/mp2t' });
    res.flushHeaders();
    send = (data) => res.write(data);
    onAnswer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function open(clock: FakeClock): { upstream: Upstream; ends: Array<StreamError | undefined>; chunks: Buffer[] } {
  const upstream = new Upstream({
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/1:0:19:1:1:1:C00000:0:0:0:`),
    userAgent: 'test', receiverName: 'Box', firstDataMs: 5_000, stallMs: 3_000, clock,
  });
  const ends: Array<StreamError | undefined> = [];
  const chunks: Buffer[] = [];
  upstream.on('end', (e?: StreamError) => ends.push(e));
  upstream.on('data', (c: Buffer) => chunks.push(c));
  upstream.start();
  return { upstream, ends, chunks };
}

it('says "busy" exactly when the first data is overdue', async () => {
  const clock = new FakeClock();
  const { ends } = open(clock);
  await answered;
  clock.advance(4_999);
  expect(ends).toEqual([]);
  clock.advance(1);
  expect(ends).toHaveLength(1);
  expect(ends[0]).toMatchObject({ kind: 'busy', message: expect.stringMatching(/^Box sent no stream within 5 s: the tuner is probably busy/) });
  expect(clock.pending).toBe(0);
});

it('says "stalled" exactly stallMs after the last data, not after the first', async () => {
  const clock = new FakeClock();
  const { upstream, ends, chunks } = open(clock);
  await answered;
  for (let i = 0; i < 4; i++) {
    send(Buffer.alloc(188, 0x47));
    await new Promise<void>((resolve) => upstream.once('data', () => resolve()));
    upstream.markData();
    clock.advance(2_000); // data every 2 s keeps a 3 s stall deadline away
  }
  expect(chunks.length).toBeGreaterThanOrEqual(4);
  expect(ends).toEqual([]);
  clock.advance(999); // 2,999 ms since the last data
  expect(ends).toEqual([]);
  clock.advance(1);
  expect(ends).toHaveLength(1);
  expect(ends[0]).toMatchObject({ kind: 'stalled', message: 'Box stopped sending the stream (no data for 3 s)' });
  expect(clock.pending).toBe(0);
});

it('closes when its owner\'s lifetime ends, and leaves no timer', async () => {
  const clock = new FakeClock();
  const lifetime = new AbortController();
  const upstream = new Upstream({
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`), userAgent: 'test', receiverName: 'Box', clock, signal: lifetime.signal,
  });
  const ends: Array<StreamError | undefined> = [];
  upstream.on('end', (e?: StreamError) => ends.push(e));
  upstream.start();
  await answered;
  lifetime.abort();
  expect(ends).toEqual([undefined]);
  expect(clock.pending).toBe(0);
});
