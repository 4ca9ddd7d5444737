/**
 * How the splice's encoders are laid out: one audio-only ffmpeg per track (what the splice does)
 * against one ffmpeg per channel that takes every track on extra pipes. Both encode the bench
 * source's two AC-3 tracks, fed at real time; CPU and memory are read from /proc. Memory is the
 * private part: the libraries the processes share are counted once by the system, however many
 * processes map them.
 */
const { execFileSync, spawn } = require('node:child_process');
const { join } = require('node:path');
const { cpuPercent, privateMb, row, sleep } = require('../lib');
const { media } = require('../source');

const HEAD = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-probesize', '32', '-analyzeduration', '0'];
const ENCODE = ['-c:a', 'aac', '-b:a', '192k', '-ac', '2', '-af', 'aresample=rematrix_maxval=1.0', '-flush_packets', '1', '-f', 'adts'];

/** Writes `data` to `stream` at `bytesPerSecond` in 20 ms steps until `signal` aborts. */
function feed(stream, data, bytesPerSecond, signal) {
  stream.on('error', () => undefined);
  const step = Math.ceil((bytesPerSecond * 20) / 1000);
  let offset = 0;
  const timer = setInterval(() => {
    if (signal.aborted || offset >= data.length) return void clearInterval(timer);
    stream.write(data.subarray(offset, offset + step));
    offset += step;
  }, 20);
}

async function measure(layout, tracks, seconds, warmMs, windowMs) {
  const stop = new AbortController();
  const procs = [];
  if (layout === 'per-track') {
    for (const data of tracks) {
      const p = spawn('ffmpeg', [...HEAD, '-f', 'ac3', '-i', 'pipe:0', ...ENCODE, 'pipe:1'], { stdio: ['pipe', 'pipe', 'ignore'] });
      p.stdout.resume();
      feed(p.stdin, data, data.length / seconds, stop.signal);
      procs.push(p);
    }
  } else {
    const inputs = tracks.flatMap((_, i) => [...HEAD, '-f', 'ac3', '-i', `pipe:${3 + i}`]);
    const outputs = tracks.flatMap((_, i) => ['-map', `${i}:a`, ...ENCODE, `pipe:${3 + tracks.length + i}`]);
    const p = spawn('ffmpeg', [...inputs, ...outputs], { stdio: ['ignore', 'ignore', 'ignore', ...tracks.map(() => 'pipe'), ...tracks.map(() => 'pipe')] });
    tracks.forEach((data, i) => {
      p.stdio[3 + tracks.length + i].resume();
      feed(p.stdio[3 + i], data, data.length / seconds, stop.signal);
    });
    procs.push(p);
  }
  try {
    await sleep(warmMs);
    const cpu = await cpuPercent(() => procs.map((p) => p.pid), windowMs);
    const memory = procs.reduce((sum, p) => sum + privateMb(p.pid), 0);
    return { cpu, memory };
  } finally {
    stop.abort();
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => p.once('exit', r)))));
  }
}

async function run(ctx) {
  const file = media(ctx.smoke);
  const seconds = ctx.smoke ? 6 : 30;
  const tracks = [0, 1].map((i) => {
    const out = join(ctx.tmp, `track${i}.ac3`);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', file, '-map', `0:a:${i}`, '-c', 'copy', '-f', 'ac3', out]);
    return require('node:fs').readFileSync(out);
  });
  const rounds = ctx.smoke ? 1 : 3;
  const warmMs = ctx.smoke ? 800 : 1_500;
  const windowMs = ctx.smoke ? 1_000 : 5_000;
  const f = { perTrack: [], shared: [] };
  for (let round = 0; round < rounds; round++) {
    f.perTrack.push(await measure('per-track', tracks, seconds, warmMs, windowMs));
    f.shared.push(await measure('shared', tracks, seconds, warmMs, windowMs));
  }
  return [
    row({ name: 'one ffmpeg per track (the splice), 2 tracks: CPU', unit: '% of a core', values: f.perTrack.map((m) => m.cpu) }),
    row({ name: 'one ffmpeg for both tracks (extra pipes): CPU', unit: '% of a core', values: f.shared.map((m) => m.cpu), baseline: 'yes' }),
    row({ name: 'one ffmpeg per track, 2 tracks: private memory', unit: 'MB', values: f.perTrack.map((m) => m.memory) }),
    row({ name: 'one ffmpeg for both tracks: private memory', unit: 'MB', values: f.shared.map((m) => m.memory), baseline: 'yes' }),
  ];
}

module.exports = { title: 'Encoder layout: one ffmpeg per track or one per channel', run };
