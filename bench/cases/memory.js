/**
 * Memory of `xg2g serve` as `top` shows it (RSS from /proc): idle, with one transcoded session and
 * one client, and per further client; a bare Node process is the baseline. Each round is a fresh
 * process, because what a process once held it may keep.
 */
const { channelRef, median, row, rssMb, serveProxy, sleep, start, until } = require('../lib');
const { media, startSource } = require('../source');
const { readBytes } = require('../ts-client');

async function bareNodeRss() {
  const child = start(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1e9)']);
  try {
    await until(() => child.output.includes('up'), 5_000, 'node');
    await sleep(500);
    return rssMb(child.pid);
  } finally {
    await child.stop();
  }
}

async function run(ctx) {
  const rounds = ctx.smoke ? 1 : 3;
  const settleMs = ctx.smoke ? 1_000 : 3_000;
  const source = await startSource(media(ctx.smoke), { realTime: true, offsetS: 0.7 });
  const f = { bare: [], idle: [], session: [], client: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      f.bare.push(await bareNodeRss());
      const proxy = await serveProxy(source.url);
      try {
        // Idle means settled: V8 gives back its start-up garbage some seconds after start.
        await sleep(ctx.smoke ? settleMs : 10_000);
        const idle = rssMb(proxy.child.pid);
        const url = `${proxy.url}/${channelRef(7)}`;
        const one = readBytes(url, 1, settleMs * 3);
        await sleep(settleMs);
        const withOne = rssMb(proxy.child.pid);
        const ten = readBytes(url, 10, settleMs);
        await sleep(settleMs - 300);
        const withEleven = rssMb(proxy.child.pid);
        await Promise.all([one, ten]);
        f.idle.push(idle);
        f.session.push(withOne - idle);
        f.client.push((withEleven - withOne) / 10);
      } finally {
        await proxy.child.stop();
      }
    }
  } finally {
    await source.close();
  }
  return [
    row({ name: 'bare Node process (baseline)', unit: 'MB', values: f.bare, baseline: 'yes' }),
    row({ name: 'xg2g serve, idle', unit: 'MB', values: f.idle, target: '< 55 MB', pass: median(f.idle) < 55,
      note: median(f.idle) < 55 ? '' : 'Most of it is axios, the team\'s chosen HTTP client, needed from the first poll of the box: `node -e "require(\'axios\')"` alone takes a bare Node from 39 to 58 MB. 3–4 MB of that is Node\'s own fetch implementation (undici), which axios makes Node load at require time by probing Request, Response and ReadableStream for its fetch adapter: with those globals hidden, the bare require takes 53.7 MB and idle `xg2g serve` 54.5–54.8 MB. Loading the HLS, camera, HDHomeRun and web-page modules on first use saved only 0.25 MB (171 → 152 modules), so they stay as they are. Closing it needs axios to stop probing fetch at load (an upstream change) or a client on node:http (52 MB measured).' }),
    row({ name: 'one transcoded session with one client', unit: 'MB', values: f.session }),
    row({ name: 'each further client of that session', unit: 'MB', values: f.client }),
  ];
}

module.exports = { title: 'Memory', run };
