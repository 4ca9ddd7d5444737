/**
 * The per-byte JavaScript of a session in isolation: the real DVB captures, repeated to ~64 MB, in
 * 64 KB chunks through the inspector, the keyframe gate and the GOP cache as a passthrough session
 * runs them, against copying the same chunks (what any proxy must at least do). Time per run,
 * median of the rounds.
 */
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { dist, row } = require('../lib');

const SAMPLES = join(__dirname, '..', '..', 'test', 'fixtures', 'samples');
const CHUNK = 64 * 1024;

function input(megabytes) {
  const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.ts') && !f.includes('8prog'));
  const one = Buffer.concat(files.map((f) => readFileSync(join(SAMPLES, f))));
  const data = Buffer.concat(Array.from({ length: Math.ceil((megabytes * 1024 * 1024) / one.length) }, () => one));
  const chunks = [];
  for (let i = 0; i < data.length; i += CHUNK) chunks.push(data.subarray(i, i + CHUNK));
  return chunks;
}

async function run(ctx) {
  const { TsInspector } = dist('stream/ts-inspector');
  const { KeyframeGate } = dist('stream/keyframe-gate');
  const { GopCache } = dist('stream/gop-cache');
  const chunks = input(ctx.smoke ? 8 : 64);
  const rounds = ctx.smoke ? 1 : 5;
  const cases = {
    copy: () => { for (const c of chunks) Buffer.from(c); },
    // As a passthrough session runs it (pipe.ts, session.ts): the chunk is not copied, and the GOP
    // cache takes the keyframes the inspector found instead of parsing the packets again.
    session: () => {
      const inspector = new TsInspector();
      const gate = new KeyframeGate(inspector);
      const cache = new GopCache(6 * 1024 * 1024);
      for (const c of chunks) {
        inspector.pushEach(c, (packets) => {
          const passed = gate.pass(packets);
          if (passed.length > 0) cache.push(passed, { psi: inspector, lastKeyframe: gate.lastKeyframe });
        });
      }
    },
  };
  const f = { copy: [], session: [] };
  for (const fn of Object.values(cases)) fn(); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(cases)) {
      const started = process.hrtime.bigint();
      fn();
      f[name].push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  const megabytes = (chunks.length * CHUNK) / 1024 / 1024;
  return [
    row({ name: `copy ${megabytes.toFixed(0)} MB in 64 KB chunks (baseline)`, unit: 'ms', values: f.copy, baseline: 'yes' }),
    row({ name: 'inspector + keyframe gate + GOP cache', unit: 'ms', values: f.session }),
    row({ name: 'session parsing ÷ copy', unit: '×', values: f.session.map((v, i) => v / f.copy[i]) }),
  ];
}

module.exports = { title: 'Per-byte parsing of a session', run };
