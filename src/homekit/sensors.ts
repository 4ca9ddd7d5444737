/**
 * The sensors of one receiver, for HomeKit automations (a TV accessory cannot trigger any): one
 * bridged accessory "<receiver> Sensors" holding a service per chosen sensor, each a ContactSensor or
 * an OccupancySensor (`sensors.type`):
 * - Recording: the box records (the monitor's `recording`); Not Responding while it is unreachable
 *   (not merely asleep in deep standby, where it records nothing).
 * - Streaming: someone watches through this plugin's proxy (a session of the receiver has clients);
 *   known without the box, so it never shows Not Responding.
 * - Power: the box is on. An unreachable box counts as off: in deep standby it is off the network,
 *   and "when the receiver turns off" must fire for that too.
 * "Active" is contact NOT detected (the sensor "opens" when recording, streaming or power starts)
 * or occupancy detected.
 */
import type { API, Characteristic, PlatformAccessory, Service } from 'homebridge';
import type { SensorsConfig } from '../config/types';
import type { Logger } from '../logger';
import type { ReceiverState } from '../receiver/monitor';
import type { Receiver } from '../receiver/receiver';
import type { SessionManager } from '../stream/sessions';
import { HomeKitCommands, push, showable } from './commands';
import { cleanName } from './names';

export type SensorKind = 'recording' | 'streaming' | 'power';
export const SENSOR_KINDS: readonly SensorKind[] = ['recording', 'streaming', 'power'];
const LABELS: Record<SensorKind, string> = { recording: 'Recording', streaming: 'Streaming', power: 'Power' };

/** The sensors switched on in the config, in a fixed order. */
export function chosenSensors(config: SensorsConfig): SensorKind[] {
  return SENSOR_KINDS.filter((kind) => config[kind]);
}

/** True while any proxy session of the receiver has a client. */
export function anyViewers(sessions: Pick<SessionManager, 'list'> | undefined): boolean {
  return sessions?.list().some((s) => s.clientCount > 0) ?? false;
}

/** The events after which the viewer count may have changed. */
const SESSION_EVENTS = ['client-joined', 'client-left', 'session-started', 'session-stopped'] as const;

export class Sensors {
  private readonly commands: HomeKitCommands;
  private readonly services = new Map<SensorKind, Service>();
  private readonly onSessions = (): void => this.pushStreaming();

  constructor(
    private readonly api: API,
    log: Logger,
    private readonly runtime: Receiver,
    accessory: PlatformAccessory,
    private readonly sessions: SessionManager | undefined,
  ) {
    const { hap } = api;
    this.commands = new HomeKitCommands(hap, log, runtime);
    const config = runtime.config.sensors;
    const type = config.type === 'occupancy' ? hap.Service.OccupancySensor : hap.Service.ContactSensor;
    const wanted = chosenSensors(config);
    // Services of sensors turned off, or of the other type, go: the Home app would show them forever.
    for (const service of [...accessory.services]) {
      const isSensor = service.UUID === hap.Service.ContactSensor.UUID || service.UUID === hap.Service.OccupancySensor.UUID;
      if (isSensor && (service.UUID !== type.UUID || !wanted.includes(service.subtype as SensorKind))) accessory.removeService(service);
    }
    for (const kind of wanted) {
      const name = cleanName(`${runtime.name} ${LABELS[kind]}`, LABELS[kind]);
      const service = accessory.getServiceById(type, kind) ?? accessory.addService(new type(name, kind));
      service.updateCharacteristic(hap.Characteristic.Name, name);
      // Several services on one accessory: the Home app (iOS 16+) names each by ConfiguredName.
      service.addOptionalCharacteristic(hap.Characteristic.ConfiguredName);
      service.updateCharacteristic(hap.Characteristic.ConfiguredName, name);
      this.state(service).onGet(() => this.read(kind));
      this.services.set(kind, service);
    }
    if (this.services.has('streaming') && sessions) for (const event of SESSION_EVENTS) sessions.on(event, this.onSessions);
    this.applyState(runtime.monitor.state);
    this.pushStreaming();
  }

  /** Pushes the box's sensors (Recording, Power) after a state change. */
  applyState(state: ReceiverState): void {
    const recording = this.services.get('recording');
    if (recording) {
      if (!showable(state)) this.state(recording).updateValue(this.commands.notResponding());
      else push(this.state(recording), this.value(state.recording));
    }
    const power = this.services.get('power');
    if (power) push(this.state(power), this.value(state.reachable && state.power === 'on'));
  }

  /** Detaches from the proxy's sessions. */
  stop(): void {
    for (const event of SESSION_EVENTS) this.sessions?.off(event, this.onSessions);
  }

  private pushStreaming(): void {
    const service = this.services.get('streaming');
    if (!service) return;
    try {
      push(this.state(service), this.value(anyViewers(this.sessions)));
    } catch {
      // Called from the proxy's events, which must never see an exception; the next event retries.
    }
  }

  private read(kind: SensorKind): number {
    if (kind === 'streaming') return this.value(anyViewers(this.sessions));
    const state = this.runtime.monitor.state;
    if (kind === 'power') return this.value(state.reachable && state.power === 'on');
    return this.value(this.commands.readable(state).recording);
  }

  /** The sensor's HAP value for "active" (recording, streaming, on) or not. */
  private value(active: boolean): number {
    const C = this.api.hap.Characteristic;
    if (this.runtime.config.sensors.type === 'occupancy') return active ? C.OccupancyDetected.OCCUPANCY_DETECTED : C.OccupancyDetected.OCCUPANCY_NOT_DETECTED;
    return active ? C.ContactSensorState.CONTACT_NOT_DETECTED : C.ContactSensorState.CONTACT_DETECTED;
  }

  private state(service: Service): Characteristic {
    const C = this.api.hap.Characteristic;
    return service.getCharacteristic(service.UUID === this.api.hap.Service.OccupancySensor.UUID ? C.OccupancyDetected : C.ContactSensorState);
  }
}
