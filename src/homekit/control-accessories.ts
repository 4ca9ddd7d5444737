/**
 * The optional home-control accessories of each receiver, each its own accessory on the bridge:
 * "<receiver> Record" (record-switch.ts), "<receiver> Sensors" (sensors.ts), "<receiver> Deep
 * Standby" and "<receiver> Reboot" (action-switches.ts).
 *
 * Why bridged accessories and not services on the TV: the TV is an external accessory that must be
 * added by hand and may be turned off (`tvAccessory`), HomeKit apps other than Apple's cannot see a
 * TV accessory or anything on it, and the Home app tucks extra services of a TV away in its
 * settings. On the bridge they appear with it, in every app, for scenes and automations.
 *
 * Their UUIDs come from the box's identity (MAC, else host) and their role, so rooms, scenes and
 * automations survive restarts and renames. Accessories Homebridge cached are restored at start
 * (answering Not Responding until the box answers); missing ones are created once the box's identity
 * is known; ones turned off in the config, or of receivers no longer configured, are removed.
 */
import type { API, PlatformAccessory } from 'homebridge';
import type { ReceiverConfig } from '../config/types';
import type { Logger } from '../logger';
import type { ReceiverState } from '../receiver/monitor';
import type { Receiver } from '../receiver/receiver';
import type { SessionManager } from '../stream/sessions';
import { PLATFORM_NAME, PLUGIN_NAME } from '../settings';
import { MomentarySwitch } from './action-switches';
import { quotedNames, restoreCached, sourceFor } from './cached';
import { setDeviceInformation } from './device-info';
import { cleanName } from './names';
import { RecordSwitch } from './record-switch';
import { chosenSensors, Sensors } from './sensors';

export type ControlRole = 'record' | 'sensors' | 'deepStandby' | 'reboot';

/** What a home-control accessory remembers across restarts (Homebridge caches it with the accessory). */
export interface ControlContext {
  kind: 'control';
  role: ControlRole;
  /** Receiver identity (MAC, else host). */
  identity: string;
  receiverName: string;
  host: string;
}

const LABELS: Record<ControlRole, string> = { record: 'Record', sensors: 'Sensors', deepStandby: 'Deep Standby', reboot: 'Reboot' };
const MODELS: Record<ControlRole, string> = { record: 'Record switch', sensors: 'Sensors', deepStandby: 'Deep standby switch', reboot: 'Reboot switch' };

export function controlUuidSeed(identity: string, role: ControlRole): string {
  return `${PLUGIN_NAME}:${role}:${identity}`;
}

/** True for accessories of this module (channel accessories have no `kind`). */
export function isControlAccessory(accessory: PlatformAccessory): boolean {
  return (accessory.context as Partial<ControlContext> | undefined)?.kind === 'control';
}

/** The home-control accessories a receiver's config asks for. */
export function controlRoles(config: ReceiverConfig): ControlRole[] {
  const roles: ControlRole[] = [];
  if (config.recordSwitch) roles.push('record');
  if (chosenSensors(config.sensors).length > 0) roles.push('sensors');
  if (config.deepStandbySwitch) roles.push('deepStandby');
  if (config.rebootSwitch) roles.push('reboot');
  return roles;
}

/** Bridge accessories all receivers' home control takes (they share the bridge's limit with the channels). */
export function controlAccessoryCount(configs: readonly ReceiverConfig[]): number {
  return configs.reduce((n, config) => n + controlRoles(config).length, 0);
}

/** A receiver and the proxy sessions of its channels (for the Streaming sensor). */
export interface ControlSource {
  runtime: Receiver;
  sessions?: SessionManager;
}

interface Part {
  applyState?(state: ReceiverState): void;
  stop?(): void;
}

interface Bound {
  accessory: PlatformAccessory;
  source: ControlSource;
  role: ControlRole;
  part: Part;
}

export class ControlAccessories {
  /** By UUID. */
  private readonly bound = new Map<string, Bound>();

  constructor(private readonly api: API, private readonly log: Logger, private readonly sources: ControlSource[], cached: PlatformAccessory[]) {
    restoreCached(api, log, cached, (accessory) => {
      const ctx = accessory.context as Partial<ControlContext>;
      const source = sourceFor(this.sources, ctx);
      if (!source || !ctx.role || !controlRoles(source.runtime.config).includes(ctx.role)) return false;
      // Answers at once (Not Responding until the box answers), before the box's identity is known.
      this.bind(accessory, source, ctx.role);
      return true;
    }, (stale) => `Removing ${stale.length} accessory(ies) (${quotedNames(stale)}) no longer in the configuration.`);
  }

  /** After a receiver's device info (re)loaded: creates the missing accessories, under UUIDs from its identity. */
  loaded(runtime: Receiver): void {
    const source = this.sources.find((s) => s.runtime === runtime);
    const device = runtime.device;
    if (!source || !device) return;
    const { hap } = this.api;
    const added: PlatformAccessory[] = [];
    const removed: PlatformAccessory[] = [];
    const kept: PlatformAccessory[] = [];
    for (const role of controlRoles(runtime.config)) {
      const uuid = hap.uuid.generate(controlUuidSeed(device.identity, role));
      // The same receiver and role under another UUID (restored by name before the box's identity
      // was known, and it is another box now): replaced, or both would show.
      for (const [other, b] of this.bound) {
        if (b.source !== source || b.role !== role || other === uuid) continue;
        b.part.stop?.();
        this.bound.delete(other);
        removed.push(b.accessory);
      }
      let accessory = this.bound.get(uuid)?.accessory;
      const fresh = !accessory;
      accessory ??= new this.api.platformAccessory(this.name(runtime, role), uuid, role === 'sensors' ? hap.Categories.SENSOR : hap.Categories.SWITCH);
      const ctx: ControlContext = { kind: 'control', role, identity: device.identity, receiverName: runtime.name, host: runtime.config.host };
      accessory.context = ctx;
      setDeviceInformation(hap, accessory, device, MODELS[role], device.mac ?? device.identity);
      if (fresh) {
        this.bind(accessory, source, role);
        added.push(accessory);
      } else {
        kept.push(accessory);
      }
    }
    if (removed.length > 0) {
      this.log.info(`${runtime.name}: replacing ${removed.length} accessory(ies) made for another box (${quotedNames(removed)}).`);
      this.api.unregisterPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, removed);
    }
    if (added.length > 0) this.api.registerPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, added);
    if (kept.length > 0) this.api.updatePlatformAccessories(kept);
  }

  /** Pushes what changed to one receiver's accessories. */
  applyState(runtime: Receiver, state: ReceiverState): void {
    for (const b of this.bound.values()) if (b.source.runtime === runtime) b.part.applyState?.(state);
  }

  /** Ends timers and detaches from the proxy's sessions (the platform's shutdown). */
  stop(): void {
    for (const b of this.bound.values()) b.part.stop?.();
  }

  /** Number of home-control accessories on the bridge. */
  get count(): number {
    return this.bound.size;
  }

  private name(runtime: Receiver, role: ControlRole): string {
    return cleanName(`${runtime.name} ${LABELS[role]}`, LABELS[role]);
  }

  private bind(accessory: PlatformAccessory, source: ControlSource, role: ControlRole): void {
    const { hap } = this.api;
    const { runtime } = source;
    let part: Part;
    if (role === 'sensors') {
      part = new Sensors(this.api, this.log, runtime, accessory, source.sessions);
    } else {
      const name = this.name(runtime, role);
      const service = accessory.getService(hap.Service.Switch) ?? accessory.addService(hap.Service.Switch, name);
      service.updateCharacteristic(hap.Characteristic.Name, name);
      part = role === 'record' ? new RecordSwitch(this.api, this.log, runtime, service) : new MomentarySwitch(this.api, this.log, runtime, service, role);
    }
    this.bound.set(accessory.UUID, { accessory, source, role, part });
  }
}
