// A smoke run of every benchmark case (`node bench/run.js --smoke`) against a fresh build, so the
// suite cannot rot: each case runs once at a small scale and must report a figure in every row.
// Its verdicts are not checked here: a one-second window on a busy test machine says nothing.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildPlugin, removeDir, ROOT, tempDir } from '../homekit/harness';

const run = promisify(execFile);

interface BenchRow { name: string; median: number; rounds: number }
interface BenchResult { title: string; rows: BenchRow[]; error?: string }

jest.setTimeout(240_000);

let dir: string;
beforeAll(() => { dir = tempDir(); });
afterAll(() => removeDir(dir));

it('runs every case of npm run bench and reports a figure in each row', async () => {
  const dist = join(buildPlugin(dir), 'homebridge-xg2g', 'dist');
  const json = join(dir, 'results.json');
  await run(process.execPath, [join(ROOT, 'bench', 'run.js'), '--smoke', `--json=${json}`], {
    env: { ...process.env, XG2G_BENCH_DIST: dist }, maxBuffer: 16 * 1024 * 1024, timeout: 200_000,
  });
  const { results } = JSON.parse(readFileSync(json, 'utf8')) as { results: BenchResult[] };
  expect(results.map((r) => r.title)).toEqual([
    'Per-byte parsing of a session', 'Passthrough at 200 Mbit/s: cost per byte', 'Time to the first keyframe and the audio start',
    'CPU per channel and per client', 'Encoder layout: one ffmpeg per track or one per channel', 'Transcoded channels at real time', 'Memory', 'Tuner release after the last client',
    'Zap latency from a HomeKit write', 'HLS for an MPEG-2 channel: the H.264 encode', 'HomeKit camera live view: copy or encode',
  ]);
  for (const result of results) {
    expect({ title: result.title, error: result.error }).toEqual({ title: result.title, error: undefined });
    expect(result.rows.length).toBeGreaterThan(0);
    for (const row of result.rows) expect({ row: row.name, finite: Number.isFinite(row.median) }).toEqual({ row: row.name, finite: true });
  }
});
