// ffmpeg/ffprobe location: configured path, ffmpeg-for-homebridge fallback to PATH, clear errors.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, locateFfmpeg, locateFfprobe } from '../../src/stream/ffmpeg-locate';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xg2g-ffmpeg-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const systemFfmpeg = findOnPath('ffmpeg');

describe('locateFfmpeg', () => {
  it('falls back to PATH when ffmpeg-for-homebridge has no binary, and reports a version', async () => {
    const found = await locateFfmpeg();
    expect(found.source).toBe('PATH');
    expect(found.path).toBe(systemFfmpeg);
    expect(found.version).toMatch(/^\d+\.\d+/);
  });

  it('falls back to PATH when the bundled binary is missing or broken', async () => {
    const broken = join(dir, 'broken-ffmpeg');
    writeFileSync(broken, '#!/bin/sh\nexit 3\n');
    chmodSync(broken, 0o755);
    for (const bundled of [join(dir, 'absent'), broken]) {
      const found = await locateFfmpeg(undefined, { bundled: () => bundled });
      expect(found).toMatchObject({ source: 'PATH', path: systemFfmpeg });
    }
  });

  it('uses a working bundled binary before PATH', async () => {
    const found = await locateFfmpeg('', { bundled: () => systemFfmpeg });
    expect(found.source).toBe('ffmpeg-for-homebridge');
  });

  it('uses the configured path, also a bare name looked up on PATH', async () => {
    expect(await locateFfmpeg(systemFfmpeg)).toMatchObject({ source: 'config', path: systemFfmpeg });
    expect(await locateFfmpeg('ffmpeg')).toMatchObject({ source: 'config', path: systemFfmpeg });
  });

  it('a bogus configured path gives a clear error and no fallback', async () => {
    await expect(locateFfmpeg('/nonexistent/ffmpeg')).rejects.toThrow(
      'The configured ffmpeg "/nonexistent/ffmpeg" (proxy.ffmpegPath / XG2G_FFMPEG_PATH) does not exist.',
    );
    const notFfmpeg = join(dir, 'echo-ffmpeg');
    writeFileSync(notFfmpeg, '#!/bin/sh\necho hello\n');
    chmodSync(notFfmpeg, 0o755);
    await expect(locateFfmpeg(notFfmpeg)).rejects.toThrow(/does not look like ffmpeg/);
  });

  it('says what it tried when nothing works', async () => {
    await expect(locateFfmpeg(undefined, { env: { PATH: dir }, bundled: () => undefined })).rejects.toThrow(
      'ffmpeg was not found: ffmpeg-for-homebridge has no binary for this system; there is no ffmpeg on PATH. Install ffmpeg',
    );
  });
});

describe('locateFfprobe', () => {
  it('finds ffprobe beside ffmpeg', async () => {
    const found = await locateFfprobe(systemFfmpeg);
    expect(found.source).toBe('beside-ffmpeg');
    expect(found.path).toBe(findOnPath('ffprobe'));
    expect(found.version).toMatch(/^\d+\.\d+/);
  });

  it('falls back to PATH when ffmpeg has no ffprobe beside it', async () => {
    const found = await locateFfprobe(join(dir, 'ffmpeg'));
    expect(found.source).toBe('PATH');
  });

  it('fails clearly when there is none', async () => {
    await expect(locateFfprobe(join(dir, 'ffmpeg'), { env: { PATH: dir } })).rejects.toThrow(/^ffprobe was not found/);
  });
});
