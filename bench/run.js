#!/usr/bin/env node
/**
 * The benchmark suite (`npm run bench`, which builds first): every case in bench/cases, each run
 * several times, printed as a table of median, spread, target and verdict, and written to
 * docs/benchmarks.md with the machine it ran on. Loopback only, bounded (about 8 minutes).
 *
 *   node bench/run.js [--smoke] [--only=cpu,memory] [--no-write] [--json=results.json]
 *
 * --smoke runs every case once at a small scale to prove it still works (npm test does this); it
 * never writes the document.
 */
const { execFileSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { ROOT } = require('./lib');

const CASES = ['parsing', 'throughput', 'first-keyframe', 'cpu', 'encoders', 'channels', 'memory', 'release', 'zap', 'hls-video', 'camera'];

function parseArgs(argv) {
  const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  const smoke = argv.includes('--smoke');
  const json = argv.find((a) => a.startsWith('--json='))?.slice(7);
  return { smoke, only, json, write: !smoke && !only && !argv.includes('--no-write') };
}

const fmt = (v) => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)) : '–');
const verdict = (r) => (r.pass === true ? 'met' : r.pass === false ? 'missed' : '');

function printCase(title, rows, seconds) {
  console.log(`\n${title} (${seconds.toFixed(0)} s)`);
  for (const r of rows) {
    const spread = r.rounds > 1 ? `${fmt(r.min)}–${fmt(r.max)}` : '';
    console.log(`  ${r.name.padEnd(66)} ${fmt(r.median).padStart(8)} ${r.unit.padEnd(12)} ${spread.padEnd(14)} ${r.target.padEnd(12)} ${verdict(r)}`);
    if (r.pass === false && r.note) console.log(`      ${r.note}`);
  }
}

function machine() {
  let ffmpeg = 'not found';
  try {
    ffmpeg = execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0].replace(/ Copyright.*/, '');
  } catch { /* reported as not found */ }
  return { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGb: (os.totalmem() / 1024 ** 3).toFixed(1), node: process.version, ffmpeg };
}

function markdown(results, m, started) {
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.js); do not edit by hand. Every figure is the median over the',
    'rounds of one run with its spread (min–max); a baseline measured in the same run sits beside each',
    'figure that is compared with one. The machine is shared and small, so expect ±20 % between runs;',
    'the ratios are what to compare across changes.',
    '',
    `- Date: ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `- Machine: ${m.cores} × ${m.cpu}, ${m.memoryGb} GB`,
    `- Node ${m.node}, ${m.ffmpeg}`,
    '- Source: H.264 720p25 (2 s GOP) + AC-3 5.1 448k + AC-3 2.0 192k, DVB signalling, ~8 Mbit/s, served in real time from a fixed mid-GOP offset (bench/source.js)',
    '',
  ];
  for (const { title, rows, seconds, error } of results) {
    lines.push(`## ${title}`, '');
    if (error) {
      lines.push(`Failed: ${error}`, '');
      continue;
    }
    lines.push('| | median | spread | rounds | target | verdict |', '|---|---:|---:|---:|---|---|');
    const cell = (text) => String(text).replace(/\|/g, '\\|');
    for (const r of rows) {
      const spread = r.rounds > 1 ? `${fmt(r.min)}–${fmt(r.max)}` : '';
      lines.push(`| ${cell(r.name)} | ${fmt(r.median)} ${cell(r.unit)} | ${spread} | ${r.rounds} | ${cell(r.target)} | ${verdict(r)} |`);
    }
    const notes = rows.filter((r) => r.note);
    if (notes.length > 0) lines.push('', ...notes.map((r) => `- ${r.name}: ${r.note}`));
    lines.push('', `(${seconds.toFixed(0)} s)`, '');
  }
  return lines.join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const m = machine();
  const started = new Date();
  console.log(`${args.smoke ? 'Smoke run' : 'Benchmarks'}: ${m.cores} × ${m.cpu}, Node ${m.node}, ${m.ffmpeg}`);
  const results = [];
  let failed = 0;
  for (const name of CASES.filter((c) => !args.only || args.only.includes(c))) {
    const { title, run } = require(`./cases/${name}`);
    const tmp = mkdtempSync(join(os.tmpdir(), `xg2g-bench-${name}-`));
    const t0 = Date.now();
    try {
      const rows = await run({ smoke: args.smoke, tmp });
      const seconds = (Date.now() - t0) / 1000;
      results.push({ title, rows, seconds });
      printCase(title, rows, seconds);
    } catch (error) {
      failed++;
      results.push({ title, rows: [], seconds: (Date.now() - t0) / 1000, error: error.message });
      console.error(`\n${title}: failed: ${error.stack}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ machine: m, results }, null, 2));
  if (args.write) {
    writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), markdown(results, m, started));
    console.log('\nWrote docs/benchmarks.md');
  }
  console.log(`\n${results.length} cases in ${((Date.now() - started) / 1000).toFixed(0)} s${failed ? `, ${failed} failed` : ''}`);
  if (failed) process.exitCode = 1;
}

main();
