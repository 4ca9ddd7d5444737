/**
 * Many transcoded channels at once on this machine: 1, 8 and 16 distinct channels through the
 * audio splice, one real-time client each. Every client must receive its channel at the source's
 * pace (media time over wall time within 2 % of reading the source directly); the CPU of the
 * proxy and all its encoders together is reported.
 */
const { channelRef, childPids, cpuPercent, row, serveProxy, sleep } = require('../lib');
const { media, startSource } = require('../source');
const { realTimeFactor } = require('../ts-client');

async function run(ctx) {
  const warmMs = ctx.smoke ? 1_500 : 2_500;
  const windowMs = ctx.smoke ? 1_500 : 6_000;
  const counts = ctx.smoke ? [1, 2] : [1, 8, 16];
  const source = await startSource(media(ctx.smoke), { realTime: true, offsetS: 0.7 });
  const proxy = await serveProxy(source.url, { XG2G_MAX_SESSIONS: '16' });
  try {
    const direct = await realTimeFactor(`${source.url}/${channelRef(0)}`, warmMs, windowMs);
    const rows = [row({ name: 'media time ÷ wall time, read directly (baseline)', unit: '×', values: [direct.factor], baseline: 'yes' })];
    for (const n of counts) {
      const reading = Promise.all(Array.from({ length: n }, (_, i) => realTimeFactor(`${proxy.url}/${channelRef(100 + i)}`, warmMs, windowMs)));
      await sleep(warmMs);
      const cpu = await cpuPercent(() => [proxy.child.pid, ...childPids(proxy.child.pid)], windowMs - 200);
      const results = await reading;
      const deviations = results.map((r) => Math.abs(r.factor / direct.factor - 1) * 100);
      const worst = Math.max(...deviations);
      rows.push(row({
        name: `${n} transcoded channel${n > 1 ? 's' : ''}: worst client's pace off the source's`, unit: '%', values: deviations,
        target: '≤ 2 %', pass: worst <= 2,
        note: worst <= 2 ? '' : 'A client fell behind: the machine ran out of CPU for the encoders (see the CPU row).',
      }));
      rows.push(row({ name: `${n} transcoded channel${n > 1 ? 's' : ''}: CPU of the proxy and its encoders`, unit: '% of a core', values: [cpu] }));
      await sleep(900);
    }
    // The pace rows' figures are one per client of a single run, not one per round.
    return rows;
  } finally {
    await proxy.child.stop();
    await source.close();
  }
}

module.exports = { title: 'Transcoded channels at real time', run };
