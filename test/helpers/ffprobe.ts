// Test helper: ffprobe a TS file or buffer and return its streams (codec, profile, channels, bitrate, language).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbedStream {
  index: number;
  codec_type: string;
  codec_name: string;
  profile?: string;
  channels?: number;
  width?: number;
  height?: number;
  bit_rate?: string;
  tags?: { language?: string };
  id?: string;
}

export async function probe(input: string | Buffer): Promise<ProbedStream[]> {
  let dir: string | undefined;
  let file = typeof input === 'string' ? input : '';
  if (typeof input !== 'string') {
    dir = mkdtempSync(join(tmpdir(), 'xg2g-probe-'));
    file = join(dir, 'probe.ts');
    writeFileSync(file, input);
  }
  try {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
    return (JSON.parse(stdout) as { streams: ProbedStream[] }).streams;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
