/**
 * Shared parts of the benchmark suite: where the built plugin is, statistics over rounds, a case's
 * result row, CPU time and memory of a process read from /proc, and a process runner that cleans
 * up. Every case module exports `{ title, run(ctx) }`; run returns rows (see `row`).
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');

/** The compiled plugin: `dist/` of this checkout unless XG2G_BENCH_DIST names another (the smoke test builds its own). */
function dist(module) {
  return require(join(process.env.XG2G_BENCH_DIST || join(ROOT, 'dist'), module));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * One line of the report. `values`: one figure per round; `target`: a sentence such as "< 150 ms";
 * `pass`: true/false against the target, or null when the case only reports. A missed target
 * needs `note`: why, and what would close it.
 */
function row({ name, unit, values, target = '', pass = null, note = '', baseline = '' }) {
  const clean = values.filter((v) => Number.isFinite(v));
  return {
    name, unit, target, pass, note, baseline,
    rounds: clean.length,
    median: clean.length ? median(clean) : NaN,
    min: clean.length ? Math.min(...clean) : NaN,
    max: clean.length ? Math.max(...clean) : NaN,
  };
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * CPU seconds a process has used so far; 0 once it is gone. Read from each thread's schedstat (run
 * time in nanoseconds): /proc/<pid>/stat counts in 10 ms ticks, which for a relay at 2 % of a core
 * over 4 s is 8 ticks, too coarse for a ratio of two such figures. Falls back to the ticks where
 * schedstat is missing (a kernel without it), and a thread that ended within the window is lost.
 */
function cpuSeconds(pid) {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch { /* the thread ended */ }
    }
    if (ns > 0) return ns / 1e9;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Resident memory of a process, in MB. */
function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/** Direct children of a process (e.g. the proxy's ffmpeg). */
function childPids(pid) {
  const out = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      for (const p of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/)) if (p) out.push(Number(p));
    } catch { /* task ended */ }
  }
  return out;
}

/**
 * CPU share of one core used by `pids()` (re-read at the end, so processes started meanwhile count
 * from 0) over `ms`: CPU seconds / wall seconds × 100.
 */
async function cpuPercent(pids, ms) {
  const before = new Map(pids().map((p) => [p, cpuSeconds(p)]));
  const start = process.hrtime.bigint();
  await sleep(ms);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  let used = 0;
  for (const p of pids()) used += cpuSeconds(p) - (before.get(p) ?? 0);
  return (used / wall) * 100;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A child process whose output is kept (bounded) and which `stop()` always ends. */
function start(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  child.output = '';
  const add = (chunk) => { child.output = (child.output + chunk.toString()).slice(-50_000); };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  child.stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await child.exited;
      clearTimeout(timer);
    }
  };
  return child;
}

/**
 * `xg2g serve` as its own process against `target` (a stream server), no receiver web interface,
 * no MQTT: what the proxy costs, read from /proc. Resolves with the child and its proxy URL.
 */
async function serveProxy(target, env = {}, config = undefined) {
  const cli = join(process.env.XG2G_BENCH_DIST || join(ROOT, 'dist'), 'cli.js');
  const args = [cli, 'serve'];
  let configDir;
  if (config) {
    configDir = mkdtempSync(join(tmpdir(), 'xg2g-bench-'));
    writeFileSync(join(configDir, 'config.json'), JSON.stringify(config));
    args.push('--config', join(configDir, 'config.json'));
  }
  // A cache folder of its own: a guide left in the shared default by an earlier run would be read
  // at start and change what idle memory measures.
  const cacheDir = mkdtempSync(join(tmpdir(), 'xg2g-bench-serve-'));
  const child = start(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      XG2G_OWI_BASE: 'http://127.0.0.1:9',
      XG2G_PROXY_TARGET: target,
      XG2G_PROXY_LISTEN: '127.0.0.1:0',
      XG2G_LISTEN: '',
      XG2G_CACHE_DIR: cacheDir,
      ...env,
    },
  });
  const stop = child.stop;
  child.stop = async () => {
    await stop();
    rmSync(cacheDir, { recursive: true, force: true });
  };
  const started = await until(() => /Playlist for VLC: +http:\/\/[0-9.:]+/.test(child.output) || child.exitCode !== null, 20_000, 'xg2g serve')
    .then(() => true, () => false);
  const m = /Playlist for VLC: +(http:\/\/[0-9.:]+)\//.exec(child.output);
  if (configDir) rmSync(configDir, { recursive: true, force: true });
  if (!started || !m) {
    await child.stop();
    throw new Error(`xg2g serve did not start:\n${child.output.slice(-2000)}`);
  }
  return { child, url: m[1] };
}

module.exports = { ROOT, dist, median, row, cpuSeconds, cpuPercent, rssMb, childPids, sleep, until, start, serveProxy };

/** The bare relay of bench/relay.js as a child process. */
async function startRelay(target) {
  const child = start(process.execPath, [join(__dirname, 'relay.js'), target]);
  await until(() => /relay http/.test(child.output) || child.exitCode !== null, 10_000, 'the relay');
  return { child, url: /relay (http:\/\/\S+)/.exec(child.output)[1] };
}

/** Service refs that differ in the service id: distinct channels to the proxy, the same file at the source. */
function channelRef(index) {
  return `1:0:19:${(0x1000 + index).toString(16).toUpperCase()}:3FB:1:C00000:0:0:0:`;
}

module.exports.startRelay = startRelay;
module.exports.channelRef = channelRef;

/** Private memory of a process (not shared with others, e.g. its libraries), in MB. */
function privateMb(pid) {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(rollup)[1]);
  return (kb('Private_Clean') + kb('Private_Dirty')) / 1024;
}

module.exports.privateMb = privateMb;
