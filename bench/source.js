/**
 * The benchmarks' receiver: one MPEG-TS file of the shape streaming.md measures (H.264 720p25,
 * 2 s GOP, AC-3 5.1 448k + AC-3 2.0 192k, DVB signalling, ~8 Mbit/s), encoded once and cached,
 * served over HTTP at its own bitrate (real time) or as fast as loopback allows. Every request
 * starts at the same byte offset, mid-GOP, so runs compare like for like.
 */
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, renameSync, statSync } = require('node:fs');
const http = require('node:http');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const CACHE = join(tmpdir(), 'xg2g-bench-cache');
const PROFILES = {
  // ~8 Mbit/s: 7.2 Mbit/s video + 448k + 192k audio + mux overhead.
  full: { seconds: 30, size: '1280x720', video: '7200k', name: 'hd-8mbit-v1.ts' },
  // The smoke run only needs something of the same shape.
  smoke: { seconds: 6, size: '320x240', video: '1500k', name: 'smoke-v1.ts' },
};

/** Path of the cached capture for `smoke` or full runs; encoded on first use (~1 min for the full one). */
function media(smoke) {
  const p = PROFILES[smoke ? 'smoke' : 'full'];
  const file = join(CACHE, p.name);
  if (existsSync(file) && statSync(file).size > 0) return file;
  mkdirSync(CACHE, { recursive: true });
  const partial = `${file}.${process.pid}.part`;
  execFileSync('ffmpeg', [
    '-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${p.size}:rate=25`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-f', 'lavfi', '-i', 'sine=frequency=660:sample_rate=48000',
    '-map', '0:v', '-map', '1:a', '-map', '2:a',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
    '-b:v', p.video, '-minrate', p.video, '-maxrate', p.video, '-bufsize', p.video, '-x264-params', 'nal-hrd=cbr',
    '-c:a', 'ac3', '-b:a:0', '448k', '-ac:a:0', '6', '-b:a:1', '192k', '-ac:a:1', '2',
    '-metadata:s:a:0', 'language=deu', '-metadata:s:a:1', 'language=eng',
    '-t', String(p.seconds), '-mpegts_flags', 'system_b', '-mpegts_service_id', '1', '-f', 'mpegts', partial,
  ]);
  renameSync(partial, file);
  return file;
}

/**
 * Serves `file` on every path. `realTime`: at the file's average bitrate (or `bytesPerSecond`),
 * from `offsetS` seconds in, once or looping; else as fast as the client reads, looping. Counts connections so cases can see when the
 * proxy let go of its upstream.
 */
async function startSource(file, { realTime = true, offsetS = 0.7, seconds, bytesPerSecond, loop = false } = {}) {
  const data = readFileSync(file);
  const duration = seconds ?? (file.includes('smoke') ? PROFILES.smoke.seconds : PROFILES.full.seconds);
  const bytesPerMs = bytesPerSecond ? bytesPerSecond / 1000 : data.length / (duration * 1000);
  const offset = Math.floor((offsetS * 1000 * bytesPerMs) / 188) * 188;
  const state = { connections: 0, open: 0, bytesPerSecond: bytesPerMs * 1000 };
  const server = http.createServer((req, res) => {
    state.connections++;
    state.open++;
    res.on('close', () => { state.open--; });
    res.writeHead(200, { 'Content-Type': 'video/mp2t' });
    if (!realTime) {
      let closed = false;
      res.on('close', () => { closed = true; });
      const pump = () => {
        while (!closed) if (!res.write(data)) return void res.once('drain', pump);
      };
      return void pump();
    }
    const started = Date.now();
    let sent = offset;
    const tick = setInterval(() => {
      const due = offset + Math.floor(((Date.now() - started) * bytesPerMs) / 188) * 188;
      // Looping: the file again from its start (a clock jump the proxy passes on as it is).
      while (sent < due && (loop || sent < data.length)) {
        const at = sent % data.length;
        const take = Math.min(due - sent, data.length - at);
        res.write(data.subarray(at, at + take));
        sent += take;
      }
      if (!loop && sent >= data.length) {
        clearInterval(tick);
        res.end();
      }
    }, 10);
    res.on('close', () => clearInterval(tick));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${server.address().port}`;
  state.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  return state;
}

module.exports = { media, startSource };
