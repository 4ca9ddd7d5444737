/**
 * The last hop of a live view: ffmpeg sends plain RTP (and RTCP) to a loopback UDP port here, and
 * this relay protects each packet with SRTP (AES_CM_128_HMAC_SHA1_80, RFC 3711) and sends it on to
 * the viewer.
 *
 * Why not ffmpeg's own `srtp://` output: a zap restarts ffmpeg (see camera-live-view.ts), and a new
 * ffmpeg would start SRTP's packet index again under the same key: the viewer would drop its
 * packets as replays (or take them as old ones) and, worse, the same keystream would encrypt two
 * different packets. The relay keeps one packet index, sequence number and RTP clock per viewer
 * across ffmpeg runs, so a zap looks like a cut in one continuous stream.
 *
 * Everything it owns (two UDP sockets) closes with close() or its owner's signal.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { createSocket, Socket } from 'node:dgram';
import { SRTP_AUTH_TAG_BYTES } from '../settings';

/** Session keys of one direction, derived from HomeKit's master key and salt. */
interface SessionKeys {
  encrypt: Buffer;
  auth: Buffer;
  salt: Buffer;
}

/** RFC 3711 4.3.1 key derivation (key derivation rate 0): AES-CM over the salt XOR the label. */
function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, 14);
  // key_id = label || r (48 bits, 0 here) sits in the low 7 bytes of the 112-bit salt.
  iv[7] ^= label;
  const cipher = createCipheriv('aes-128-ctr', masterKey, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

function sessionKeys(masterKey: Buffer, masterSalt: Buffer, rtcp: boolean): SessionKeys {
  const base = rtcp ? 3 : 0;
  return {
    encrypt: deriveKey(masterKey, masterSalt, base, 16),
    auth: deriveKey(masterKey, masterSalt, base + 1, 20),
    salt: deriveKey(masterKey, masterSalt, base + 2, 14),
  };
}

/** The AES-CM counter block: salt XOR SSRC·2^64 XOR index·2^16 (RFC 3711 4.1.1). */
function counterBlock(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0, 0, 14);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  // The index has 48 bits: the high 16 and the low 32 apart (JavaScript's bit operators take 32).
  const high = Math.floor(index / 2 ** 32);
  const low = index % 2 ** 32;
  iv.writeUInt16BE(iv.readUInt16BE(8) ^ high, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ low) >>> 0, 10);
  return iv;
}

function aesCm(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function tag(key: Buffer, ...parts: Buffer[]): Buffer {
  const hmac = createHmac('sha1', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest().subarray(0, SRTP_AUTH_TAG_BYTES);
}

/** Length of an RTP header with its CSRCs and extension; 0 when the packet is too short for it. */
function rtpHeaderLength(packet: Buffer): number {
  if (packet.length < 12) return 0;
  let length = 12 + 4 * (packet[0] & 0x0f);
  if (packet[0] & 0x10) {
    if (packet.length < length + 4) return 0;
    length += 4 + 4 * packet.readUInt16BE(length + 2);
  }
  return packet.length >= length ? length : 0;
}

/** SRTP for one stream (one SSRC), sender side; the packet and SRTCP indexes it keeps are its own. */
export class SrtpSender {
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private rtcpIndex = 0;

  constructor(masterKey: Buffer, masterSalt: Buffer) {
    if (masterKey.length !== 16 || masterSalt.length !== 14) throw new RangeError('SRTP needs a 16-byte master key and a 14-byte master salt');
    this.rtp = sessionKeys(masterKey, masterSalt, false);
    this.rtcp = sessionKeys(masterKey, masterSalt, true);
  }

  /** Encrypts and authenticates an RTP packet whose 48-bit index (ROC·2^16 + SEQ) is `index`. */
  protectRtp(packet: Buffer, index: number): Buffer | undefined {
    const headerLength = rtpHeaderLength(packet);
    if (headerLength === 0) return undefined;
    const ssrc = packet.readUInt32BE(8);
    const payload = aesCm(this.rtp.encrypt, counterBlock(this.rtp.salt, ssrc, index), packet.subarray(headerLength));
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE(Math.floor(index / 65536) >>> 0);
    const body = Buffer.concat([packet.subarray(0, headerLength), payload]);
    return Buffer.concat([body, tag(this.rtp.auth, body, roc)]);
  }

  /** Encrypts and authenticates an RTCP compound packet (SRTCP, its own 31-bit index). */
  protectRtcp(packet: Buffer): Buffer | undefined {
    if (packet.length < 8) return undefined;
    const index = this.rtcpIndex;
    this.rtcpIndex = (this.rtcpIndex + 1) % 2 ** 31;
    const ssrc = packet.readUInt32BE(4);
    const encrypted = aesCm(this.rtcp.encrypt, counterBlock(this.rtcp.salt, ssrc, index), packet.subarray(8));
    const trailer = Buffer.alloc(4);
    // The E flag: the packet is encrypted.
    trailer.writeUInt32BE((0x80000000 | index) >>> 0);
    const body = Buffer.concat([packet.subarray(0, 8), encrypted, trailer]);
    return Buffer.concat([body, tag(this.rtcp.auth, body)]);
  }
}

export interface RtpRelayOptions {
  /** Where the viewer receives this stream. */
  address: string;
  ipv6: boolean;
  port: number;
  srtpKey: Buffer;
  srtpSalt: Buffer;
  /** RTP clock of the stream, in Hz (90000 for video; Opus 48000; AAC the sample rate). */
  clockRate: number;
  /** Every packet from ffmpeg (a watchdog learns that output flows). */
  onPacket?: () => void;
  /** A socket failed: the view cannot go on. Called at most once. */
  onError?: (error: Error) => void;
  signal: AbortSignal;
}

/** RTCP packet types 200-204 (SR, RR, SDES, BYE, APP) in the second byte, as RFC 5761 tells them apart. */
function isRtcp(packet: Buffer): boolean {
  return packet.length >= 2 && packet[1] >= 200 && packet[1] <= 204;
}

/**
 * One stream of one viewer: a loopback port for ffmpeg, SRTP on the way out, and sequence numbers
 * and RTP timestamps made continuous over ffmpeg runs (newRun() marks where one begins).
 */
export class RtpRelay {
  private readonly input: Socket;
  private readonly output: Socket;
  private readonly srtp: SrtpSender;
  /** Packets sent so far: the next one's SRTP index, whose low 16 bits are its sequence number. */
  private index = 0;
  /** Offset from this run's ffmpeg timestamps to the viewer's; undefined until its first packet. */
  private timestampOffset: number | undefined;
  private lastTimestamp: number | undefined;
  private lastSentAt = 0;
  private closed = false;
  private failed = false;
  private bound: Promise<number> | undefined;
  private readonly onAbort = (): void => this.close();

  constructor(private readonly options: RtpRelayOptions) {
    this.srtp = new SrtpSender(options.srtpKey, options.srtpSalt);
    this.input = createSocket('udp4');
    this.output = createSocket(options.ipv6 ? 'udp6' : 'udp4');
    this.input.on('message', (packet: Buffer) => this.relay(packet));
    for (const socket of [this.input, this.output]) socket.on('error', (error) => this.fail(error));
    if (options.signal.aborted) this.close();
    else options.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Binds the loopback port ffmpeg sends to; resolves with it. */
  open(): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the live view ended before it started'));
    this.bound ??= new Promise<number>((resolve, reject) => {
      this.input.once('error', reject);
      this.input.bind(0, '127.0.0.1', () => {
        this.input.off('error', reject);
        resolve(this.input.address().port);
      });
    });
    return this.bound;
  }

  /** The next packet starts a new ffmpeg run: its timestamps are moved to follow the last ones sent. */
  newRun(): void {
    this.timestampOffset = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.signal.removeEventListener('abort', this.onAbort);
    for (const socket of [this.input, this.output]) {
      try {
        socket.close();
      } catch {
        // Not bound yet, or closed already.
      }
    }
  }

  private relay(packet: Buffer): void {
    if (this.closed) return;
    this.options.onPacket?.();
    if (isRtcp(packet)) return this.relayRtcp(packet);
    if (rtpHeaderLength(packet) === 0 || packet[0] >> 6 !== 2) return;
    const now = Date.now();
    const timestamp = packet.readUInt32BE(4);
    if (this.timestampOffset === undefined) {
      // The new run continues the RTP clock from the last packet sent, plus the time since it.
      const next = this.lastTimestamp === undefined ? timestamp : this.lastTimestamp + Math.round(((now - this.lastSentAt) * this.options.clockRate) / 1000);
      this.timestampOffset = (next - timestamp) >>> 0;
    }
    const out = Buffer.from(packet);
    const rewritten = (timestamp + this.timestampOffset) >>> 0;
    out.writeUInt32BE(rewritten, 4);
    out.writeUInt16BE(this.index % 65536, 2);
    const protectedPacket = this.srtp.protectRtp(out, this.index);
    this.index++;
    this.lastTimestamp = rewritten;
    this.lastSentAt = now;
    if (protectedPacket) this.send(protectedPacket);
  }

  private relayRtcp(packet: Buffer): void {
    // A sender report carries an RTP timestamp: it must match the rewritten clock, so it waits for the run's first packet.
    if (this.timestampOffset === undefined) return;
    const out = Buffer.from(packet);
    if (out[1] === 200 && out.length >= 20) out.writeUInt32BE((out.readUInt32BE(16) + this.timestampOffset) >>> 0, 16);
    const protectedPacket = this.srtp.protectRtcp(out);
    if (protectedPacket) this.send(protectedPacket);
  }

  private send(packet: Buffer): void {
    this.output.send(packet, this.options.port, this.options.address, (error) => {
      // One lost datagram is what UDP does; a socket that cannot send at all fails the view.
      if (error && (error as NodeJS.ErrnoException).code !== 'ENOBUFS') this.fail(error);
    });
  }

  private fail(error: Error): void {
    if (this.closed || this.failed) return;
    this.failed = true;
    this.options.onError?.(error);
  }
}
