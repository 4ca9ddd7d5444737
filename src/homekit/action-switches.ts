/**
 * Momentary switches of one receiver ("Deep Standby", "Reboot"), each a Switch on its own bridged
 * accessory: turning one on sends the command and the switch falls back to off after
 * HOMEKIT_MOMENTARY_RESET_MS (at once when the command failed or was refused), so it is ready for
 * the next tap or scene. Deep standby goes through the standby guard like every "off". The reset
 * timers belong to the switch and end with stop() (the platform's shutdown).
 */
import type { API, CharacteristicValue, Service } from 'homebridge';
import type { Logger } from '../logger';
import type { Receiver } from '../receiver/receiver';
import { HOMEKIT_MOMENTARY_RESET_MS } from '../settings';
import { HomeKitCommands } from './commands';

export type ActionRole = 'deepStandby' | 'reboot';

export class MomentarySwitch {
  private readonly commands: HomeKitCommands;
  private reset: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly api: API, log: Logger, private readonly runtime: Receiver, private readonly service: Service, private readonly role: ActionRole) {
    const C = api.hap.Characteristic;
    this.commands = new HomeKitCommands(api.hap, log, runtime);
    // Stateless: it reads off except during the moment after a tap.
    service.getCharacteristic(C.On)
      .onGet(() => this.reset !== undefined)
      .onSet((value) => this.set(value));
    service.updateCharacteristic(C.On, false);
  }

  /** Ends the pending reset (the platform is shutting down). */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private async set(value: CharacteristicValue): Promise<void> {
    if (!value || this.stopped) return;
    const { control, name } = this.runtime;
    const [what, command] = this.role === 'deepStandby'
      ? [`Sending ${name} to deep standby`, () => control.deepStandby()]
      : [`Rebooting ${name}`, () => control.reboot()];
    this.arm();
    try {
      await this.commands.run(what, command);
    } catch (error) {
      // Failed or refused: back to off at once, after HAP has sent the error (pushed before it, the
      // value would be overtaken by the failed write).
      setImmediate(() => this.off());
      throw error;
    }
  }

  private arm(): void {
    this.clear();
    this.reset = setTimeout(() => this.off(), HOMEKIT_MOMENTARY_RESET_MS);
  }

  private off(): void {
    this.clear();
    if (this.stopped) return;
    try {
      this.service.updateCharacteristic(this.api.hap.Characteristic.On, false);
    } catch {
      // Never throw from a timer; the next read answers off anyway.
    }
  }

  private clear(): void {
    if (this.reset) clearTimeout(this.reset);
    this.reset = undefined;
  }
}
