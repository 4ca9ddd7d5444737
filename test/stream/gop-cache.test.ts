// The keyframe gate and the GOP cache on real captures: a passthrough session hands the cache what
// its inspector found instead of having every packet parsed again, and the cache must then behave
// exactly as one that inspects the output itself; on a multi-program mux it follows the program
// the session follows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TS_PACKET_SIZE } from '../../src/settings';
import { GopCache } from '../../src/stream/gop-cache';
import { KeyframeGate } from '../../src/stream/keyframe-gate';
import { TsInspector } from '../../src/stream/ts-inspector';
import { SAMPLES } from '../helpers/samples';

const sample = (name: string): Buffer => readFileSync(join(SAMPLES, name));
const CAP = 6 * 1024 * 1024;
const CHUNK = 64 * 1024;
const same = (a: Buffer | undefined, b: Buffer | undefined): boolean => (a && b ? a.equals(b) : a === b);

/** A capture through inspector and gate in socket-sized chunks; `each` gets what the gate passed. */
function passthrough(file: Buffer, program: number | undefined, each: (passed: Buffer, inspector: TsInspector, gate: KeyframeGate) => void): void {
  const inspector = new TsInspector(program);
  const gate = new KeyframeGate(inspector);
  for (let i = 0; i < file.length; i += CHUNK) {
    const passed = gate.pass(inspector.push(file.subarray(i, i + CHUNK)));
    if (passed.length > 0) each(passed, inspector, gate);
  }
}

describe('GOP cache of a passthrough session', () => {
  it.each(['dvbs2-h264-ac3-cnews-tsduck009.ts', 'dvbt-mpeg2-mp2-heaaclatm-abcnews-tsduck202.ts'])('%s: agrees with a cache that inspects the output itself', (name) => {
    const given = new GopCache(CAP);
    const own = new GopCache(CAP);
    let keyframes = 0;
    passthrough(sample(name), undefined, (passed, inspector, gate) => {
      if (gate.lastKeyframe >= 0) {
        keyframes++;
        expect(inspector.isKeyframe(passed.subarray(gate.lastKeyframe, gate.lastKeyframe + TS_PACKET_SIZE))).toBe(true);
      }
      expect(given.push(passed, { psi: inspector, lastKeyframe: gate.lastKeyframe })).toBe(passed);
      own.push(passed);
      expect(given.lastKeyframeOffset).toBe(own.lastKeyframeOffset);
      expect(given.sizeBytes).toBe(own.sizeBytes);
      expect(same(given.snapshot(), own.snapshot())).toBe(true);
    });
    expect(keyframes).toBeGreaterThan(0);
    expect(given.header()).toEqual(own.header());
  });

  it('follows the requested program of a two-program mux, as the gate does', () => {
    const cache = new GopCache(CAP);
    let keyframes = 0;
    passthrough(sample('dvbs2-h264-ac3-2prog-csat-tsduck035.ts'), 8810, (passed, inspector, gate) => {
      cache.push(passed, { psi: inspector, lastKeyframe: gate.lastKeyframe });
      const at = cache.lastKeyframeOffset;
      if (at < 0) return;
      keyframes++;
      expect(passed.readUInt16BE(at + 1) & 0x1fff).toBe(0x3f2); // program 8810's video
    });
    expect(keyframes).toBeGreaterThan(0);
    const replay = new TsInspector(8810);
    const start = replay.push(cache.snapshot()!);
    expect(replay.pmt?.program).toBe(8810);
    const header = cache.header()!.length;
    expect(replay.isKeyframe(start.subarray(header, header + TS_PACKET_SIZE))).toBe(true);
  });

  it('lets a radio programme start anywhere, after PAT and PMT', () => {
    const cache = new GopCache(CAP);
    let chunks = 0;
    passthrough(sample('dvbt-mpeg2-mp2-8prog-rai-tsduck108.ts'), 3404, (passed, inspector, gate) => {
      cache.push(passed, { psi: inspector, lastKeyframe: gate.lastKeyframe });
      expect(cache.lastKeyframeOffset).toBe(0);
      chunks++;
    });
    expect(chunks).toBeGreaterThan(0);
    expect(cache.snapshot()).toEqual(cache.header());
  });
});
