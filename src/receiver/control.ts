/**
 * Commands to one receiver, with the box's quirks handled in one place for HomeKit and MQTT alike:
 * zap does not wake a box in standby (wake, wait until it reports on, then zap), `powerstate`
 * answers the state before the change (so every command re-polls through the monitor), and mute
 * is a toggle on the box (so "set mute" toggles only when needed).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '../logger';
import { WAKE_CONFIRM_POLL_MS, WAKE_CONFIRM_TIMEOUT_MS } from '../settings';
import { OpenWebIfClient } from './client';
import { ReceiverMonitor, ReceiverState } from './monitor';
import { parseServiceRef, ServiceRef } from './service-ref';

type Client = Pick<OpenWebIfClient, 'power' | 'zap' | 'volumeSet' | 'volumeUp' | 'volumeDown' | 'toggleMute' | 'remoteKey' | 'label'>;

export class ReceiverControl {
  /** `signal`: the owner's stop; a wait for the box to wake ends with it. */
  constructor(
    private readonly client: Client,
    private readonly monitor: Pick<ReceiverMonitor, 'refresh' | 'state'>,
    private readonly log: Logger,
    private readonly signal?: AbortSignal,
  ) {}

  /** On = wake from standby, off = standby. Resolves with the state polled afterwards. */
  async setPower(on: boolean): Promise<ReceiverState> {
    await this.client.power(on ? 'wake' : 'standby');
    return this.monitor.refresh();
  }

  async togglePower(): Promise<ReceiverState> {
    await this.client.power('toggle');
    return this.monitor.refresh();
  }

  /** Deep standby: the box drops off the network until woken by its remote or Wake-on-LAN. */
  async deepStandby(): Promise<ReceiverState> {
    this.log.info(`Sending ${this.client.label} to deep standby; it will not answer until woken by its remote.`);
    await this.client.power('deepStandby');
    return this.monitor.refresh();
  }

  async reboot(): Promise<ReceiverState> {
    await this.client.power('reboot');
    return this.monitor.refresh();
  }

  /** Tunes a channel, waking the box first when it is in standby. */
  async zap(ref: ServiceRef | string): Promise<ReceiverState> {
    const target = typeof ref === 'string' ? parseServiceRef(ref) : ref;
    let state = await this.monitor.refresh();
    if (state.power !== 'on') {
      await this.client.power('wake');
      state = await this.waitUntilOn();
    }
    await this.client.zap(target);
    return this.monitor.refresh();
  }

  async setVolume(level: number): Promise<ReceiverState> {
    await this.client.volumeSet(Math.round(Math.min(100, Math.max(0, level))));
    return this.monitor.refresh();
  }

  async volumeUp(): Promise<ReceiverState> {
    await this.client.volumeUp();
    return this.monitor.refresh();
  }

  async volumeDown(): Promise<ReceiverState> {
    await this.client.volumeDown();
    return this.monitor.refresh();
  }

  async setMute(muted: boolean): Promise<ReceiverState> {
    const state = await this.monitor.refresh();
    if (state.muted !== muted) await this.client.toggleMute();
    return this.monitor.refresh();
  }

  /** A remote control key (Linux key code, see keys.ts). */
  async key(code: number): Promise<ReceiverState> {
    await this.client.remoteKey(code);
    return this.monitor.refresh();
  }

  private async waitUntilOn(): Promise<ReceiverState> {
    const deadline = Date.now() + WAKE_CONFIRM_TIMEOUT_MS;
    for (;;) {
      const state = await this.monitor.refresh();
      if (state.power === 'on') return state;
      if (this.signal?.aborted) throw new Error(`stopped while waiting for ${this.client.label} to wake up`);
      if (Date.now() > deadline) {
        throw new Error(`${this.client.label} did not wake up within ${WAKE_CONFIRM_TIMEOUT_MS / 1000} s`);
      }
      await sleep(WAKE_CONFIRM_POLL_MS, undefined, { signal: this.signal }).catch(() => undefined);
    }
  }
}
