// The TS reader on real DVB broadcast captures (test/fixtures/samples): every stream of every capture
// classified as the samples' README lists it, keyframes found, chunking does not matter.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsInspector } from '../../src/stream/ts-inspector';
import { ElementaryStream, findSync, parsePat, pmtNeedsTranscode, readPacketHeader, SectionAssembler } from '../../src/stream/ts';
import { TS_PACKET_SIZE } from '../../src/settings';
import { SAMPLES } from '../helpers/samples';

const sample = (name: string): Buffer => readFileSync(join(SAMPLES, name));

/** Feeds a whole file in uneven chunks, like a socket does, and returns the inspector. */
function inspect(file: Buffer, program?: number, chunk = 1000): { inspector: TsInspector; aligned: number; keyframes: number } {
  const inspector = new TsInspector(program);
  let aligned = 0;
  let keyframes = 0;
  for (let i = 0; i < file.length; i += chunk) {
    const packets = inspector.push(file.subarray(i, i + chunk));
    aligned += packets.length;
    for (let p = 0; p < packets.length; p += TS_PACKET_SIZE) {
      if (inspector.isKeyframe(packets.subarray(p, p + TS_PACKET_SIZE))) keyframes++;
    }
  }
  return { inspector, aligned, keyframes };
}

const summary = (s: ElementaryStream): string => `${s.pid.toString(16)} ${s.codec} ${s.language}`.trim();

describe('real captures', () => {
  it('CNEWS: H.264 + AC-3 in DVB form + declared subtitles', () => {
    const { inspector, keyframes } = inspect(sample('dvbs2-h264-ac3-cnews-tsduck009.ts'));
    expect(inspector.pmt?.program).toBe(8810);
    expect(inspector.pmtPid).toBe(0x3e8);
    expect(inspector.pmt?.pcrPid).toBe(0x3f2);
    expect(inspector.pmt?.streams.map(summary)).toEqual(['3f2 h264', '3fd ac3 fra', '413 dvb_subtitle fra']);
    expect(inspector.pmt?.streams[1]).toMatchObject({ streamType: 0x06, kind: 'audio', needsTranscode: true });
    expect(pmtNeedsTranscode(inspector.pmt!)).toBe(true);
    expect(keyframes).toBeGreaterThan(0);
  });

  it('CSAT two-program mux: each program on request, the first by default', () => {
    const file = sample('dvbs2-h264-ac3-2prog-csat-tsduck035.ts');
    const first = inspect(file).inspector;
    expect(first.pat?.map((p) => p.program)).toEqual([8802, 8810]);
    expect(first.pmt?.program).toBe(8802);
    expect(first.pmt?.streams.map(summary)).toEqual(['d2 h264', 'dd ac3 fra', 'de ac3 eng', 'f2 dvb_subtitle fra', 'f3 dvb_subtitle fra']);
    const second = inspect(file, 8810).inspector;
    expect(second.pmt?.streams.map(summary)).toEqual(['3f2 h264', '3fd ac3 fra', '413 dvb_subtitle fra']);
  });

  it('France 2: three E-AC-3 tracks (0x06 + 0x7A) with their languages', () => {
    const { inspector, keyframes } = inspect(sample('dvbt-h264-eac3-france2-tsduck026.ts'));
    expect(inspector.pmt?.program).toBe(257);
    expect(inspector.pmt?.streams.map(summary)).toEqual([
      '78 h264', '82 eac3 fre', '83 eac3 qad', '84 eac3 qaa', '8c dvb_subtitle fra', '8e dvb_subtitle fra',
    ]);
    expect(keyframes).toBeGreaterThan(0);
  });

  it('Canal Capital: MP2 under stream type 0x03 without a language', () => {
    const { inspector } = inspect(sample('dvbt2-h264-mp2-canalcapital-tsduck138.ts'));
    expect(inspector.pmt?.program).toBe(6141);
    expect(inspector.pmt?.streams.map(summary)).toEqual(['bc3 h264', 'bc4 mp2', 'bc7 dvb_subtitle spa']);
    expect(inspector.pmt?.streams[1]).toMatchObject({ streamType: 0x03, needsTranscode: true });
  });

  it('ABC News: MPEG-2 + MP2 + HE-AAC LATM + teletext + AIT', () => {
    const { inspector, keyframes } = inspect(sample('dvbt-mpeg2-mp2-heaaclatm-abcnews-tsduck202.ts'));
    expect(inspector.pmt?.program).toBe(560);
    expect(inspector.pmt?.pcrPid).toBe(0x905);
    const streams = inspector.pmt!.streams;
    expect(streams.map(summary)).toEqual(['90a mpeg2video', '90b mp2 eng', '96f aac_latm aus', '90c teletext eng', '157c data']);
    expect(streams.find((s) => s.pid === 0x96f)).toMatchObject({ streamType: 0x11, kind: 'audio', needsTranscode: true });
    expect(streams.find((s) => s.pid === 0x90c)?.kind).toBe('teletext');
    expect(keyframes).toBeGreaterThan(0);
  });

  it('Rai mux: eight programs; MP2 under 0x03 and 0x04, radio without video, HEVC without audio', () => {
    const file = sample('dvbt-mpeg2-mp2-8prog-rai-tsduck108.ts');
    const all = inspect(file).inspector.pat!.map((p) => p.program);
    expect(all).toEqual(expect.arrayContaining([3401, 3402, 3403, 3404, 3405, 3406, 3410, 3411]));
    expect(all).toHaveLength(8);

    const rai1 = inspect(file, 3401).inspector.pmt!;
    expect(rai1.streams.filter((s) => s.kind !== 'data').map(summary).sort()).toEqual(['200 mpeg2video', '240 teletext ita', '28a mp2 ita', '2b6 mp2 Oth', '2bb mp2 eng']);
    const rai3 = inspect(file, 3403).inspector.pmt!;
    expect(rai3.streams.find((s) => s.pid === 0x28c)).toMatchObject({ streamType: 0x03, codec: 'mp2', language: 'ITA' });
    const radio = inspect(file, 3404).inspector.pmt!;
    expect(radio.streams.filter((s) => s.kind !== 'data').map(summary)).toEqual(['28d mp2']);
    expect(radio.streams.some((s) => s.kind === 'video')).toBe(false);
    const hevc = inspect(file, 3410).inspector;
    expect(hevc.pmt!.streams.filter((s) => s.kind !== 'data').map(summary)).toEqual(['1f4 hevc']);
    expect(pmtNeedsTranscode(hevc.pmt!)).toBe(false);
    // PID 0x243 carries PES but is in no PMT: it must not show up in any program.
    for (const program of all) {
      expect(inspect(file, program).inspector.pmt!.streams.some((s) => s.pid === 0x243)).toBe(false);
    }
  });
});

describe('alignment', () => {
  it('gives the same packets whatever the chunking, and counts garbage it skips', () => {
    const file = sample('dvbs2-h264-ac3-cnews-tsduck009.ts');
    const garbage = Buffer.from('HTTP/1.0 400 Bad Request\r\n');
    const input = Buffer.concat([garbage, file]);
    for (const chunk of [1, 187, 188, 189, 65536]) {
      const inspector = new TsInspector();
      const out: Buffer[] = [];
      for (let i = 0; i < input.length; i += chunk) out.push(inspector.push(input.subarray(i, i + chunk)));
      const joined = Buffer.concat(out);
      expect(joined.length).toBe(file.length);
      expect(joined.equals(file)).toBe(true);
      expect(inspector.skippedBytes).toBe(garbage.length);
    }
  });

  it('pushEach hands on the same packets and keyframes as push, as views of the chunk', () => {
    const file = sample('dvbs2-h264-ac3-cnews-tsduck009.ts');
    const input = Buffer.concat([Buffer.from('garbage\r\n'), file.subarray(0, 100_000), Buffer.from([0x47, 1, 2]), file.subarray(100_000)]);
    for (const chunk of [1, 187, 189, 1000, 65536]) {
      const reference = new TsInspector();
      const each = new TsInspector();
      const expected: Buffer[] = [];
      const got: Buffer[] = [];
      let keyframesExpected = 0;
      let keyframesGot = 0;
      let views = 0;
      for (let i = 0; i < input.length; i += chunk) {
        const piece = input.subarray(i, i + chunk);
        const packets = reference.push(piece);
        expected.push(packets);
        if (reference.keyframesIn(packets).last >= 0) keyframesExpected++;
        each.pushEach(piece, (run) => {
          got.push(run);
          // What the keyframe gate asks next is answered from the scan; it must match the packets.
          const span = each.keyframesIn(run);
          const starts: number[] = [];
          for (let p = 0; p < run.length; p += TS_PACKET_SIZE) {
            if (each.isKeyframe(run.subarray(p, p + TS_PACKET_SIZE))) starts.push(p);
          }
          expect(span).toEqual({ first: starts[0] ?? -1, last: starts.at(-1) ?? -1 });
          if (span.last >= 0) keyframesGot++;
          if (run.length > TS_PACKET_SIZE && run.buffer === piece.buffer) views++;
        });
      }
      expect(Buffer.concat(got).equals(Buffer.concat(expected))).toBe(true);
      expect(each.skippedBytes).toBe(reference.skippedBytes);
      expect(each.pmt).toEqual(reference.pmt);
      expect(keyframesGot).toBeGreaterThanOrEqual(keyframesExpected);
      if (chunk >= 1000) expect(views).toBeGreaterThan(0);
    }
  });

  it('keeps the raw PAT and PMT packets for replay', () => {
    const { inspector } = inspect(sample('dvbt-h264-eac3-france2-tsduck026.ts'));
    expect(readPacketHeader(inspector.patPacket!)?.pid).toBe(0);
    expect(readPacketHeader(inspector.pmtPacket!)?.pid).toBe(0x6e);
    const replay = new TsInspector();
    replay.push(Buffer.concat([inspector.patPacket!, inspector.pmtPacket!]));
    expect(replay.pmt).toEqual(inspector.pmt);
  });

  it('finds sync only where packets line up', () => {
    const file = sample('dvbs2-h264-ac3-cnews-tsduck009.ts').subarray(0, 188 * 4);
    expect(findSync(Buffer.concat([Buffer.from([0x47, 1, 2]), file]))).toBe(3);
    expect(findSync(Buffer.alloc(1000))).toBe(-1);
  });
});

describe('PSI sections', () => {
  it('reassembles a section split across packets and ignores stuffing', () => {
    // A PAT with 50 programs spans two packets.
    const entries = Array.from({ length: 50 }, (_, i) => [(i + 1) >> 8, (i + 1) & 0xff, 0xe0 | ((0x100 + i) >> 8), (0x100 + i) & 0xff]).flat();
    const length = 5 + entries.length + 4;
    const section = Buffer.from([0x00, 0xb0 | (length >> 8), length & 0xff, 0, 1, 0xc1, 0, 0, ...entries, 0, 0, 0, 0]);
    const payload = Buffer.concat([Buffer.from([0]), section, Buffer.alloc(400, 0xff)]);
    const assembler = new SectionAssembler();
    expect(assembler.push(payload.subarray(0, 184), true)).toEqual([]);
    const done = assembler.push(payload.subarray(184, 368), false);
    expect(done).toHaveLength(1);
    const pat = parsePat(done[0]);
    expect(pat).toHaveLength(50);
    expect(pat[49]).toEqual({ program: 50, pmtPid: 0x100 + 49 });
  });

  it('drops a section that declares more than a PAT or PMT can hold', () => {
    const assembler = new SectionAssembler();
    // section_length 4000: not a PAT; nothing is kept for the packets that follow.
    expect(assembler.push(Buffer.from([0, 0x00, 0xbf, 0xa0, ...Buffer.alloc(180, 0x11)]), true)).toEqual([]);
    expect(assembler.assembling).toBe(false);
    expect(assembler.push(Buffer.alloc(184, 0x11), false)).toEqual([]);
    expect(assembler.assembling).toBe(false);
  });
});

describe('malformed PSI', () => {
  /** One TS packet on `pid` with a payload of `fill` bytes. */
  const packet = (pid: number, start: boolean, payload: Buffer): Buffer => {
    const p = Buffer.alloc(TS_PACKET_SIZE, 0xff);
    p[0] = 0x47;
    p[1] = (start ? 0x40 : 0) | (pid >> 8);
    p[2] = pid & 0xff;
    p[3] = 0x10;
    payload.copy(p, 4, 0, Math.min(payload.length, 184));
    return p;
  };

  it('holds nothing for PAT packets that never start a section, however many arrive', () => {
    const inspector = new TsInspector();
    const chunk = Buffer.concat(Array.from({ length: 1_000 }, () => packet(0, false, Buffer.alloc(184, 0x22))));
    for (let i = 0; i < 20; i++) inspector.push(chunk); // 20,000 packets, 3.7 MB
    expect(inspector.heldSectionBytes).toBe(0);
    expect(inspector.pat).toBeUndefined();
  });

  it('holds at most one section\'s packets while a long section is under way', () => {
    const inspector = new TsInspector();
    // A PAT declaring the largest legal section (1021), then continuation packets forever.
    const start = packet(0, true, Buffer.from([0, 0x00, 0xb3, 0xfd, ...Buffer.alloc(180, 0x33)]));
    const more = Buffer.concat(Array.from({ length: 1_000 }, () => packet(0, false, Buffer.alloc(184, 0x33))));
    inspector.push(start);
    for (let i = 0; i < 5; i++) inspector.push(more);
    expect(inspector.heldSectionBytes).toBeLessThanOrEqual(Math.ceil(1_024 / 184 + 1) * TS_PACKET_SIZE);
  });
});


describe('keyframes noted while parsing', () => {
  /** Where keyframes start in `packets`, testing every packet after the push (as callers once did). */
  const scan = (inspector: TsInspector, packets: Buffer): { first: number; last: number } => {
    const span = { first: -1, last: -1 };
    for (let o = 0; o < packets.length; o += TS_PACKET_SIZE) {
      if (!inspector.isKeyframe(packets.subarray(o, o + TS_PACKET_SIZE))) continue;
      span.last = o;
      if (span.first < 0) span.first = o;
    }
    return span;
  };

  it('are where a scan after the push finds them, on every capture and chunking', () => {
    const names = ['dvbs2-h264-ac3-cnews-tsduck009.ts', 'dvbt-h264-eac3-france2-tsduck026.ts', 'dvbt-mpeg2-mp2-heaaclatm-abcnews-tsduck202.ts'];
    for (const name of names) {
      const file = sample(name);
      for (const chunk of [1000, 65536]) {
        const inspector = new TsInspector();
        let withKeyframe = 0;
        for (let i = 0; i < file.length; i += chunk) {
          const packets = inspector.push(file.subarray(i, i + chunk));
          const span = inspector.keyframesIn(packets);
          expect(span).toEqual(scan(inspector, packets));
          if (span.first >= 0) withKeyframe++;
        }
        expect(withKeyframe).toBeGreaterThan(0);
      }
    }
  });

  /** CNEWS, whole, and the offset of a keyframe packet in it that has 5 packets before it. */
  const cnews = (): { file: Buffer; keyframe: number; inspector: TsInspector } => {
    const file = sample('dvbs2-h264-ac3-cnews-tsduck009.ts');
    const inspector = new TsInspector();
    inspector.push(file);
    let keyframe = 5 * TS_PACKET_SIZE;
    while (!inspector.isKeyframe(file.subarray(keyframe, keyframe + TS_PACKET_SIZE))) keyframe += TS_PACKET_SIZE;
    return { file, keyframe, inspector };
  };

  it('count a keyframe that comes before the PMT in the same chunk', () => {
    const { file, keyframe, inspector: known } = cnews();
    const inspector = new TsInspector();
    const packets = inspector.push(Buffer.concat([file.subarray(keyframe, keyframe + 3 * TS_PACKET_SIZE), known.patPacket!, known.pmtPacket!]));
    expect(inspector.video?.pid).toBe(0x3f2);
    expect(inspector.keyframesIn(packets)).toEqual({ first: 0, last: 0 });
  });

  it('are offsets in what push returns when garbage was cut out of the chunk', () => {
    const { file, keyframe, inspector } = cnews();
    const before = file.subarray(keyframe - 5 * TS_PACKET_SIZE, keyframe);
    const packets = inspector.push(Buffer.concat([before, Buffer.from('garbage'), file.subarray(keyframe, keyframe + 10 * TS_PACKET_SIZE)]));
    expect(packets.length).toBe(15 * TS_PACKET_SIZE);
    expect(inspector.keyframesIn(packets).first).toBe(5 * TS_PACKET_SIZE);
    expect(inspector.keyframesIn(packets)).toEqual(scan(inspector, packets));
  });

  it('are found by scanning in packets that push did not return last', () => {
    const { file, keyframe, inspector } = cnews();
    inspector.push(file.subarray(0, TS_PACKET_SIZE));
    const other = file.subarray(keyframe - TS_PACKET_SIZE, keyframe + TS_PACKET_SIZE);
    expect(inspector.keyframesIn(other)).toEqual({ first: TS_PACKET_SIZE, last: TS_PACKET_SIZE });
  });
});
