/**
 * The Homebridge dynamic platform: reads the XG2G platform block, starts the core (App: receivers,
 * stream proxy, MQTT) once Homebridge has finished launching and stops it on shutdown, and hangs
 * the HomeKit side on each receiver: a TV accessory (published once the box first answers, since
 * its UUID comes from the box's MAC), the channel accessories, the optional home-control
 * accessories (Record switch, sensors, Deep Standby and Reboot switches) and the optional camera
 * ("<receiver> Live", its live views ended before the core on shutdown). Homebridge is imported for
 * types only; runtime values come from `api.hap`. Nothing here throws into Homebridge.
 */
import { join } from 'node:path';
import type { API, DynamicPlatformPlugin, Logging, PlatformAccessory, PlatformConfig } from 'homebridge';
import type { App } from './app';
import { sentences } from './logger';
import { LogOnce } from './retry';
import { ConfigError, isConfigured, loadConfig } from './config';
import type { Config } from './config/types';
import type { CameraAccessories } from './homekit/camera';
import type { ChannelAccessories } from './homekit/channel-accessories';
import type { ControlAccessories } from './homekit/control-accessories';
import { markNotResponding } from './homekit/not-responding';
import type { TvAccessory } from './homekit/tv-accessory';
import type { ReceiverState } from './receiver/monitor';
import type { Receiver } from './receiver/receiver';
import { API_LISTEN_DEFAULT_HOMEBRIDGE, HOMEKIT_CHANNEL_ACCESSORIES_MAX, PLATFORM_NAME, PLUGIN_CACHE_DIR, PLUGIN_NAME } from './settings';

export class XG2GPlatform implements DynamicPlatformPlugin {
  private readonly cached: PlatformAccessory[] = [];
  private readonly config: Config | undefined;
  private app: App | undefined;
  private channels: ChannelAccessories | undefined;
  private controls: ControlAccessories | undefined;
  private cameras: CameraAccessories | undefined;
  private readonly tvs = new Map<Receiver, TvAccessory>();
  private readonly detach: Array<() => void> = [];
  private stopping: Promise<void> | undefined;
  /** A broken config keeps cached accessories (rooms, scenes) for when it is fixed. */
  private broken = false;

  constructor(private readonly log: Logging, private readonly block: PlatformConfig, private readonly api: API) {
    this.config = this.load();
    api.on('didFinishLaunching', () => void this.start());
    api.on('shutdown', () => void this.stop());
  }

  /** Homebridge hands back the accessories it cached, before didFinishLaunching. */
  configureAccessory(accessory: PlatformAccessory): void {
    this.cached.push(accessory);
  }

  private load(): Config | undefined {
    try {
      const config = loadConfig({
        block: this.block ?? {}, env: process.env, apiListenDefault: API_LISTEN_DEFAULT_HOMEBRIDGE, onWarning: (w) => this.log.warn(w),
      });
      if (!isConfigured(config)) {
        this.log.info('No receiver configured yet: add one in the plugin settings (Homebridge UI → Plugins → XG2G → Settings).');
        return undefined;
      }
      return config;
    } catch (error) {
      this.broken = true;
      if (error instanceof ConfigError) {
        for (const problem of error.problems) this.log.error(`Configuration: ${problem}`);
        this.log.error('The plugin stays idle until the configuration is fixed.');
      } else {
        this.log.error(`Cannot read the configuration: ${(error as Error).message}`);
      }
      return undefined;
    }
  }

  private async start(): Promise<void> {
    const config = this.config;
    if (!config) {
      this.idle(this.broken ? 'broken' : 'unconfigured');
      return;
    }
    // The core and the accessories are loaded only now: a plugin that is not configured (or whose
    // configuration is broken) keeps them, about 9 MB, out of the Homebridge process. Synchronous, so
    // a shutdown cannot slip in between loading and starting.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { App } = require('./app') as typeof import('./app');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ChannelAccessories } = require('./homekit/channel-accessories') as typeof import('./homekit/channel-accessories');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const controlModule = require('./homekit/control-accessories') as typeof import('./homekit/control-accessories');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cameraModule = require('./homekit/camera') as typeof import('./homekit/camera');
    const app = new App(config, this.log, { cacheDir: join(this.api.user.storagePath(), PLUGIN_CACHE_DIR) });
    this.app = app;
    try {
      // Never throws for a taken port or a missing broker: those parts log and stay off.
      await app.start();
    } catch (error) {
      this.log.error(sentences(`Starting failed: ${(error as Error).message}`));
      this.app = undefined;
      await app.stop();
      this.idle('broken');
      return;
    }
    if (this.stopping) return;
    const withChannels = app.receivers.filter((r) => r.config.channelAccessories);
    const cached = this.cached.splice(0);
    const controlCached = cached.filter(controlModule.isControlAccessory);
    const cameraCached = cached.filter(cameraModule.isCameraAccessory);
    // Record switches, sensors and cameras share the bridge's accessory limit with the channel switches.
    const budget = Math.max(0, HOMEKIT_CHANNEL_ACCESSORIES_MAX - controlModule.controlAccessoryCount(config.receivers)
      - cameraModule.cameraAccessoryCount(config.receivers));
    this.channels = new ChannelAccessories(this.api, this.log, withChannels,
      cached.filter((a) => !controlCached.includes(a) && !cameraCached.includes(a)), budget);
    const sources = app.receivers.map((runtime, i) => ({ runtime, sessions: app.streams[i]?.sessions }));
    try {
      this.controls = new controlModule.ControlAccessories(this.api, this.log, sources, controlCached);
    } catch (error) {
      // start() runs unawaited: a throw here would be an unhandled rejection, which ends Homebridge.
      this.log.error(sentences(`The Record switches, sensors and power switches could not be set up: ${(error as Error).message}`,
        'The TV and the channel switches work; restart Homebridge to try again'));
    }
    try {
      const cameraSources = app.receivers.filter((r) => r.config.cameraAccessory).map((runtime) => ({ runtime, feed: app.cameraFeeds.get(runtime) }));
      this.cameras = new cameraModule.CameraAccessories(this.api, this.log, cameraSources, cameraCached);
    } catch (error) {
      this.log.error(sentences(`The camera accessories could not be set up: ${(error as Error).message}`,
        'Everything else works; restart Homebridge to try again'));
    }
    for (const runtime of app.receivers) this.attach(runtime);
  }

  /** The plugin cannot run: cached accessories never pretend to work. */
  private idle(why: 'unconfigured' | 'broken'): void {
    if (this.cached.length === 0) return;
    if (why === 'unconfigured') {
      // Not configured at all (not merely broken): accessories from an earlier setup have no box left.
      this.log.info(`Removing ${this.cached.length} cached accessory(ies) of an earlier setup: no receiver is configured.`);
      this.api.unregisterPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, this.cached.splice(0));
      return;
    }
    markNotResponding(this.api.hap, this.cached);
    this.log.warn(`${this.cached.length} cached accessory(ies) show Not Responding until the plugin can start; their rooms and scenes are kept.`);
  }

  private attach(runtime: Receiver): void {
    const onLoaded = (): void => this.guard(runtime, () => this.loaded(runtime));
    const onState = (state: ReceiverState): void => this.guard(runtime, () => {
      this.tvs.get(runtime)?.applyState(state);
      this.channels?.applyState(runtime, state);
      this.controls?.applyState(runtime, state);
    });
    runtime.on('loaded', onLoaded);
    runtime.monitor.on('state', onState);
    this.detach.push(() => {
      runtime.off('loaded', onLoaded);
      runtime.monitor.off('state', onState);
    });
    // The first load may have finished while the proxy was still opening its port.
    if (runtime.device) onLoaded();
  }

  private loaded(runtime: Receiver): void {
    const device = runtime.device;
    if (!device) return;
    if (runtime.config.channelAccessories) this.channels?.loaded(runtime);
    this.controls?.loaded(runtime);
    this.cameras?.loaded(runtime);
    if (!runtime.config.tvAccessory) return;
    const existing = this.tvs.get(runtime);
    if (existing) {
      existing.syncInputs(runtime.channels().all);
      return;
    }
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded with the core, see start() */
    const { TvAccessory } = require('./homekit/tv-accessory') as typeof import('./homekit/tv-accessory');
    const { InputStore } = require('./homekit/input-store') as typeof import('./homekit/input-store');
    const { setupCode } = require('./homekit/setup-code') as typeof import('./homekit/setup-code');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const tv = new TvAccessory(this.api, this.log, runtime, new InputStore(this.api.user.storagePath(), device.identity, this.log), device);
    this.tvs.set(runtime, tv);
    this.api.publishExternalAccessories(PLUGIN_NAME, [tv.accessory]);
    const code = setupCode(this.block, this.api.user.configPath());
    // "More options" lists the published name plus four characters HAP adds; once paired, the
    // Home app shows the name given there, which may differ after a rename.
    const published = tv.accessory.displayName;
    const homeName = tv.homeName !== published ? ` (named "${tv.homeName}" in the Home app)` : '';
    this.log.info(`${runtime.name}: the TV "${published}"${homeName} is published on its own: to add it, choose Add Accessory → More options → the entry starting with "${published}" in the Home app`
      + `${code ? ` and enter the setup code ${code}` : ' and enter the setup code of this Homebridge bridge'}.`);
  }

  /** Event handlers never throw into the core's emitters: log once per distinct failure. */
  private readonly failures = new Map<Receiver, LogOnce>();
  private guard(runtime: Receiver, fn: () => void): void {
    let failures = this.failures.get(runtime);
    if (!failures) {
      failures = new LogOnce((line) => this.log.error(line));
      this.failures.set(runtime, failures);
    }
    try {
      fn();
      failures.clear();
    } catch (error) {
      failures.say(`${runtime.name}: updating HomeKit failed: ${(error as Error).message}`);
    }
  }

  private stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const off of this.detach.splice(0)) off();
      this.controls?.stop();
      // Live views first: HAP's sessions end with them, then the core ends the feeds' ffmpeg anyway.
      await this.cameras?.stop().catch(() => undefined);
      const app = this.app;
      this.app = undefined;
      if (!app) return;
      try {
        await app.stop();
        this.log.info('Stopped: receivers, stream proxy and every ffmpeg process.');
      } catch (error) {
        this.log.error(`Stopping failed: ${(error as Error).message}`);
      }
    })();
    return this.stopping;
  }
}

