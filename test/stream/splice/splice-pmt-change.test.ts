// A PMT that changes mid-stream: when a re-encoded track turns into one that needs nothing (here,
// the AC-3 track re-announced as ADTS AAC), the splice ends its encoder and from then on passes
// that PID through untouched, and the new PMT goes out as the source sent it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../../src/logger';
import { AudioSplice } from '../../../src/stream/splice/audio-splice';
import { rewritePmt } from '../../../src/stream/splice/pmt-rewrite';
import { Continuity, writeSection } from '../../../src/stream/splice/ts-write';
import { TsInspector } from '../../../src/stream/ts-inspector';
import { CNEWS } from '../../helpers/fake-receiver';
import { SAMPLES } from '../../helpers/samples';
import { packetsOf, pidHashes, pmtSections } from '../../helpers/ts-check';

it('stops re-encoding a track the new PMT no longer needs re-encoded, and passes it through', async () => {
  const capture = readFileSync(join(SAMPLES, CNEWS.file));
  const inspector = new TsInspector();
  inspector.push(capture);
  const original = pmtSections(capture, CNEWS.pmtPid)[0];
  // The same PMT with the AC-3 track announced as AAC: a valid section (new CRC) a broadcaster could send.
  const changed = rewritePmt(original, new Set([CNEWS.audioPid]))!;
  const changedPackets = writeSection(CNEWS.pmtPid, changed, new Continuity());
  expect(changedPackets.length).toBe(188);

  // First half as captured; second half with every PMT packet replaced by the changed one.
  const half = Math.floor(capture.length / 188 / 2) * 188;
  const second: Buffer[] = [];
  for (const [p, info] of packetsOf(capture.subarray(half))) second.push(info.pid === CNEWS.pmtPid ? changedPackets : p);
  const input = Buffer.concat([capture.subarray(0, half), ...second]);

  const splice = new AudioSplice({
    pmtPid: CNEWS.pmtPid, pmt: inspector.pmt!, reencodeAac: false, ffmpegPath: 'ffmpeg',
    audio: { codec: 'aac', bitrate: '192k', channels: 2 }, label: 'CNEWS', log: silentLogger,
    onFailure: (e) => { throw e; }, onUnsupported: (why) => { throw new Error(why); },
  });
  const out: Buffer[] = [];
  let pidsBefore: number[] = [];
  try {
    for (let i = 0; i < input.length; i += 188 * 64) {
      if (i >= half && pidsBefore.length === 0) pidsBefore = splice.pids;
      out.push(splice.push(input.subarray(i, i + 188 * 64)));
    }
    out.push(await splice.finish());
  } finally {
    await splice.stop();
  }
  expect(pidsBefore).toHaveLength(1);
  expect(splice.pids).toEqual([]);
  const output = Buffer.concat(out);
  // After the change the audio PID's packets are the source's own, byte for byte.
  // The last quarter of the stream lies well after the change: packet for packet the same in both.
  const quarter = Math.floor((capture.length - half) / 188 / 2) * 188;
  const tail = (ts: Buffer): Buffer => ts.subarray(ts.length - quarter);
  expect(pidHashes(tail(output), [CNEWS.audioPid])).toEqual(pidHashes(tail(input), [CNEWS.audioPid]));
  // The new PMT goes out unchanged: it needs no rewrite.
  expect(pmtSections(output, CNEWS.pmtPid).at(-1)).toEqual(changed);
});
