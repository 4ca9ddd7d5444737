/**
 * The receiver as a HomeKit camera, "<receiver> Live" (receivers[].cameraAccessory): the Home app
 * shows the channel on screen as the camera's picture, as snapshots in its tiles and as a live view
 * when opened. The pictures come from the receiver's CameraFeed (src/stream/camera-feed.ts); this
 * module owns the accessory and HAP's CameraController, camera-delegate.ts answers HAP.
 *
 * Bridged, like the home-control accessories: it appears with the bridge, in every HomeKit app, with
 * no extra pairing step. Camera plugins often publish cameras on their own so that a bridge's one
 * HAP connection is not slowed by snapshot images; here a snapshot is one small JPEG while the Home
 * app is open, and the live view itself runs over RTP/UDP straight to the viewer, not through the
 * bridge's connection.
 *
 * Cache handling as in control-accessories.ts: the UUID comes from the box's identity (MAC, else
 * host) and the role, so rooms and scenes survive restarts and renames; cached cameras are restored
 * at start, created once the box's identity is known, and removed when turned off in the settings.
 */
import type { API, PlatformAccessory } from 'homebridge';
import type { ReceiverConfig } from '../config/types';
import { Logger } from '../logger';
import type { Receiver } from '../receiver/receiver';
import { CAMERA_STREAMS_PER_ACCESSORY, PLATFORM_NAME, PLUGIN_NAME } from '../settings';
import type { CameraFeed } from '../stream/camera-feed';
import { quotedNames, restoreCached, sourceFor } from './cached';
import { CameraDelegate } from './camera-delegate';
import { streamingOptions } from './camera-options';
import { setDeviceInformation } from './device-info';
import { cleanName } from './names';
import { markNotResponding } from './not-responding';

/** What a camera accessory remembers across restarts (Homebridge caches it with the accessory). */
export interface CameraContext {
  kind: 'camera';
  /** Receiver identity (MAC, else host). */
  identity: string;
  receiverName: string;
  host: string;
}

const LABEL = 'Live';
const MODEL = 'Live view camera';

export function cameraUuidSeed(identity: string): string {
  return `${PLUGIN_NAME}:camera:${identity}`;
}

/** True for accessories of this module. */
export function isCameraAccessory(accessory: PlatformAccessory): boolean {
  return (accessory.context as Partial<CameraContext> | undefined)?.kind === 'camera';
}

/** Bridge accessories the cameras take (they share the bridge's limit with the channel switches). */
export function cameraAccessoryCount(configs: readonly ReceiverConfig[]): number {
  return configs.filter((c) => c.cameraAccessory).length;
}

/** A receiver with its camera feed (undefined while the core has none for it). */
export interface CameraSource {
  runtime: Receiver;
  feed: CameraFeed | undefined;
}

interface Bound {
  accessory: PlatformAccessory;
  source: CameraSource;
  delegate: CameraDelegate;
}

export class CameraAccessories {
  /** By UUID. */
  private readonly bound = new Map<string, Bound>();

  /** `sources`: the receivers with cameraAccessory on. */
  constructor(private readonly api: API, private readonly log: Logger, private readonly sources: CameraSource[], cached: PlatformAccessory[]) {
    restoreCached(api, log, cached, (accessory) => {
      const source = sourceFor(this.sources, accessory.context as Partial<CameraContext>);
      if (!source) return false;
      // Answers at once (snapshots, live views), before the box's identity is known.
      if (!this.bind(accessory, source)) {
        // Kept for its room and scenes, but honest about not working.
        markNotResponding(api.hap, [accessory]);
      }
      return true;
    }, (stale) => `Removing ${stale.length} camera accessory(ies) (${quotedNames(stale)}) no longer in the configuration.`);
  }

  /** After a receiver's device info (re)loaded: creates its camera, under a UUID from its identity. */
  loaded(runtime: Receiver): void {
    const source = this.sources.find((s) => s.runtime === runtime);
    const device = runtime.device;
    if (!source || !device) return;
    const { hap } = this.api;
    const uuid = hap.uuid.generate(cameraUuidSeed(device.identity));
    // The same receiver under another UUID (restored by name before the box's identity was known,
    // and it is another box now): replaced, or both would show.
    const removed: PlatformAccessory[] = [];
    for (const [other, b] of this.bound) {
      if (b.source !== source || other === uuid) continue;
      void b.delegate.stop();
      this.bound.delete(other);
      removed.push(b.accessory);
    }
    if (removed.length > 0) {
      this.log.info(`${runtime.name}: replacing the camera made for another box (${quotedNames(removed)}).`);
      this.api.unregisterPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, removed);
    }
    const existing = this.bound.get(uuid)?.accessory;
    const accessory = existing ?? new this.api.platformAccessory(this.name(runtime), uuid, hap.Categories.IP_CAMERA);
    const ctx: CameraContext = { kind: 'camera', identity: device.identity, receiverName: runtime.name, host: runtime.config.host };
    accessory.context = ctx;
    setDeviceInformation(hap, accessory, device, MODEL, device.mac ?? device.identity);
    if (existing) {
      this.api.updatePlatformAccessories([accessory]);
      return;
    }
    if (!this.bind(accessory, source)) return;
    this.api.registerPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, [accessory]);
    this.log.info(`${runtime.name}: the camera "${accessory.displayName}" is on the bridge; the Home app shows the channel on screen in it.`);
  }

  /** Ends every live view (the platform's shutdown). */
  async stop(): Promise<void> {
    await Promise.all([...this.bound.values()].map((b) => b.delegate.stop()));
  }

  /** Number of camera accessories on the bridge. */
  get count(): number {
    return this.bound.size;
  }

  private name(runtime: Receiver): string {
    return cleanName(`${runtime.name} ${LABEL}`, LABEL);
  }

  /** Hangs HAP's camera controller on the accessory; false (logged once) when the receiver has no feed. */
  private bind(accessory: PlatformAccessory, source: CameraSource): boolean {
    const { hap } = this.api;
    const { runtime, feed } = source;
    if (!feed) {
      this.log.error(`${runtime.name}: the camera got no picture source from the core, so it shows No Response; restart Homebridge to try again.`);
      return false;
    }
    const delegate = new CameraDelegate(hap, this.log, this.name(runtime), feed);
    const controller = new hap.CameraController({
      cameraStreamCount: CAMERA_STREAMS_PER_ACCESSORY,
      delegate,
      streamingOptions: streamingOptions(hap, feed.audioCodecs),
    });
    delegate.attach(controller);
    accessory.configureController(controller);
    this.bound.set(accessory.UUID, { accessory, source, delegate });
    return true;
  }
}
