/**
 * One Home app live view of a receiver's camera, from HAP's "prepare" to its end: the SSRCs chosen
 * for it, the SRTP keys the Home app sent (kept: the accessory encrypts with the controller's keys),
 * the local address the Home app is to expect packets from, and two UDP ports that take the Home
 * app's RTCP reports (HAP wants a port per stream; reports that stop mean the viewer has gone).
 * Also turns the prepared session and HAP's selected parameters into the feed's LiveViewRequest.
 */
import { randomInt } from 'node:crypto';
import { createSocket, Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { AudioInfo, PrepareStreamRequest, PrepareStreamResponse, VideoInfo } from 'homebridge';
import type { LiveView, LiveViewRequest } from '../stream/camera-feed';

/** SRTP master key and salt lengths of AES_CM_128_HMAC_SHA1_80, in bytes. */
const SRTP_KEY_BYTES = 16;
const SRTP_SALT_BYTES = 14;

export class CameraSession {
  readonly videoSsrc: number;
  readonly audioSsrc: number;
  /** The running view, once started. */
  view: LiveView | undefined;
  /** Set once the session is over: a start that finishes after it stops its view at once. */
  ended = false;
  private readonly sockets: Socket[] = [];
  private silence: NodeJS.Timeout | undefined;
  private silenceMs = 0;
  private gone: (() => void) | undefined;

  private constructor(readonly id: string, readonly request: PrepareStreamRequest) {
    this.videoSsrc = ssrc();
    do this.audioSsrc = ssrc(); while (this.audioSsrc === this.videoSsrc);
  }

  /**
   * Binds the RTCP ports and finds the local address; rejects with a sentence for a request this
   * camera cannot serve (another SRTP suite than the one offered).
   */
  static async prepare(request: PrepareStreamRequest): Promise<CameraSession> {
    for (const [kind, source] of [['video', request.video], ['audio', request.audio]] as const) {
      if (source.srtp_key?.length !== SRTP_KEY_BYTES || source.srtp_salt?.length !== SRTP_SALT_BYTES) {
        throw new Error(`the Home app asked for ${kind} without the AES_CM_128_HMAC_SHA1_80 keys this camera offers`);
      }
    }
    const session = new CameraSession(request.sessionID, request);
    try {
      await session.bind();
    } catch (error) {
      session.close();
      throw error;
    }
    return session;
  }

  /** What HAP answers the Home app: our address, RTCP ports and SSRCs, and its own SRTP keys back. */
  async response(): Promise<PrepareStreamResponse> {
    const { request } = this;
    const [video, audio] = this.sockets.map((s) => s.address().port);
    const local = await localAddressFor(request.targetAddress, request.addressVersion === 'ipv6');
    return {
      // HAP-NodeJS would answer the address of the interface the HAP connection came in on; the
      // route's source address is what the Home app will really see packets from. Same family
      // only: HAP refuses a mismatch.
      ...(local !== undefined && familyOf(local) === request.addressVersion ? { addressOverride: local } : {}),
      video: { port: video, ssrc: this.videoSsrc, srtp_key: request.video.srtp_key, srtp_salt: request.video.srtp_salt },
      audio: { port: audio, ssrc: this.audioSsrc, srtp_key: request.audio.srtp_key, srtp_salt: request.audio.srtp_salt },
    };
  }

  /** The feed's request for the parameters the Home app selected. */
  liveViewRequest(video: VideoInfo, audio: AudioInfo): LiveViewRequest {
    const { request } = this;
    return {
      target: { address: request.targetAddress, ipv6: request.addressVersion === 'ipv6', videoPort: request.video.port, audioPort: request.audio.port },
      video: {
        width: video.width, height: video.height, fps: video.fps, maxBitrateKbps: video.max_bit_rate, payloadType: video.pt,
        ssrc: this.videoSsrc, srtpKey: request.video.srtp_key, srtpSalt: request.video.srtp_salt, mtu: video.mtu,
      },
      audio: {
        // Only AAC-ELD and Opus are offered (camera-options.ts); anything else was HAP-NodeJS's
        // stand-in Opus of a video-only camera.
        codec: String(audio.codec) === 'AAC-eld' ? 'AAC-eld' : 'OPUS',
        sampleRateKhz: Number(audio.sample_rate), channels: audio.channel, maxBitrateKbps: audio.max_bit_rate, payloadType: audio.pt,
        ssrc: this.audioSsrc, srtpKey: request.audio.srtp_key, srtpSalt: request.audio.srtp_salt, packetTimeMs: audio.packet_time,
      },
    };
  }

  /**
   * Calls `gone` once the Home app's RTCP reports stopped for `silenceMs`. Armed by the first
   * report only: a Home app whose reports never reach us (a firewall) must not lose its picture.
   */
  watchViewer(silenceMs: number, gone: () => void): void {
    this.silenceMs = silenceMs;
    this.gone = gone;
  }

  /** Closes the RTCP ports and the silence timer (the view is stopped by its owner). */
  close(): void {
    this.ended = true;
    clearTimeout(this.silence);
    for (const socket of this.sockets.splice(0)) {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
    }
  }

  /** A report from the Home app: the viewer is there; the silence timer starts over. */
  private heard(): void {
    if (this.ended || !this.gone) return;
    clearTimeout(this.silence);
    const gone = this.gone;
    this.silence = setTimeout(() => {
      if (!this.ended) gone();
    }, this.silenceMs);
    this.silence.unref();
  }

  private async bind(): Promise<void> {
    const ipv6 = this.request.addressVersion === 'ipv6';
    for (let i = 0; i < 2; i++) {
      const socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4' });
      // A stray datagram error must not reach Node's unhandled 'error' (it would end Homebridge).
      socket.on('error', () => undefined);
      socket.on('message', () => this.heard());
      this.sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    }
  }
}

/** An SSRC: random, non-zero, below 2^31 (ffmpeg's -ssrc is a signed 32-bit option). */
function ssrc(): number {
  return randomInt(1, 2 ** 31);
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/**
 * The address this host sends from to reach `target`, as the kernel's routing picks it (a UDP
 * "connect" sends nothing): 127.0.0.1 for a loopback target. Undefined when there is no route.
 */
export function localAddressFor(target: string, ipv6: boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4' });
    const done = (address: string | undefined): void => {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
      resolve(address);
    };
    socket.on('error', () => done(undefined));
    try {
      // Port 9 (discard): any port would do, nothing is sent.
      socket.connect(9, target, () => {
        try {
          done(socket.address().address);
        } catch {
          done(undefined);
        }
      });
    } catch {
      done(undefined);
    }
  });
}
