/**
 * Every bouquet channel as a bridged accessory with one Switch: On = the box is on and tuned to
 * this channel; switching it on tunes it (waking the box), switching it off puts the box in standby
 * when this is the channel it shows. Accessories cached by Homebridge are restored and reused,
 * removed when their channel left the bouquets, and the total stays under HomeKit's bridge limit.
 */
import type { API, PlatformAccessory, Service } from 'homebridge';
import { Logger } from '../logger';
import { LogOnce } from '../retry';
import type { ReceiverState } from '../receiver/monitor';
import type { Receiver } from '../receiver/receiver';
import { channelId, parseServiceRef, ServiceRef, tryParseServiceRef } from '../receiver/service-ref';
import { HOMEKIT_CHANNEL_ACCESSORIES_MAX, PLUGIN_NAME, PLATFORM_NAME } from '../settings';
import { restoreCached } from './cached';
import { HomeKitCommands, push, showable } from './commands';
import { setDeviceInformation } from './device-info';
import { describeLeftOut, planChannels, PlannedChannel, shareBudget } from './inputs';
import { cleanName } from './names';

/** What a channel accessory remembers across restarts (Homebridge caches it with the accessory). */
export interface ChannelContext {
  /** Receiver identity (MAC, else host). */
  identity: string;
  receiverName: string;
  host: string;
  ref: string;
}

export function channelUuidSeed(identity: string, ref: ServiceRef): string {
  return `${PLUGIN_NAME}:channel:${identity}:${channelId(ref)}`;
}

/** On = power on and the tuned service is this one (compared by service, not by ref spelling). */
export function channelIsOn(state: ReceiverState, ref: ServiceRef): boolean {
  if (state.power !== 'on' || !state.channel) return false;
  const current = tryParseServiceRef(state.channel.ref);
  return current !== undefined && channelId(current) === channelId(ref);
}

interface Bound {
  runtime: Receiver;
  ref: ServiceRef;
  service: Service;
}

interface ReceiverEntry {
  runtime: Receiver;
  commands: HomeKitCommands;
  loaded: boolean;
  cutWarning: LogOnce;
}

export class ChannelAccessories {
  /** Every accessory this platform has on the bridge, by UUID (restored from cache or created). */
  private readonly accessories = new Map<string, PlatformAccessory>();
  private readonly bound = new Map<string, Bound>();
  private readonly entries: ReceiverEntry[];

  /**
   * `runtimes`: receivers with channel accessories on, in config order (the cap is shared in that
   * order). `budget`: channel accessories allowed over all receivers (the bridge's other accessories
   * of this plugin, such as Record switches and sensors, take from HOMEKIT_CHANNEL_ACCESSORIES_MAX).
   */
  constructor(
    private readonly api: API,
    private readonly log: Logger,
    runtimes: Receiver[],
    cached: PlatformAccessory[],
    private readonly budget = HOMEKIT_CHANNEL_ACCESSORIES_MAX,
  ) {
    this.entries = runtimes.map((runtime) => ({
      runtime, commands: new HomeKitCommands(api.hap, log, runtime), loaded: false, cutWarning: new LogOnce((line) => log.warn(line)),
    }));
    restoreCached(api, log, cached, (accessory) => {
      const ctx = accessory.context as Partial<ChannelContext>;
      const entry = this.entries.find((e) => e.runtime.name === ctx.receiverName || e.runtime.config.host === ctx.host);
      const ref = typeof ctx.ref === 'string' ? tryParseServiceRef(ctx.ref) : undefined;
      if (!entry || !ref) return false;
      // Answer for the cached accessory at once (Not Responding until the box answers), before its channels load.
      this.accessories.set(accessory.UUID, accessory);
      this.bind(accessory, entry, ref, accessory.displayName);
      return true;
    }, (stale) => `Removing ${stale.length} channel accessory(ies) of receivers no longer configured with channel accessories.`);
  }

  /** After a receiver's channels (re)loaded: adds, keeps and removes accessories to match every bouquet. */
  sync(): void {
    const plans = this.entries.map((e) => (e.loaded ? planChannels(e.runtime.channels().all, Infinity).kept : []));
    const shares = shareBudget(plans.map((p) => p.length), this.budget);
    const added: PlatformAccessory[] = [];
    const removed: PlatformAccessory[] = [];
    this.entries.forEach((entry, i) => {
      if (!entry.loaded || !entry.runtime.device) return;
      const identity = entry.runtime.device.identity;
      const kept = plans[i].slice(0, shares[i]);
      const left = plans[i].slice(shares[i]);
      this.reportCut(entry, left);
      const wanted = new Set<string>();
      for (const channel of kept) {
        const uuid = this.api.hap.uuid.generate(channelUuidSeed(identity, channel.ref));
        wanted.add(uuid);
        let accessory = this.accessories.get(uuid);
        if (!accessory) {
          accessory = new this.api.platformAccessory(this.displayName(entry, channel), uuid, this.api.hap.Categories.SWITCH);
          this.accessories.set(uuid, accessory);
          added.push(accessory);
        }
        const ctx: ChannelContext = { identity, receiverName: entry.runtime.name, host: entry.runtime.config.host, ref: channel.ref.ref };
        accessory.context = ctx;
        setDeviceInformation(this.api.hap, accessory, entry.runtime.device, 'Channel', channel.id);
        this.bind(accessory, entry, channel.ref, this.displayName(entry, channel));
      }
      for (const [uuid, accessory] of this.accessories) {
        const ctx = accessory.context as Partial<ChannelContext>;
        const mine = ctx.identity === identity || ctx.receiverName === entry.runtime.name;
        if (mine && !wanted.has(uuid)) {
          removed.push(accessory);
          this.accessories.delete(uuid);
          this.bound.delete(uuid);
        }
      }
    });
    if (removed.length > 0) {
      this.log.info(`Removing ${removed.length} channel accessory(ies) whose channel left the configured bouquets.`);
      this.api.unregisterPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, removed);
    }
    if (added.length > 0) this.api.registerPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, added);
    if (this.accessories.size > 0) this.api.updatePlatformAccessories([...this.accessories.values()]);
  }

  /** Marks a receiver's channels as loaded and re-syncs every receiver (the shared cap may shift). */
  loaded(runtime: Receiver): void {
    const entry = this.entries.find((e) => e.runtime === runtime);
    if (!entry) return;
    entry.loaded = true;
    this.sync();
  }

  /** Pushes On values that changed for one receiver's switches. */
  applyState(runtime: Receiver, state: ReceiverState): void {
    const { hap } = this.api;
    for (const b of this.bound.values()) {
      if (b.runtime !== runtime) continue;
      const on = b.service.getCharacteristic(hap.Characteristic.On);
      if (!showable(state)) on.updateValue(new hap.HapStatusError(hap.HAPStatus.SERVICE_COMMUNICATION_FAILURE));
      else push(on, channelIsOn(state, b.ref));
    }
  }

  /** Number of channel accessories on the bridge. */
  get count(): number {
    return this.accessories.size;
  }

  private displayName(entry: ReceiverEntry, channel: PlannedChannel): string {
    // Two receivers with the same channel would show two identical names: add the receiver's.
    return this.entries.length > 1 ? cleanName(`${channel.name} ${entry.runtime.name}`, channel.name) : channel.name;
  }

  private reportCut(entry: ReceiverEntry, left: PlannedChannel[]): void {
    const cut = left.length > 0
      ? `${entry.runtime.name}: a HomeKit bridge holds at most 150 accessories, so ${left.length} channel(s) get no channel accessory (at most ${this.budget} over all receivers): ${describeLeftOut(left)}. Run this platform as a child bridge or pick smaller bouquets to have them all.`
      : '';
    if (cut !== '') entry.cutWarning.say(cut);
    else entry.cutWarning.clear();
  }

  private bind(accessory: PlatformAccessory, entry: ReceiverEntry, ref: ServiceRef, name: string): void {
    const { hap } = this.api;
    const C = hap.Characteristic;
    const { runtime, commands } = entry;
    const service = accessory.getService(hap.Service.Switch) ?? accessory.addService(hap.Service.Switch, name);
    service.updateCharacteristic(C.Name, name);
    const target = parseServiceRef(ref.ref);
    service.getCharacteristic(C.On)
      .onGet(() => channelIsOn(commands.readable(runtime.monitor.state), target))
      .onSet(async (value) => {
        const state = runtime.monitor.state;
        if (value) {
          // A box in standby or deep standby (off the network) is woken onto the channel.
          await commands.run(`Tuning ${runtime.name} to ${name}`, () => runtime.control.zap(target));
        } else if (channelIsOn(state, target)) {
          // The standby guard may refuse while proxy viewers watch: the switch is pushed back to on.
          await commands.run(`Turning ${runtime.name} off`, () => runtime.control.powerOff(),
            () => push(service.getCharacteristic(C.On), channelIsOn(runtime.monitor.state, target)));
        }
      });
    this.bound.set(accessory.UUID, { runtime, ref: target, service });
  }
}
