/**
 * The passthrough path's raw speed: a real DVB capture served as fast as loopback allows, read
 * directly, through the bare Node relay and through the proxy (TS alignment, PMT, keyframe gate,
 * GOP cache, fan-out). The ratios to the direct read are what to compare across changes.
 */
const { channelRef, median, row, serveProxy, sleep, startRelay } = require('../lib');
const { join } = require('node:path');
const http = require('node:http');
const { startSource } = require('../source');

const SAMPLE = join(__dirname, '..', '..', 'test', 'fixtures', 'samples', 'dvbs2-h264-ac3-cnews-tsduck009.ts');

/** ms to read `bytes` from `url`. */
function readMs(url, bytes) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let size = 0;
    const req = http.get(url, { agent: false }, (res) => {
      res.on('data', (chunk) => {
        size += chunk.length;
        if (size >= bytes) {
          req.destroy();
          resolve(Number(process.hrtime.bigint() - started) / 1e6);
        }
      });
    });
    req.on('error', (e) => { if (size < bytes) reject(e); });
  });
}

async function run(ctx) {
  const bytes = (ctx.smoke ? 16 : 200) * 1024 * 1024;
  const rounds = ctx.smoke ? 1 : 3;
  const source = await startSource(SAMPLE, { realTime: false });
  const relay = await startRelay(source.url);
  const proxy = await serveProxy(source.url, { XG2G_ENABLE_AUDIO_TRANSCODING: 'false' });
  const f = { direct: [], relay: [], proxy: [] };
  try {
    const ref = channelRef(3);
    for (let round = 0; round < rounds; round++) {
      f.direct.push(await readMs(`${source.url}/${ref}`, bytes));
      f.relay.push(await readMs(`${relay.url}/${ref}`, bytes));
      f.proxy.push(await readMs(`${proxy.url}/${ref}`, bytes));
      await sleep(900); // the session's linger
    }
  } finally {
    await Promise.all([relay.child.stop(), proxy.child.stop()]);
    await source.close();
  }
  const mbit = (values) => values.map((ms) => (bytes * 8) / (ms / 1000) / 1e6);
  const ratio = (values) => values.map((ms, i) => ms / f.direct[i]);
  return [
    row({ name: 'read the source directly (baseline)', unit: 'Mbit/s', values: mbit(f.direct), baseline: 'yes' }),
    row({ name: 'through the bare Node relay', unit: 'Mbit/s', values: mbit(f.relay) }),
    row({ name: 'through the proxy (passthrough, one client)', unit: 'Mbit/s', values: mbit(f.proxy),
      target: '≥ 100× an 8 Mbit/s channel', pass: median(mbit(f.proxy)) >= 800 }),
    row({ name: 'time: relay ÷ direct', unit: '×', values: ratio(f.relay) }),
    row({ name: 'time: proxy ÷ direct', unit: '×', values: ratio(f.proxy) }),
  ];
}

module.exports = { title: 'Passthrough throughput on loopback', run };
