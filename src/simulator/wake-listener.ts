/**
 * The simulated box's network card in deep standby: a UDP socket that listens for Wake-on-LAN
 * magic packets (6 × 0xFF, then the box's MAC 16 times; a SecureOn password may follow). A packet
 * for its own MAC while the box is in deep standby boots it after a delay; packets for other MACs
 * are ignored, as a real card ignores them. Every packet seen is recorded for tests.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { macBytes } from '../receiver/wake';

export interface WakePacket {
  /** The MAC the packet was for (`aa:bb:…`), null when it was no magic packet. */
  mac: string | null;
  /** True when it was for this box (whatever its power state). */
  matched: boolean;
  at: number;
}

export interface WakeListenerOptions {
  host: string;
  port: number;
  /** The box's MAC as its deviceinfo reports it. */
  mac: string;
  /** Called for a matching packet; the caller decides what waking means in its state. */
  onWake(): void;
}

/** The MAC a magic packet is for, or null when the bytes are no magic packet. */
export function magicPacketMac(packet: Buffer): string | null {
  if (packet.length < 102 || !packet.subarray(0, 6).every((b) => b === 0xff)) return null;
  const mac = packet.subarray(6, 12);
  for (let i = 1; i < 16; i++) {
    if (!packet.subarray(6 + i * 6, 12 + i * 6).equals(mac)) return null;
  }
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export class WakeListener {
  readonly packets: WakePacket[] = [];
  private readonly socket: Socket;
  private readonly own: string;
  port = 0;

  constructor(private readonly o: WakeListenerOptions) {
    const bytes = macBytes(o.mac);
    if (!bytes) throw new Error(`simulator MAC "${o.mac}" is not a MAC address`);
    this.own = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
    this.socket = createSocket(isIP(o.host) === 6 ? 'udp6' : 'udp4');
    this.socket.on('message', (packet: Buffer) => {
      const mac = magicPacketMac(packet);
      const matched = mac === this.own;
      this.packets.push({ mac, matched, at: Date.now() });
      if (matched) o.onWake();
    });
    // A stray ICMP error must not crash the simulator.
    this.socket.on('error', () => undefined);
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(this.o.port, this.o.host, () => {
        this.socket.off('error', reject);
        this.port = this.socket.address().port;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}
