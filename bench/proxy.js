/**
 * End-to-end cost of the proxy's passthrough path: a local source serves a real DVB capture as fast
 * as loopback allows; the baseline reads it directly, the measured case reads the same bytes
 * through the proxy (TS alignment, PMT, keyframe gate, GOP cache, fan-out). Reported as throughput
 * and as a ratio to the baseline, both measured in this run.
 */
const http = require('node:http');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { App } = require('../dist/app');
const { loadConfig } = require('../dist/config');
const { silentLogger } = require('../dist/logger');

const SAMPLE = join(__dirname, '..', 'test', 'fixtures', 'samples', 'dvbs2-h264-ac3-cnews-tsduck009.ts');
const REF = '1:0:19:226A:438:1:C00000:0:0:0:';
const BYTES = 200 * 1024 * 1024;

function source() {
  const file = readFileSync(SAMPLE);
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'video/mpeg' });
    let sent = 0;
    const pump = () => {
      while (sent < BYTES * 2) {
        sent += file.length;
        if (!res.write(file)) return res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => { sent = Infinity; });
    pump();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function read(url) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let size = 0;
    const req = http.get(url, { agent: false }, (res) => {
      res.on('data', (c) => {
        size += c.length;
        if (size >= BYTES) {
          req.destroy();
          resolve(Number(process.hrtime.bigint() - start) / 1e6);
        }
      });
    });
    req.on('error', (e) => { if (size < BYTES) reject(e); });
  });
}

async function benchProxy() {
  const src = await source();
  const target = `http://127.0.0.1:${src.address().port}`;
  const config = loadConfig({
    env: {},
    block: {
      receivers: [{ name: 'Bench', host: '127.0.0.1', port: 9, streamTarget: target }],
      proxy: { listen: '127.0.0.1:0', audio: { mode: 'never' } },
      api: { listen: '' },
    },
  });
  const app = new App(config, silentLogger);
  await app.start();
  try {
    const results = [];
    for (let round = 0; round < 3; round++) {
      const direct = await read(`${target}/${REF}`);
      const proxied = await read(`${app.proxyUrl}/${REF}`);
      results.push({ direct, proxied });
      await new Promise((r) => setTimeout(r, 700)); // let the session end between rounds
    }
    results.sort((a, b) => a.proxied / a.direct - b.proxied / b.direct);
    const { direct, proxied } = results[1];
    const mbit = (ms) => ((BYTES * 8) / (ms / 1000) / 1e6).toFixed(0).padStart(7);
    console.log(`\nproxy passthrough, ${BYTES / 1024 / 1024} MB over loopback, median of 3 rounds`);
    console.log(`${'baseline: read the source directly'.padEnd(58)} ${direct.toFixed(0).padStart(8)} ms  ${mbit(direct)} Mbit/s  1.00x baseline`);
    console.log(`${'through the proxy (one client)'.padEnd(58)} ${proxied.toFixed(0).padStart(8)} ms  ${mbit(proxied)} Mbit/s  ${(proxied / direct).toFixed(2)}x baseline`);
  } finally {
    await app.stop();
    src.closeAllConnections();
    src.close();
  }
}

module.exports = { benchProxy };
