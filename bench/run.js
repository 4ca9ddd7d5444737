#!/usr/bin/env node
/**
 * Benchmarks of the proxy's per-byte path, as ratios against a baseline measured in the same run:
 * the parsing path against copying the same bytes in the same 64 KB chunks (what any proxy must at
 * least do), then the whole passthrough path against reading the source directly (bench/proxy.js).
 * Input: the real DVB captures of test/fixtures/samples, repeated to ~64 MB. Run with `npm run bench`
 * (it builds first). Numbers vary with the machine; the ratios are what to compare across changes.
 */
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { TsInspector } = require('../dist/stream/ts-inspector');
const { KeyframeGate } = require('../dist/stream/keyframe-gate');
const { GopCache } = require('../dist/stream/gop-cache');

const SAMPLES = join(__dirname, '..', 'test', 'fixtures', 'samples');
const CHUNK = 64 * 1024;
const TARGET_BYTES = 64 * 1024 * 1024;
const ROUNDS = 5;

function input() {
  const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.ts') && !f.includes('8prog'));
  const one = Buffer.concat(files.map((f) => readFileSync(join(SAMPLES, f))));
  const copies = Math.ceil(TARGET_BYTES / one.length);
  const data = Buffer.concat(Array.from({ length: copies }, () => one));
  const chunks = [];
  for (let i = 0; i < data.length; i += CHUNK) chunks.push(data.subarray(i, i + CHUNK));
  return { chunks, bytes: data.length };
}

const cases = {
  'baseline: copy each chunk': (chunks) => {
    let sum = 0;
    for (const c of chunks) sum += Buffer.from(c).length;
    return sum;
  },
  'TsInspector.push (align + PAT/PMT)': (chunks) => {
    const inspector = new TsInspector();
    let sum = 0;
    for (const c of chunks) sum += inspector.push(c).length;
    return sum;
  },
  'inspector + keyframe gate (session input)': (chunks) => {
    const inspector = new TsInspector();
    const gate = new KeyframeGate(inspector);
    let sum = 0;
    for (const c of chunks) sum += gate.pass(inspector.push(c)).length;
    return sum;
  },
  'GopCache.push (session output, per packet keyframe scan)': (chunks) => {
    const cache = new GopCache(6 * 1024 * 1024);
    let sum = 0;
    for (const c of chunks) sum += cache.push(c).length;
    return sum;
  },
};

function measure(fn, chunks) {
  fn(chunks); // warm-up
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    fn(chunks);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const { benchProxy } = require('./proxy');

const { chunks, bytes } = input();
console.log(`input: ${(bytes / 1e6).toFixed(1)} MB of DVB captures in ${CHUNK / 1024} KB chunks, median of ${ROUNDS} rounds`);
let baseline;
for (const [name, fn] of Object.entries(cases)) {
  const ms = measure(fn, chunks);
  baseline ??= ms;
  const mbps = (bytes * 8) / (ms / 1000) / 1e6;
  console.log(`${name.padEnd(58)} ${ms.toFixed(1).padStart(8)} ms  ${mbps.toFixed(0).padStart(7)} Mbit/s  ${(ms / baseline).toFixed(2)}x baseline`);
}

benchProxy().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
