/**
 * A client that reads a stream and notes, as a player would meet them, when the first video
 * keyframe arrived and the first presentation times of video and audio after it. Parses with the
 * plugin's own TsInspector (PAT/PMT, keyframes) and reads PES timestamps itself.
 */
const http = require('node:http');
const { dist } = require('./lib');

const { TsInspector } = dist('stream/ts-inspector');

function pesPts(packet) {
  const start = (packet[3] & 0x20) ? 5 + packet[4] : 4;
  const p = packet.subarray(start);
  if (p.length < 14 || p[0] !== 0 || p[1] !== 0 || p[2] !== 1 || (p[7] & 0x80) === 0) return undefined;
  return ((p[9] >> 1) & 7) * 2 ** 30 + ((p[10] << 7) | (p[11] >> 1)) * 2 ** 15 + ((p[12] << 7) | (p[13] >> 1));
}

/**
 * GETs `url` and resolves, `afterMs` after the first keyframe (so audio can follow), with
 * { keyframeMs, videoPts, audioPts } — audioPts: per audio track in PMT order, the first PES
 * after the keyframe in mux order.
 */
function firstKeyframe(url, { afterMs = 1500, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const inspector = new TsInspector();
    const result = { keyframeMs: undefined, videoPts: undefined, audioPts: [] };
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      if (error) reject(error); else resolve(result);
    };
    const timer = setTimeout(() => finish(result.keyframeMs === undefined ? new Error(`no keyframe from ${url} within ${timeoutMs} ms`) : undefined), timeoutMs);
    const req = http.get(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) return finish(new Error(`${url} answered ${res.statusCode}`));
      res.on('data', (chunk) => {
        const packets = inspector.push(chunk);
        const video = inspector.video;
        if (!video) return;
        const audioPids = inspector.pmt.streams.filter((s) => s.kind === 'audio').map((s) => s.pid);
        for (let at = 0; at + 188 <= packets.length; at += 188) {
          const packet = packets.subarray(at, at + 188);
          if (result.keyframeMs === undefined) {
            if (!inspector.isKeyframe(packet)) continue;
            result.keyframeMs = Number(process.hrtime.bigint() - started) / 1e6;
            result.videoPts = pesPts(packet);
            setTimeout(() => finish(), afterMs);
            continue;
          }
          const track = audioPids.indexOf(((packet[1] & 0x1f) << 8) | packet[2]);
          if (track >= 0 && result.audioPts[track] === undefined && (packet[1] & 0x40)) result.audioPts[track] = pesPts(packet);
        }
      });
    });
    req.on('error', (error) => finish(done ? undefined : error));
  });
}

/**
 * Reads `url` for `warmMs + ms` and reports how fast the video's media time advanced over the last
 * `ms` (PTS span ÷ wall time: 1.0 = real time) and the bytes received in that window.
 */
function realTimeFactor(url, warmMs, ms) {
  return new Promise((resolve, reject) => {
    const inspector = new TsInspector();
    const started = Date.now();
    let bytes = 0;
    let from;
    let to;
    const req = http.get(url, { agent: false }, (res) => {
      res.on('data', (chunk) => {
        const now = Date.now();
        const packets = inspector.push(chunk);
        if (now - started < warmMs) return;
        bytes += chunk.length;
        const video = inspector.video;
        if (!video) return;
        for (let at = 0; at + 188 <= packets.length; at += 188) {
          if (!(packets[at + 1] & 0x40) || (((packets[at + 1] & 0x1f) << 8) | packets[at + 2]) !== video.pid) continue;
          const pts = pesPts(packets.subarray(at, at + 188));
          if (pts === undefined) continue;
          from ??= { pts, at: now };
          to = { pts, at: now };
        }
      });
    });
    req.on('error', (e) => reject(e));
    setTimeout(() => {
      req.destroy();
      const factor = from && to && to.at > from.at ? (to.pts - from.pts) / 90 / (to.at - from.at) : 0;
      resolve({ factor, bytes });
    }, warmMs + ms);
  });
}

module.exports = { firstKeyframe, realTimeFactor, pesPts };

/** `count` clients that only count bytes, for `ms`; resolves with each one's byte count. */
function readBytes(url, count, ms) {
  return Promise.all(Array.from({ length: count }, () => new Promise((resolve) => {
    let bytes = 0;
    const req = http.get(url, { agent: false }, (res) => res.on('data', (c) => { bytes += c.length; }));
    req.on('error', () => undefined);
    setTimeout(() => { req.destroy(); resolve(bytes); }, ms);
  })));
}

module.exports.readBytes = readBytes;
