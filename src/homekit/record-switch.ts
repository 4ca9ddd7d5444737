/**
 * The "Record" switch of one receiver (a Switch on its own bridged accessory): on = the box records
 * (the monitor's `recording`, whatever started it), switching it on records the programme on screen
 * now, switching it off stops the running recording. Reads answer "Not Responding" while the box is
 * unreachable (not merely asleep); writes go through the receiver's control like every HomeKit command.
 */
import type { API, CharacteristicValue, Service } from 'homebridge';
import type { Logger } from '../logger';
import type { ReceiverState } from '../receiver/monitor';
import type { Receiver } from '../receiver/receiver';
import { HomeKitCommands, push, showable } from './commands';

export class RecordSwitch {
  private readonly commands: HomeKitCommands;

  constructor(private readonly api: API, log: Logger, private readonly runtime: Receiver, private readonly service: Service) {
    const C = api.hap.Characteristic;
    this.commands = new HomeKitCommands(api.hap, log, runtime);
    service.getCharacteristic(C.On)
      .onGet(() => this.commands.readable(runtime.monitor.state).recording)
      .onSet((value) => this.set(value));
    this.applyState(runtime.monitor.state);
  }

  applyState(state: ReceiverState): void {
    const on = this.service.getCharacteristic(this.api.hap.Characteristic.On);
    if (!showable(state)) on.updateValue(this.commands.notResponding());
    else push(on, state.recording);
  }

  private async set(value: CharacteristicValue): Promise<void> {
    const { control, monitor, name } = this.runtime;
    const record = Boolean(value);
    // A scene that sets "on" while the box already records must not start a second recording.
    if (showable(monitor.state) && monitor.state.recording === record) return;
    await this.commands.run(record ? `Recording on ${name}` : `Stopping the recording on ${name}`,
      () => (record ? control.recordNow() : control.stopRecording()),
      () => this.applyState(monitor.state));
  }
}
