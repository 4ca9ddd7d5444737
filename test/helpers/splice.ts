// Test helper: a TS file through the audio splice the way a session feeds it, in socket-sized
// chunks paced so the AAC interleaves with the other packets.
import { silentLogger } from '../../src/logger';
import { AudioSplice, splicedStreams } from '../../src/stream/splice/audio-splice';
import { TsInspector } from '../../src/stream/ts-inspector';

const AUDIO = { codec: 'aac' as const, bitrate: '192k', channels: 2 };

export interface Spliced { input: Buffer; output: Buffer; inspector: TsInspector; trackPids: number[]; splice: AudioSplice }

/** Pushes a capture through the splice in socket-sized chunks, paced so the AAC interleaves. */
export async function spliceCapture(file: Buffer, program?: number): Promise<Spliced> {
  const inspector = new TsInspector(program);
  inspector.push(file);
  const pmt = inspector.pmt!;
  const failures: string[] = [];
  const splice = new AudioSplice({
    pmtPid: inspector.pmtPid!, pmt, reencodeAac: false, ffmpegPath: 'ffmpeg', audio: AUDIO, label: 'test', log: silentLogger,
    onFailure: (e) => failures.push(e.message), onUnsupported: (why) => failures.push(why),
  });
  const out: Buffer[] = [];
  const chunk = 188 * 64;
  for (let i = 0; i < file.length; i += chunk) {
    out.push(splice.push(file.subarray(i, i + chunk)));
    await new Promise((r) => setTimeout(r, 3));
  }
  out.push(await splice.finish());
  expect(failures).toEqual([]);
  return { input: file, output: Buffer.concat(out), inspector, trackPids: splicedStreams(pmt, false).map((s) => s.pid), splice };
}

