/**
 * Runs HomeKit reads and writes against one receiver without ever throwing anything but a
 * HapStatusError out of a handler: reads of an unreachable box answer "Not Responding", failed
 * writes are logged once (a failing box would otherwise repeat the same line every tap) and
 * reported to the Home app, and slow writes answer in time and finish in the background.
 */
import type { Characteristic, CharacteristicValue, HAP } from 'homebridge';
import { Logger, sentences } from '../logger';
import { LogOnce } from '../retry';
import type { ReceiverState } from '../receiver/monitor';
import { HOMEKIT_SET_WAIT_MS } from '../settings';

export class HomeKitCommands {
  private readonly failures: LogOnce;

  constructor(private readonly hap: HAP, log: Logger) {
    this.failures = new LogOnce((line) => log.warn(line));
  }

  /** The error HomeKit shows as "Not Responding". */
  notResponding(): Error {
    return new this.hap.HapStatusError(this.hap.HAPStatus.SERVICE_COMMUNICATION_FAILURE);
  }

  /** The state for a read; throws "Not Responding" while the box cannot be reached. */
  readable(state: ReceiverState): ReceiverState {
    if (!state.reachable) throw this.notResponding();
    return state;
  }

  /**
   * Runs a write. Resolves once it succeeded or after HOMEKIT_SET_WAIT_MS (it then finishes in the
   * background); rejects with "Not Responding" when it failed within that time.
   */
  async run(what: string, command: () => Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const settled = Promise.resolve()
      .then(command)
      .then(() => {
        this.failures.clear();
        return undefined;
      }, (error: unknown) => {
        this.failures.say(sentences(`${what} failed: ${error instanceof Error ? error.message : String(error)}`));
        return error;
      });
    const waited = new Promise<'slow'>((resolve) => {
      timer = setTimeout(() => resolve('slow'), HOMEKIT_SET_WAIT_MS);
    });
    const outcome = await Promise.race([settled, waited]);
    clearTimeout(timer);
    if (outcome !== undefined && outcome !== 'slow') throw this.notResponding();
  }
}

/**
 * updateValue only when the value differs from what HomeKit was last told, or when the
 * characteristic still reports "Not Responding" from an earlier outage.
 */
export function push(characteristic: Characteristic, value: CharacteristicValue): void {
  if (characteristic.value !== value || characteristic.statusCode !== 0) characteristic.updateValue(value);
}
