// The simulator's media layer: the profile cache is built once and atomically, and captures get
// their real-time rate and program number from the TS itself.
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureStreamCache } from '../../src/simulator';
import { PROFILES, profileFile, readCapture } from '../../src/simulator/media';
import { SAMPLES } from '../helpers/samples';

let dir: string | undefined;

afterEach(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

test('ensureStreamCache encodes every profile once into a fresh folder, leaving no temp files', async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'xg2g-sim-cache-test-'));
  const [a, b] = await Promise.all([ensureStreamCache({ cacheDir: dir }), ensureStreamCache({ cacheDir: dir })]);
  expect(a).toBe(dir);
  expect(b).toBe(dir);
  const files = (await fs.readdir(dir)).sort();
  expect(files).toEqual(PROFILES.map((p) => profileFile(dir as string, p).slice((dir as string).length + 1)).sort());
  const before = await Promise.all(files.map(async (f) => (await fs.stat(join(dir as string, f))).mtimeMs));
  await ensureStreamCache({ cacheDir: dir });
  const after = await Promise.all(files.map(async (f) => (await fs.stat(join(dir as string, f))).mtimeMs));
  expect(after).toEqual(before);
});

test('a failed build is not remembered: the next call retries', async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'xg2g-sim-cache-test-'));
  await expect(ensureStreamCache({ cacheDir: dir, ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toThrow();
  expect(await fs.readdir(dir)).toEqual([]);
  // Same folder and ffmpeg for both calls: first blocked by a file where the folder should be.
  const blocked = join(dir, 'cache');
  await fs.writeFile(blocked, 'not a folder');
  await expect(ensureStreamCache({ cacheDir: blocked })).rejects.toThrow();
  await fs.rm(blocked);
  await expect(ensureStreamCache({ cacheDir: blocked })).resolves.toBe(blocked);
  expect((await fs.readdir(blocked)).length).toBe(PROFILES.length);
});

test('readCapture derives the real-time rate from PCRs and the program from the PAT', async () => {
  const cnews = await readCapture(join(SAMPLES, 'dvbs2-h264-ac3-cnews-tsduck009.ts'));
  expect(cnews.sid).toBe(8810);
  // The README gives a ~3.4 s PCR span for 1,713,808 bytes.
  const seconds = cnews.data.length / cnews.bytesPerS;
  expect(seconds).toBeGreaterThan(3.0);
  expect(seconds).toBeLessThan(4.0);
  await expect(readCapture(join(SAMPLES, 'README.md'))).rejects.toThrow(/not an MPEG-TS/);
});
