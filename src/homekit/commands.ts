/**
 * Runs HomeKit reads and writes against one receiver without ever throwing anything but a
 * HapStatusError out of a handler: reads of an unreachable box answer "Not Responding", failed
 * writes are logged once (a failing box would otherwise repeat the same line every tap) and
 * reported to the Home app, and slow writes answer in time and finish in the background. A command
 * turned down on purpose (CommandRefused: standby while proxy viewers watch; or one the box's state
 * does not allow) answers "not allowed in the current state", which the Home app shows as a failed
 * tap without marking the accessory "No Response", and the characteristic is told its real value
 * again so the tile flips back.
 */
import type { Characteristic, CharacteristicValue, HAP } from 'homebridge';
import { Logger, sentences } from '../logger';
import { LogOnce } from '../retry';
import { CommandRefused, isReceiverError } from '../receiver/errors';
import type { ReceiverState } from '../receiver/monitor';
import { HOMEKIT_SET_WAIT_MS } from '../settings';

/**
 * One refusal log per receiver, shared by all its accessories: a tap on the TV and one on the Deep
 * Standby switch while the same viewer watches say it once, not once per accessory.
 */
const refusalLogs = new WeakMap<object, LogOnce>();

export class HomeKitCommands {
  private readonly failures: LogOnce;
  private readonly refusals: LogOnce;

  /** `receiver`: whose accessories share the refusal log (each instance has its own otherwise). */
  constructor(private readonly hap: HAP, log: Logger, receiver?: object) {
    this.failures = new LogOnce((line) => log.warn(line));
    let refusals = receiver ? refusalLogs.get(receiver) : undefined;
    if (!refusals) {
      refusals = new LogOnce((line) => log.warn(line));
      if (receiver) refusalLogs.set(receiver, refusals);
    }
    this.refusals = refusals;
  }

  /**
   * The error for a refused command. Not "Not Responding" (the box is fine) and not "busy" (HAP's
   * RESOURCE_BUSY means "try again", which would not help while someone watches).
   */
  refused(): Error {
    return new this.hap.HapStatusError(this.hap.HAPStatus.NOT_ALLOWED_IN_CURRENT_STATE);
  }

  /** The error HomeKit shows as "Not Responding". */
  notResponding(): Error {
    return new this.hap.HapStatusError(this.hap.HAPStatus.SERVICE_COMMUNICATION_FAILURE);
  }

  /** The state for a read; throws "Not Responding" while the box cannot be reached (see showable). */
  readable(state: ReceiverState): ReceiverState {
    if (!showable(state)) throw this.notResponding();
    return state;
  }

  /**
   * Runs a write. Resolves once it succeeded or after HOMEKIT_SET_WAIT_MS (it then finishes in the
   * background); rejects with "Not Responding" when it failed within that time, or with "not allowed
   * in the current state" when it was refused; then `revert` (given) runs once HAP has answered, to
   * push the characteristic's real value back to the Home app.
   */
  async run(what: string, command: () => Promise<unknown>, revert?: () => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const settled = Promise.resolve()
      .then(command)
      .then(() => {
        this.failures.clear();
        this.refusals.clear();
        return undefined;
      }, (error: unknown) => {
        if (error instanceof CommandRefused) this.refusals.say(refusalSentence(error));
        else this.failures.say(sentences(`${what} failed: ${error instanceof Error ? error.message : String(error)}`));
        return error;
      });
    const waited = new Promise<'slow'>((resolve) => {
      timer = setTimeout(() => resolve('slow'), HOMEKIT_SET_WAIT_MS);
    });
    const outcome = await Promise.race([settled, waited]);
    clearTimeout(timer);
    if (outcome === undefined || outcome === 'slow') return;
    if (declined(outcome)) {
      // After HAP has sent the error: a value pushed before it would be overtaken by the failed write.
      if (revert) setImmediate(() => guarded(revert));
      throw this.refused();
    }
    throw this.notResponding();
  }
}

/**
 * A command the box or the plugin turned down on purpose, while the box answers: refused by the
 * standby guard, not possible in the box's state (an instant recording in standby) or refused by the
 * box itself (a timer conflict). "Not Responding" would send the user looking for a network problem.
 */
function declined(error: unknown): boolean {
  return error instanceof CommandRefused || isReceiverError(error, 'invalid') || isReceiverError(error, 'rejected');
}

/**
 * Off the network after it was last seen in standby (or sent to deep standby from here): asleep,
 * most likely in deep standby (Enigma2 boxes go there by themselves after a while in standby). Shown
 * as off rather than "Not Responding", so the Home app offers to turn it on, which wakes it.
 */
export function asleep(state: ReceiverState): boolean {
  return !state.reachable && state.power === 'standby';
}

/**
 * True when HomeKit can show the box's state: it answers, it sleeps (asleep), or a power-on is
 * waking it. A box that vanished while on shows "Not Responding": something is wrong with it.
 */
export function showable(state: ReceiverState): boolean {
  return state.reachable || state.waking || asleep(state);
}

/**
 * The log line for a refusal, told for HomeKit: the receiver's own message names MQTT's OFF_FORCE,
 * which a Home app user cannot send.
 */
export function refusalSentence(error: CommandRefused): string {
  const who = error.viewers === 1 ? '1 viewer is' : `${error.viewers} viewers are`;
  const channels = error.channels.length > 0 ? ` ${error.channels.join(', ')}` : '';
  return `${error.receiver} stays on: ${who} watching${channels} through the stream proxy. Stop those streams first, `
    + 'or untick "Keep the box on while someone watches through the proxy" (standbyGuard) in the receiver\'s settings.';
}

/** Runs a callback from a timer without letting it throw into Node (it would stop Homebridge). */
function guarded(fn: () => void): void {
  try {
    fn();
  } catch {
    // Pushing a value back is a courtesy to the Home app; the next state event pushes it anyway.
  }
}

/**
 * updateValue only when the value differs from what HomeKit was last told, or when the
 * characteristic still reports "Not Responding" from an earlier outage.
 */
export function push(characteristic: Characteristic, value: CharacteristicValue): void {
  if (characteristic.value !== value || characteristic.statusCode !== 0) characteristic.updateValue(value);
}
