/**
 * How soon the receiver's tuner is free again: the time from the last client closing its
 * connection to the proxy closing its upstream connection, as the source sees it. The proxy keeps
 * a session for a short linger (a player reconnecting keeps the tuner); the bare relay, which lets
 * go at once, is the baseline.
 */
const { channelRef, median, row, serveProxy, sleep, startRelay, until } = require('../lib');
const { media, startSource } = require('../source');
const http = require('node:http');

/** Opens `url`, reads for `ms`, closes; resolves with the ms until the source has no open connection. */
async function releaseMs(url, source, ms) {
  const req = http.get(url, { agent: false }, (res) => res.resume());
  req.on('error', () => undefined);
  await until(() => source.open > 0, 10_000, 'the upstream connection');
  await sleep(ms);
  const closed = process.hrtime.bigint();
  req.destroy();
  await until(() => source.open === 0, 10_000, 'the upstream connection to close');
  return Number(process.hrtime.bigint() - closed) / 1e6;
}

async function run(ctx) {
  const rounds = ctx.smoke ? 1 : 5;
  const source = await startSource(media(ctx.smoke), { realTime: true, offsetS: 0.7 });
  const relay = await startRelay(source.url);
  const proxy = await serveProxy(source.url);
  const f = { relay: [], proxy: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      f.relay.push(await releaseMs(`${relay.url}/${channelRef(9)}`, source, 1_000));
      f.proxy.push(await releaseMs(`${proxy.url}/${channelRef(9)}`, source, 1_500));
    }
  } finally {
    await Promise.all([relay.child.stop(), proxy.child.stop()]);
    await source.close();
  }
  return [
    row({ name: 'bare relay lets go (baseline)', unit: 'ms', values: f.relay, baseline: 'yes' }),
    row({ name: 'proxy lets go after its last client (500 ms linger)', unit: 'ms', values: f.proxy, target: '< 1000 ms (tuners free within 2 s)',
      pass: median(f.proxy) < 1000 }),
  ];
}

module.exports = { title: 'Tuner release after the last client', run };
