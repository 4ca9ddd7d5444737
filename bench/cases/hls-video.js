/**
 * What HLS for an MPEG-2 channel costs with proxy.hls.transcodeVideo: the ffmpeg that encodes the
 * simulator's SD channel (MPEG-2 720x576 25 fps, `Das Erste`) to H.264 (libx264 veryfast) for
 * Apple devices, against the baseline of the same run: the audio splice's encoders of an HD channel
 * (two AC-3 tracks to AAC, `Das Erste HD`), which every transcoded channel pays. CPU is read from
 * /proc/<pid>/stat over the window; memory is the encode's private part. The simulator's pictures
 * (a moving test pattern) are easier to encode than television: real channels cost more.
 */
const { readFileSync } = require('node:fs');
const http = require('node:http');
const { childPids, cpuPercent, dist, privateMb, row, serveProxy, sleep, until } = require('../lib');
const { readBytes } = require('../ts-client');

const HD = '1:0:19:283D:3FB:1:C00000:0:0:0:';
const SD = '1:0:1:6DCA:44D:1:C00000:0:0:0:';

/** GETs a URL and resolves with its status and body (playlists and segments are small). */
function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(40_000, () => req.destroy(new Error(`no answer from ${url}`)));
  });
}

const commandLine = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};

async function run(ctx) {
  const rounds = ctx.smoke ? 1 : 2;
  const warmMs = ctx.smoke ? 1_500 : 3_000;
  const windowMs = ctx.smoke ? 1_500 : 10_000;
  const { startSimulator } = dist('simulator');
  const sim = await startSimulator({ host: '127.0.0.1' });
  let proxy;
  let polling;
  try {
    proxy = await serveProxy(sim.streamUrl, {
      XG2G_OWI_BASE: sim.webUrl.replace(/\/$/, ''),
      XG2G_HLS_TRANSCODE_VIDEO: 'true',
      XG2G_MAX_SESSIONS: '4',
    });
    const pid = proxy.child.pid;
    const encoders = () => childPids(pid).filter((p) => !commandLine(p).includes('libx264'));
    const splice = [];
    for (let round = 0; round < rounds; round++) {
      // The HD channel as TS: its ffmpeg children are the splice's two audio encoders.
      const reading = readBytes(`${proxy.url}/${HD}`, 1, warmMs + windowMs + 300);
      await sleep(warmMs);
      splice.push(await cpuPercent(encoders, windowMs));
      await reading;
      await until(() => childPids(pid).length === 0, 15_000, 'the HD channel\'s encoders to end');
    }

    // The SD channel over HLS: one encode, kept alive by a player polling its playlist.
    const base = `${proxy.url}/hls/${encodeURIComponent(SD)}`;
    const master = await get(`${base}/index.m3u8`);
    if (master.status !== 200) throw new Error(`HLS of the SD channel answered ${master.status}: ${master.body}`);
    let stopped = false;
    polling = (async () => {
      while (!stopped) {
        await get(`${base}/media.m3u8`).catch(() => undefined);
        await sleep(2_000);
      }
    })();
    const encode = childPids(pid).find((p) => commandLine(p).includes('libx264'));
    if (encode === undefined) throw new Error('no libx264 ffmpeg under the proxy');
    await sleep(warmMs);
    const video = [];
    const memory = [];
    for (let round = 0; round < rounds; round++) {
      video.push(await cpuPercent(() => [encode], windowMs));
      memory.push(privateMb(encode));
    }
    stopped = true;
    await polling;
    const ratio = video.map((v, i) => v / splice[i]);
    return [
      row({ name: 'audio splice encoders of an HD channel, 2 AC-3 tracks (baseline)', unit: '% of a core', values: splice, baseline: 'yes' }),
      row({ name: 'H.264 encode for HLS of an MPEG-2 SD channel (libx264 veryfast, 720x576 25 fps)', unit: '% of a core', values: video }),
      row({ name: 'H.264 encode ÷ an HD channel\'s splice encoders', unit: '×', values: ratio }),
      row({ name: 'H.264 encode: private memory', unit: 'MB', values: memory }),
    ];
  } finally {
    await proxy?.child.stop();
    await sim.close();
  }
}

module.exports = { title: 'HLS for an MPEG-2 channel: the H.264 encode', run };
