/**
 * The PMT a client of the spliced stream must see: each re-encoded track announced as ADTS AAC
 * (stream_type 0x0F) with its codec descriptors dropped and everything else — language, the other
 * streams, program descriptors, version — kept, and the CRC computed anew.
 */
import { crc32Mpeg } from './ts-write';

const STREAM_TYPE_ADTS_AAC = 0x0f;
/** Descriptors that describe the old codec: registration ('AC-3'/'EAC3'), DVB AC-3/E-AC-3/AAC, ATSC AC-3/E-AC-3. */
const CODEC_DESCRIPTORS = new Set([0x05, 0x6a, 0x7a, 0x7c, 0x81, 0xcc]);

/** Rewrites a complete PMT section (CRC included); undefined when it is not a well-formed PMT. */
export function rewritePmt(section: Buffer, reencoded: ReadonlySet<number>): Buffer | undefined {
  if (section[0] !== 0x02 || section.length < 16) return undefined;
  const end = section.length - 4;
  const programInfoLength = section.readUInt16BE(10) & 0x0fff;
  const parts: Buffer[] = [section.subarray(0, 12 + programInfoLength)];
  for (let i = 12 + programInfoLength; i + 5 <= end;) {
    const pid = section.readUInt16BE(i + 1) & 0x1fff;
    const infoLength = section.readUInt16BE(i + 3) & 0x0fff;
    const next = Math.min(i + 5 + infoLength, end);
    if (!reencoded.has(pid)) {
      parts.push(section.subarray(i, next));
    } else {
      const kept: Buffer[] = [];
      for (let d = i + 5; d + 2 <= next;) {
        const length = section[d + 1];
        if (!CODEC_DESCRIPTORS.has(section[d])) kept.push(section.subarray(d, Math.min(d + 2 + length, next)));
        d += 2 + length;
      }
      const descriptors = Buffer.concat(kept);
      const head = Buffer.from([STREAM_TYPE_ADTS_AAC, section[i + 1], section[i + 2], 0xf0 | (descriptors.length >> 8), descriptors.length & 0xff]);
      parts.push(head, descriptors);
    }
    i = next;
  }
  const body = Buffer.concat([...parts, Buffer.alloc(4)]);
  // section_length counts from after its own field to the end of the CRC.
  body.writeUInt16BE((section.readUInt16BE(1) & 0xf000) | (body.length - 3), 1);
  body.writeUInt32BE(crc32Mpeg(body, body.length - 4), body.length - 4);
  return body;
}
