/**
 * What a HomeKit camera live view costs: the ffmpeg of one view of the simulator's HD channel
 * (`Das Erste HD`: H.264 1280x720 25 fps ~2 Mbit/s, two AC-3 tracks), sending SRTP to loopback
 * sockets that discard it, with its video copied (the viewer asks 1920x1080 at 8 Mbit/s) and
 * encoded (1280x720 at 1 Mbit/s, libx264 ultrafast zerolatency); Opus audio in both. The baseline,
 * measured in the same window: the session's audio splice encoders (two AC-3 tracks to AAC), which
 * a proxy viewer of the same channel already pays. The core runs in this process (the camera has
 * no HTTP route); CPU is read from /proc/<pid>/stat. The test pattern is easier to encode than
 * television: real channels cost more.
 */
const { createSocket } = require('node:dgram');
const { randomBytes } = require('node:crypto');
const { cpuPercent, dist, row, sleep, until } = require('../lib');
const { readBytes } = require('../ts-client');

const HD = '1:0:19:283D:3FB:1:C00000:0:0:0:';
/** The core's log, kept to check which way each view went (copy or encode). */
const lines = [];
const log = { debug: () => undefined, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };

/** A UDP socket on loopback that takes and drops what it is sent (the "viewer"). */
function sink() {
  const socket = createSocket('udp4');
  socket.on('message', () => undefined);
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket)));
}

function request(videoPort, audioPort, video) {
  return {
    target: { address: '127.0.0.1', ipv6: false, videoPort, audioPort },
    video: { fps: 30, payloadType: 99, ssrc: 1, srtpKey: randomBytes(16), srtpSalt: randomBytes(14), mtu: 1378, ...video },
    audio: { codec: 'OPUS', sampleRateKhz: 24, channels: 1, maxBitrateKbps: 24, payloadType: 110, ssrc: 2, srtpKey: randomBytes(16), srtpSalt: randomBytes(14), packetTimeMs: 20 },
  };
}

async function run(ctx) {
  const rounds = ctx.smoke ? 1 : 2;
  const warmMs = ctx.smoke ? 1_500 : 3_000;
  const windowMs = ctx.smoke ? 1_500 : 10_000;
  const { startSimulator } = dist('simulator');
  const { App } = dist('app');
  const { loadConfig } = dist('config');
  const sim = await startSimulator({ host: '127.0.0.1' });
  const web = new URL(sim.webUrl);
  const config = loadConfig({
    env: {},
    block: {
      platform: 'XG2G',
      receivers: [{ name: 'Bench', host: web.hostname, port: Number(web.port), bouquets: ['Favourites (TV)'], streamTarget: sim.streamUrl, cameraAccessory: true, refreshInterval: 1 }],
      proxy: { listen: '127.0.0.1:0' }, api: { listen: '' }, epg: { enabled: false }, camera: { maxStreams: 2 },
    },
  });
  const app = new App(config, log, { cacheDir: ctx.tmp });
  const sockets = await Promise.all([sink(), sink()]);
  const [videoPort, audioPort] = sockets.map((s) => s.address().port);
  const watching = { stop: false };
  try {
    await app.start();
    const receiver = app.receivers[0];
    const feed = app.cameraFeeds.get(receiver);
    await until(() => receiver.monitor.state.power === 'on', 15_000, 'the box to be polled');
    // A proxy viewer keeps the session running (its bitrate known, so copy can be chosen).
    const viewer = (async () => {
      while (!watching.stop) await readBytes(`${app.proxyUrl}/${HD}`, 1, 5_000);
    })();
    const session = () => app.streams[0].sessions.list()[0];
    await until(() => (session()?.status().bitrateIn ?? 0) > 0 && session().ffmpegPids.length > 0, 30_000, 'the HD channel\'s session and its splice encoders');
    await sleep(warmMs);

    const figures = { copy: { view: [], splice: [] }, encode: { view: [], splice: [] } };
    const modes = {
      copy: { width: 1920, height: 1080, maxBitrateKbps: 8000 },
      encode: { width: 1280, height: 720, maxBitrateKbps: 1000 },
    };
    for (let round = 0; round < rounds; round++) {
      for (const [mode, video] of Object.entries(modes)) {
        lines.length = 0;
        const view = await feed.startLiveView(request(videoPort, audioPort, video));
        try {
          await until(() => view.pids.length > 0, 15_000, 'the live view\'s ffmpeg');
          const chosen = lines.find((l) => l.startsWith('Live view of'));
          if (!chosen?.includes(mode === 'copy' ? 'video copied' : 'video encoded')) throw new Error(`the ${mode} view went another way: ${chosen}`);
          await sleep(warmMs);
          const [own, splice] = await Promise.all([cpuPercent(() => view.pids, windowMs), cpuPercent(() => session().ffmpegPids, windowMs)]);
          figures[mode].view.push(own);
          figures[mode].splice.push(splice);
        } finally {
          await view.stop();
        }
      }
    }
    watching.stop = true;
    await viewer;
    const ratio = (m) => figures[m].view.map((v, i) => v / figures[m].splice[i]);
    const splice = [...figures.copy.splice, ...figures.encode.splice];
    return [
      row({ name: 'audio splice encoders of the HD channel, 2 AC-3 tracks (baseline)', unit: '% of a core', values: splice, baseline: 'yes' }),
      row({ name: 'live view, H.264 720p copied + Opus', unit: '% of a core', values: figures.copy.view }),
      row({ name: 'live view copied ÷ splice encoders', unit: '×', values: ratio('copy') }),
      row({ name: 'live view, H.264 encoded 1280x720 (libx264 ultrafast zerolatency) + Opus', unit: '% of a core', values: figures.encode.view }),
      row({ name: 'live view encoded ÷ splice encoders', unit: '×', values: ratio('encode') }),
    ];
  } finally {
    watching.stop = true;
    await app.stop();
    for (const s of sockets) s.close();
    await sim.close();
  }
}

module.exports = { title: 'HomeKit camera live view: copy or encode', run };
