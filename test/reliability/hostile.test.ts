// Hostile input against `xg2g serve` as its own process: crafted paths (none may reach the
// receiver or forge a log line), header floods, and slow-header connections that must be cut off,
// with memory and open files back at their baseline afterwards.
import net from 'node:net';
import { startSimulator, type Simulator } from '../../src/simulator';
import { DAS_ERSTE_HD, until } from '../helpers/stack';
import { record, removeBuild, scale, Served, settles } from './served';

jest.setTimeout(scale(120_000, 600_000));

let sim: Simulator;
let served: Served;
let base: string;
let port: number;
let baseline: { rss: number; fds: number };

beforeAll(async () => {
  sim = await startSimulator();
  served = new Served({ XG2G_OWI_BASE: sim.webUrl, XG2G_PROXY_TARGET: sim.streamUrl });
  base = await served.url();
  port = Number(new URL(base).port);
  await until(async () => (await (await fetch(`${base}/playlist.m3u`)).text()).includes('http'), 10_000, 'the channel list');
  baseline = { rss: served.rssMb(), fds: served.fds() };
}, 60_000);

afterAll(async () => {
  expect(await served?.stop()).toBe(0);
  await sim?.close();
  removeBuild();
});

/** A deterministic generator, so a failing path can be found again. */
function* craftedPaths(count: number): Generator<string> {
  const pieces = [
    '..', '%2e%2e', '%252e', '/', '%2f', '\\', 'http://evil.example/', 'file:///etc/passwd', 'https%3a//169.254.169.254/',
    '%0a', '%0d%0a', '%00', '%e2%80%a8', '%c2%85', '%e2%80%ae', '1:0:19:283D:3FB:1:C00000:0:0:0:', '4097:0:1:0:0:0:0:0:0:0:',
    '1:64:1:0:0:0:0:0:0:0::', '1:7:1:0:0:0:0:0:0:0:FROM%20BOUQUET%20%22x%22', 'hls/', 'index.m3u8', '?token=', '%ZZ', '%', ':', 'A'.repeat(700),
    'api/status', 'picon/', '%3a', 'seg00001.ts', '\u00e9', '%F0%9F%92%A9',
  ];
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < count; i++) {
    const parts = Array.from({ length: 1 + random(5) }, () => pieces[random(pieces.length)]);
    yield `/${parts.join('')}`;
  }
}

/** A raw request (fetch normalises paths; a hostile client does not). */
function raw(request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
  });
}

it('refuses crafted paths without reaching the receiver\'s stream port or forging log lines', async () => {
  const count = scale(400, 10_000);
  sim.clearRequests();
  const statuses = new Map<string, number>();
  const paths = [...craftedPaths(count)];
  for (let i = 0; i < paths.length; i += 20) {
    await Promise.all(paths.slice(i, i + 20).map(async (path) => {
      const answer = await raw(`GET ${path.replace(/ /g, '%20')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'closed';
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }));
  }
  const reached = sim.requests.filter((r) => r.listener !== 'web').length;
  record('crafted paths', { paths: count, statuses: Object.fromEntries(statuses), reachedStreamPort: reached });
  // A crafted path is refused (400, 404 for unknown HLS files, 405) or, when it happens to spell
  // a status route, answered: never streamed.
  expect([...statuses.keys()].filter((s) => !['400', '404', '200', 'closed'].includes(s))).toEqual([]);
  expect(reached).toBe(0);
  // eslint-disable-next-line no-control-regex
  expect(served.output).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u2028\u2029\u202a-\u202e\u0085]/);
  expect(served.alive()).toBe(true);
});

it('refuses header floods with 431 and cuts off slow-header connections', async () => {
  const floods = scale(20, 500);
  const flood = (n: number): Promise<string[]> => Promise.all(Array.from({ length: n }, () => raw(`GET /${DAS_ERSTE_HD} HTTP/1.1\r\nHost: x\r\nX-Flood: ${'a'.repeat(100_000)}\r\n\r\n`)));
  // A first, smaller round grows the allocator to its working size once; the case then must not
  // grow it further (memory a process has touched is not all given back to the system at once).
  await flood(Math.ceil(floods / 4));
  const warm = { rss: await settles(() => served.rssMb(), baseline.rss * 1.2), fds: served.fds() };
  const huge = await flood(floods);
  const many = await raw(`GET /api/status HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3_000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`);
  expect(huge.every((a) => a === '' || a.startsWith('HTTP/1.1 431'))).toBe(true);
  expect(many === '' || many.startsWith('HTTP/1.1 431')).toBe(true);

  // Slowloris: a header line now and then, never the end of the head.
  const slow = scale(30, 300);
  const sockets: net.Socket[] = [];
  let closed = 0;
  for (let i = 0; i < slow; i++) {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /api/status HTTP/1.1\r\nHost: x\r\n'));
    socket.on('error', () => undefined);
    socket.on('close', () => void closed++);
    sockets.push(socket);
  }
  const trickle = setInterval(() => sockets.forEach((s) => s.writable && s.write('X-Slow: 1\r\n')), 1_000);
  const peakFds = served.fds();
  try {
    // Node's headersTimeout (10 s here) ends them; a healthy request still gets through meanwhile.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await until(() => closed === slow, 30_000, 'the slow connections to be cut off');
  } finally {
    clearInterval(trickle);
    for (const s of sockets) s.destroy();
  }
  const fds = await settles(() => served.fds(), baseline.fds + 2);
  const rss = await settles(() => served.rssMb(), warm.rss * 1.2);
  record('header floods and slow headers', { floods, slowConnections: slow, baseline, warm, peakFds, fdsAfter: fds, rssAfter: rss });
  expect(fds).toBeLessThanOrEqual(baseline.fds + 2);
  expect(rss).toBeLessThanOrEqual(warm.rss * 1.2);
  expect(served.alive()).toBe(true);
});
