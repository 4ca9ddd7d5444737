// The audio splice on every real DVB capture: all packets but the re-encoded audio and the PMT come
// out byte for byte (video, PCR, teletext, subtitles, other programs), every re-encoded track is
// AAC-LC that ffmpeg decodes without an error, the PMT's CRC holds and no PID has a continuity error.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TsInspector } from '../../../src/stream/ts-inspector';
import { probe } from '../../helpers/ffprobe';
import { SAMPLES } from '../../helpers/samples';
import { Spliced, spliceCapture } from '../../helpers/splice';
import { continuityErrors, crcMpeg, packetsOf, pidHashes, pmtSections } from '../../helpers/ts-check';

const run = promisify(execFile);
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'xg2g-splice-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['dvbs2-h264-ac3-cnews-tsduck009.ts', undefined],
  ['dvbs2-h264-ac3-2prog-csat-tsduck035.ts', 8802],
  ['dvbt-h264-eac3-france2-tsduck026.ts', undefined],
  ['dvbt2-h264-mp2-canalcapital-tsduck138.ts', undefined],
  ['dvbt-mpeg2-mp2-heaaclatm-abcnews-tsduck202.ts', undefined],
  ['dvbt-mpeg2-mp2-8prog-rai-tsduck108.ts', 3401],
])('%s (program %s)', (name, program) => {
  let result: Spliced;
  let outFile: string;
  beforeAll(async () => {
    result = await spliceCapture(readFileSync(join(SAMPLES, name)), program);
    outFile = join(dir, name);
    writeFileSync(outFile, result.output);
  });

  it('passes every other PID through byte for byte', () => {
    const { input, output, inspector, trackPids } = result;
    const pids = new Set<number>();
    for (const [, info] of packetsOf(input)) pids.add(info.pid);
    for (const pid of [...trackPids, inspector.pmtPid!]) pids.delete(pid);
    const kinds = inspector.pmt!.streams.filter((s) => pids.has(s.pid)).map((s) => s.kind);
    expect(kinds).toContain('video');
    expect(pidHashes(output, pids)).toEqual(pidHashes(input, pids));
  });

  it('re-encodes each audio track to AAC-LC that decodes without errors', async () => {
    const { trackPids } = result;
    expect(trackPids.length).toBeGreaterThan(0);
    const streams = await probe(outFile);
    const spliced = streams.filter((s) => trackPids.includes(Number(s.id)));
    expect(spliced).toHaveLength(trackPids.length);
    for (const track of spliced) expect(track).toMatchObject({ codec_type: 'audio', codec_name: 'aac', profile: 'LC', channels: 2 });
    for (const track of spliced) {
      // Extracted first (probing the file logs the captures' own mid-GOP video errors), then decoded.
      const adts = join(dir, `${track.id}.aac`);
      await run('ffmpeg', ['-nostdin', '-v', 'quiet', '-y', '-i', outFile, '-map', `0:i:${track.id}`, '-c', 'copy', '-f', 'adts', adts]);
      const { stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'aac', '-i', adts, '-f', 'null', '-']);
      expect(stderr).toBe('');
    }
  });

  it('announces AAC in a PMT with a valid CRC and keeps the languages', () => {
    const { output, inspector, trackPids } = result;
    const sections = pmtSections(output, inspector.pmtPid!);
    expect(sections.length).toBeGreaterThan(0);
    for (const section of sections) expect(crcMpeg(section)).toBe(0);
    const out = new TsInspector(program);
    out.push(output);
    for (const pid of trackPids) {
      const before = inspector.pmt!.streams.find((s) => s.pid === pid)!;
      expect(out.pmt!.streams.find((s) => s.pid === pid)).toMatchObject({ streamType: 0x0f, codec: 'aac', language: before.language });
    }
    expect(out.pmt!.streams.filter((s) => !trackPids.includes(s.pid))).toEqual(inspector.pmt!.streams.filter((s) => !trackPids.includes(s.pid)));
  });

  it('has no continuity errors on any PID the input had none on', () => {
    const before = continuityErrors(result.input);
    const after = continuityErrors(result.output);
    for (const [pid, count] of after) expect({ pid, count }).toEqual({ pid, count: before.get(pid) ?? 0 });
  });
});
