// VLC as a user runs it: `cvlc` plays a spliced channel from the proxy for 5 s and records what it
// receives; ffprobe finds the H.264 video and AAC audio in the recording. VLC refuses to run as
// root, so as root the test runs it as `nobody` in a folder that user may write.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe } from '../helpers/ffprobe';
import { DAS_ERSTE_HD, Stack, startStack, streamUrl } from '../helpers/stack';

jest.setTimeout(60_000);

const NOBODY = 65534;

function cvlc(args: string[], dir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const asRoot = process.getuid?.() === 0;
    const child = spawn('cvlc', args, {
      env: { ...process.env, HOME: dir },
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => void (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cvlc could not be started (${error.message}): install vlc-bin and vlc-plugin-base`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

let stack: Stack;
let dir: string;
beforeAll(async () => {
  stack = await startStack({ sim: { randomStart: false } });
  dir = mkdtempSync(join(tmpdir(), 'xg2g-vlc-'));
  chmodSync(dir, 0o777);
});
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('records 5 s of a spliced channel in which ffprobe finds H.264 and AAC', async () => {
  const file = join(dir, 'recording.ts');
  const url = streamUrl(stack, DAS_ERSTE_HD);
  const seen: Array<string | null> = [];
  const watch = setInterval(() => seen.push(stack.app.streams[0].sessions.list()[0]?.status().engine ?? null), 200);
  const { code, output } = await cvlc(['-I', 'dummy', '--run-time', '5', '--play-and-exit', url,
    '--sout', `#std{access=file,mux=ts,dst=${file}}`, 'vlc://quit'], dir);
  clearInterval(watch);
  expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
  expect(seen).toContain('splice');
  expect(statSync(file).size).toBeGreaterThan(500_000);
  const streams = await probe(file);
  expect(streams.filter((s) => s.codec_type === 'video').map((s) => s.codec_name)).toEqual(['h264']);
  const audio = streams.filter((s) => s.codec_type === 'audio');
  expect(audio.map((s) => [s.codec_name, s.profile])).toEqual([['aac', 'LC'], ['aac', 'LC']]);
});
