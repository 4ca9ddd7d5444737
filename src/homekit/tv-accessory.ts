/**
 * One receiver as a HomeKit TV (an external accessory, so the iOS Remote can drive it): Television
 * (power, channel, name, remote keys), an InputSource per bouquet channel and a TelevisionSpeaker.
 * Reads answer from the monitor's last state; writes go through the receiver's control (power on
 * wakes from deep standby too, power off obeys the standby guard); the monitor's state events push
 * changed values. Renamed and hidden inputs persist in an InputStore.
 */
import type { API, CharacteristicValue, PlatformAccessory, Service } from 'homebridge';
import { Logger } from '../logger';
import { LogOnce } from '../retry';
import type { ReceiverState } from '../receiver/monitor';
import type { Receiver } from '../receiver/receiver';
import type { DeviceInfo } from '../receiver/types';
import { HOMEKIT_TV_MAX_INPUTS, PLUGIN_NAME } from '../settings';
import type { Channel } from '../receiver/channels';
import { HomeKitCommands, push, showable } from './commands';
import { setDeviceInformation } from './device-info';
import { InputStore } from './input-store';
import { describeLeftOut, displayOrder, identifierOf, PlannedChannel, planChannels } from './inputs';
import { cleanName } from './names';
import { enigma2KeyFor } from './remote-keys';

/** The TV's UUID seed: the box's identity (MAC, else host), so pairing survives restarts and renames. */
export function tvUuidSeed(identity: string): string {
  return `${PLUGIN_NAME}:tv:${identity}`;
}

interface Input {
  channel: PlannedChannel;
  service: Service;
}

export class TvAccessory {
  readonly accessory: PlatformAccessory;
  private readonly tv: Service;
  private readonly speaker: Service;
  private readonly inputs = new Map<number, Input>();
  private readonly commands: HomeKitCommands;
  private readonly name: string;
  private readonly cutWarning: LogOnce;

  constructor(
    private readonly api: API,
    private readonly log: Logger,
    private readonly runtime: Receiver,
    private readonly store: InputStore,
    device: DeviceInfo,
  ) {
    const { hap } = api;
    const C = hap.Characteristic;
    this.commands = new HomeKitCommands(hap, log, runtime);
    this.cutWarning = new LogOnce((line) => log.warn(line));
    this.name = cleanName(runtime.name, 'Receiver');
    this.accessory = new api.platformAccessory(this.name, hap.uuid.generate(tvUuidSeed(device.identity)), hap.Categories.TV_SET_TOP_BOX);
    setDeviceInformation(hap, this.accessory, device, device.model, device.mac ?? device.identity);

    this.tv = this.accessory.addService(hap.Service.Television, this.name);
    this.tv.setCharacteristic(C.ConfiguredName, store.tvName ?? this.name);
    this.tv.setCharacteristic(C.SleepDiscoveryMode, C.SleepDiscoveryMode.ALWAYS_DISCOVERABLE);
    this.tv.getCharacteristic(C.ConfiguredName).onSet((value) => store.setTvName(String(value)));
    this.tv.getCharacteristic(C.Active)
      .onGet(() => this.active(this.read()))
      .onSet((value) => this.setPower(value === C.Active.ACTIVE));
    this.tv.getCharacteristic(C.ActiveIdentifier)
      .onGet(() => this.activeIdentifier(this.read()))
      .onSet((value) => this.zap(value));
    this.tv.getCharacteristic(C.RemoteKey).onSet((value) => this.remoteKey(value));

    this.speaker = this.accessory.addService(hap.Service.TelevisionSpeaker, `${this.name} Speaker`);
    this.speaker
      .setCharacteristic(C.Active, C.Active.ACTIVE)
      .setCharacteristic(C.VolumeControlType, C.VolumeControlType.ABSOLUTE);
    this.speaker.getCharacteristic(C.Mute)
      .onGet(() => this.read().muted)
      .onSet((value) => this.commands.run(`${value ? 'Muting' : 'Unmuting'} ${this.name}`, () => runtime.control.setMute(Boolean(value))));
    this.speaker.getCharacteristic(C.Volume)
      .onGet(() => this.read().volume)
      .onSet((value) => this.commands.run(`Setting the volume of ${this.name}`, () => runtime.control.setVolume(Number(value))));
    this.speaker.getCharacteristic(C.VolumeSelector).onSet((value) => this.commands.run(`Changing the volume of ${this.name}`,
      () => (value === C.VolumeSelector.INCREMENT ? runtime.control.volumeUp() : runtime.control.volumeDown())));
    this.tv.addLinkedService(this.speaker);

    this.syncInputs(runtime.channels().all);
    this.applyState(runtime.monitor.state);
  }

  /** Inputs for the channels, in bouquet order: new ones added, gone ones removed, the rest kept. */
  syncInputs(channels: readonly Channel[]): void {
    const { hap } = this.api;
    const C = hap.Characteristic;
    const plan = planChannels(channels, HOMEKIT_TV_MAX_INPUTS);
    const cut = plan.left.length > 0
      ? `${this.name}: HomeKit shows at most ${HOMEKIT_TV_MAX_INPUTS} inputs on a TV; left out ${plan.left.length} channel(s): ${describeLeftOut(plan.left)}. They stay available as channel accessories and streams.`
      : '';
    if (cut !== '') this.cutWarning.say(cut);
    else this.cutWarning.clear();

    const wanted = new Set(plan.kept.map((c) => c.identifier));
    for (const [identifier, input] of this.inputs) {
      if (wanted.has(identifier)) continue;
      this.tv.removeLinkedService(input.service);
      this.accessory.removeService(input.service);
      this.inputs.delete(identifier);
    }
    for (const channel of plan.kept) {
      const existing = this.inputs.get(channel.identifier);
      if (existing) {
        existing.channel = channel;
        existing.service.updateCharacteristic(C.Name, channel.name);
        continue;
      }
      const choice = this.store.input(channel.ref.ref);
      const service = this.accessory.addService(hap.Service.InputSource, channel.name, `input-${channel.identifier}`);
      const visibility = choice.hidden ? C.CurrentVisibilityState.HIDDEN : C.CurrentVisibilityState.SHOWN;
      service
        .setCharacteristic(C.Identifier, channel.identifier)
        .setCharacteristic(C.ConfiguredName, choice.name ?? channel.name)
        .setCharacteristic(C.IsConfigured, C.IsConfigured.CONFIGURED)
        .setCharacteristic(C.InputSourceType, C.InputSourceType.TUNER)
        .setCharacteristic(C.InputDeviceType, C.InputDeviceType.TV)
        .setCharacteristic(C.CurrentVisibilityState, visibility)
        .setCharacteristic(C.TargetVisibilityState, visibility);
      const ref = channel.ref.ref;
      service.getCharacteristic(C.ConfiguredName).onSet((value) => this.store.setInputName(ref, String(value)));
      service.getCharacteristic(C.TargetVisibilityState).onSet((value) => {
        const hidden = value === C.TargetVisibilityState.HIDDEN;
        this.store.setHidden(ref, hidden);
        service.updateCharacteristic(C.CurrentVisibilityState, hidden ? C.CurrentVisibilityState.HIDDEN : C.CurrentVisibilityState.SHOWN);
      });
      this.tv.addLinkedService(service);
      this.inputs.set(channel.identifier, { channel, service });
    }
    push(this.tv.getCharacteristic(C.DisplayOrder), displayOrder(plan.kept.map((c) => c.identifier)));
  }

  /** Pushes what changed; while the box is unreachable the Home app shows "Not Responding". */
  applyState(state: ReceiverState): void {
    const C = this.api.hap.Characteristic;
    const active = this.tv.getCharacteristic(C.Active);
    if (!showable(state)) {
      active.updateValue(this.commands.notResponding());
      return;
    }
    push(active, this.active(state));
    push(this.tv.getCharacteristic(C.ActiveIdentifier), this.activeIdentifier(state));
    push(this.speaker.getCharacteristic(C.Mute), state.muted);
    push(this.speaker.getCharacteristic(C.Volume), state.volume);
  }

  /** The TV's name as the Home app shows it (renamed there, else the receiver's). */
  get homeName(): string {
    return this.store.tvName ?? this.name;
  }

  /** Identifiers of the current inputs, in order (for tests and logs). */
  identifiers(): number[] {
    return [...this.inputs.keys()];
  }

  /** On while the box is on, and while a power-on wakes it from deep standby (HomeKit has no "turning on"). */
  private active(state: ReceiverState): number {
    const C = this.api.hap.Characteristic;
    return state.power === 'on' || state.waking ? C.Active.ACTIVE : C.Active.INACTIVE;
  }

  private read(): ReceiverState {
    return this.commands.readable(this.runtime.monitor.state);
  }

  /** The tuned channel's input, or 0 (HomeKit's "none") in standby or on a channel outside the bouquets. */
  private activeIdentifier(state: ReceiverState): number {
    const id = state.power === 'on' ? identifierOf(state.channel?.ref) : 0;
    return this.inputs.has(id) ? id : 0;
  }

  private async zap(value: CharacteristicValue): Promise<void> {
    const input = this.inputs.get(Number(value));
    if (!input) {
      this.log.warn(`${this.name}: HomeKit asked for input ${String(value)}, which is not a channel of the configured bouquets.`);
      throw new this.api.hap.HapStatusError(this.api.hap.HAPStatus.INVALID_VALUE_IN_REQUEST);
    }
    // A box in standby or deep standby (off the network) is woken onto the channel.
    await this.commands.run(`Tuning ${this.name} to ${input.channel.original}`, () => this.runtime.control.zap(input.channel.ref));
  }

  /**
   * On wakes the box, from deep standby too (Wake-on-LAN); off sends it to standby or deep standby
   * (offMode). The standby guard may refuse "off" while proxy viewers watch: HomeKit then gets an
   * error and the switch is pushed back to on.
   */
  private async setPower(on: boolean): Promise<void> {
    const { control } = this.runtime;
    await this.commands.run(`Turning ${this.name} ${on ? 'on' : 'off'}`, () => (on ? control.powerOn() : control.powerOff()),
      () => this.applyState(this.runtime.monitor.state));
  }

  private async remoteKey(value: CharacteristicValue): Promise<void> {
    const code = enigma2KeyFor(Number(value), this.runtime.config.infoKey);
    if (code === undefined) return;
    await this.commands.run(`Sending a remote key to ${this.name}`, () => this.runtime.control.key(code));
  }
}
