/**
 * Commands from MQTT (`<prefix>/<receiver>/<command>/set`): each payload is checked before anything
 * reaches the box, then carried out through the receiver's control object, like HomeKit's commands.
 * Never throws: the result is undefined on success or a sentence saying what was wrong, which the
 * bridge logs and publishes on the error topic.
 */
import { ReceiverControl } from '../receiver/control';
import { KeyError, parseKey } from '../receiver/keys';
import { ReceiverMonitor } from '../receiver/monitor';
import { MQTT_COMMAND_MAX_BYTES } from '../settings';
import { ChannelOptions } from './channel-options';
import { CommandName } from './topics';

export interface CommandTarget {
  control: Pick<ReceiverControl, 'setPower' | 'togglePower' | 'deepStandby' | 'reboot' | 'zap' | 'setVolume' | 'volumeUp' | 'volumeDown' | 'setMute' | 'key'>;
  monitor: Pick<ReceiverMonitor, 'refresh' | 'state'>;
  /** The configured bouquets' channels; undefined until loaded. */
  channels(): ChannelOptions | undefined;
  /** Reloads channels and device info (for refresh/set). */
  reload(): void;
}

const POWER_WORDS = ['ON', 'OFF', 'TOGGLE', 'DEEP_STANDBY', 'REBOOT'] as const;

class CommandError extends Error {}

/** User input quoted for a message: short, escaped, never a wall of bytes. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** The payload as trimmed text; a JSON string ("\"ON\"") is unwrapped. Rejects binary junk. */
export function payloadText(payload: Buffer): string {
  if (payload.length > MQTT_COMMAND_MAX_BYTES) throw new CommandError(`the payload is ${payload.length} bytes; commands are at most ${MQTT_COMMAND_MAX_BYTES}`);
  const text = payload.toString('utf8');
  // eslint-disable-next-line no-control-regex
  if (text.includes('\uFFFD') || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    throw new CommandError('the payload is not text');
  }
  let value = text.trim();
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') value = parsed.trim();
    } catch {
      // Not JSON after all: take the text as it is.
    }
  }
  return value;
}

function onOff(text: string, what: string): boolean | 'TOGGLE' {
  const word = text.toUpperCase();
  if (word === 'ON' || word === 'TRUE' || word === '1') return true;
  if (word === 'OFF' || word === 'FALSE' || word === '0') return false;
  if (word === 'TOGGLE') return 'TOGGLE';
  throw new CommandError(`${quote(text)} is not ON, OFF or TOGGLE for ${what}`);
}

async function execute(target: CommandTarget, command: CommandName, text: string): Promise<void> {
  const { control } = target;
  switch (command) {
    case 'power': {
      const word = text.toUpperCase().replace(/[\s-]+/g, '_');
      if (word === 'ON') await control.setPower(true);
      else if (word === 'OFF' || word === 'STANDBY') await control.setPower(false);
      else if (word === 'TOGGLE') await control.togglePower();
      else if (word === 'DEEP_STANDBY' || word === 'DEEPSTANDBY') await control.deepStandby();
      else if (word === 'REBOOT') await control.reboot();
      else throw new CommandError(`${quote(text)} is not one of ${POWER_WORDS.join(', ')}`);
      return;
    }
    case 'channel': {
      if (text === '') throw new CommandError('the payload is empty; send a channel name, service reference or short id');
      const channels = target.channels();
      if (!channels || channels.options.length === 0) throw new CommandError('the channel list is not loaded yet (is the receiver reachable?)');
      const channel = channels.find(text);
      if (!channel) throw new CommandError(`no channel ${quote(text)} in the configured bouquets`);
      await control.zap(channel.ref);
      return;
    }
    case 'volume': {
      const word = text.toUpperCase();
      if (word === 'UP' || word === '+') await control.volumeUp();
      else if (word === 'DOWN' || word === '-') await control.volumeDown();
      else {
        const level = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
        if (!(level >= 0 && level <= 100)) throw new CommandError(`${quote(text)} is not a volume from 0 to 100 (or UP, DOWN)`);
        await control.setVolume(level);
      }
      return;
    }
    case 'mute': {
      const want = onOff(text, 'mute');
      await control.setMute(want === 'TOGGLE' ? !target.monitor.state.muted : want);
      return;
    }
    case 'key': {
      let code: number;
      try {
        code = parseKey(text);
      } catch (error) {
        if (error instanceof KeyError) throw new CommandError(error.message);
        throw error;
      }
      await control.key(code);
      return;
    }
    case 'refresh':
      target.reload();
      await target.monitor.refresh();
      return;
  }
}

/** Runs one command; resolves to undefined on success, else a sentence for the log and the error topic. */
export async function runCommand(target: CommandTarget, command: CommandName, payload: Buffer): Promise<string | undefined> {
  try {
    await execute(target, command, payloadText(payload));
    return undefined;
  } catch (error) {
    const reason = error instanceof CommandError ? error.message : `the receiver did not do it: ${(error as Error).message}`;
    return `${command}/set ignored: ${reason}`;
  }
}
