// What the splice cannot frame goes to the full remux: a track whose PES carry no frames of the
// announced codec is reported once with a reason, by the splice and, through a session, in the log
// and in /api/status, and the session goes on with ffmpeg remuxing the whole stream.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { silentLogger } from '../../../src/logger';
import { AudioSplice } from '../../../src/stream/splice/audio-splice';
import { TsInspector } from '../../../src/stream/ts-inspector';
import { CNEWS, FakeReceiver, startFakeReceiver } from '../../helpers/fake-receiver';
import { SAMPLES } from '../../helpers/samples';
import { DAS_ERSTE_HD, Stack, startStack, streamUrl, until } from '../../helpers/stack';

/** CNEWS with the payload of its AC-3 packets blanked after the PES header: AC-3 announced, none carried. */
function withoutAc3Frames(): Buffer {
  const ts = Buffer.from(readFileSync(join(SAMPLES, CNEWS.file)));
  for (let at = 0; at + 188 <= ts.length; at += 188) {
    if ((((ts[at + 1] & 0x1f) << 8) | ts[at + 2]) !== CNEWS.audioPid) continue;
    const start = at + ((ts[at + 3] & 0x20) ? 5 + ts[at + 4] : 4);
    const keep = (ts[at + 1] & 0x40) ? 9 + ts[start + 8] : 0; // the PES header of a unit start
    ts.fill(0x00, start + keep, at + 188);
  }
  return ts;
}

it('reports a track without frames of its codec as unsupported, once', async () => {
  const ts = withoutAc3Frames();
  const inspector = new TsInspector();
  inspector.push(ts);
  const reasons: string[] = [];
  const failures: string[] = [];
  const splice = new AudioSplice({
    pmtPid: inspector.pmtPid!, pmt: inspector.pmt!, reencodeAac: false, ffmpegPath: 'ffmpeg',
    audio: { codec: 'aac', bitrate: '192k', channels: 2 }, label: 'CNEWS', log: silentLogger,
    onFailure: (e) => failures.push(e.message), onUnsupported: (why) => reasons.push(why),
  });
  try {
    for (let i = 0; i < ts.length; i += 188 * 64) splice.push(ts.subarray(i, i + 188 * 64));
    expect(reasons).toEqual(['no ac3 frames found in the ac3 audio (fra) of CNEWS']);
    expect(failures).toEqual([]);
  } finally {
    await splice.stop();
  }
});

describe('through a session', () => {
  let fake: FakeReceiver;
  let stack: Stack;
  afterEach(async () => {
    await stack?.stop();
    await fake?.close();
  });

  it('falls back to the full remux and says why in the log and /api/status', async () => {
    const ts = withoutAc3Frames();
    fake = await startFakeReceiver({ kind: 'packets', packet: (i) => ts.subarray((i * 188) % ts.length, ((i * 188) % ts.length) + 188) });
    stack = await startStack({ receiver: { streamTarget: fake.url } });
    const request = http.get(streamUrl(stack, DAS_ERSTE_HD), (res) => res.resume());
    request.on('error', () => undefined);
    try {
      const reason = /no ac3 frames found in the ac3 audio \(fra\) of Das Erste HD; using the full ffmpeg remux instead/;
      await until(() => stack.logs.some((l) => reason.test(l)), 45_000, 'the fallback');
      const status = await new Promise<{ sessions: Array<{ engine: string; engineReason: string }> }>((resolve, reject) => {
        http.get(`${stack.url}/api/status`, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(JSON.parse(body)));
        }).on('error', reject);
      });
      expect(status.sessions).toHaveLength(1);
      expect(status.sessions[0].engine).toBe('ffmpeg');
      expect(status.sessions[0].engineReason).toMatch(reason);
    } finally {
      request.destroy();
    }
  }, 60_000);
});
