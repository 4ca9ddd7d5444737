/**
 * Cached accessories at start-up: Homebridge hands back what the plugin registered last time, and
 * each accessory family takes back the ones still configured (binding them at once, so they answer
 * before the box does). The rest are removed, with one log line, or they would linger in the Home
 * app as tiles that never respond.
 */
import type { API, PlatformAccessory } from 'homebridge';
import type { Logger } from '../logger';
import type { Receiver } from '../receiver/receiver';
import { PLATFORM_NAME, PLUGIN_NAME } from '../settings';

/** The accessories' names as a log line lists them: "A", "B". */
export function quotedNames(accessories: readonly PlatformAccessory[]): string {
  return accessories.map((a) => `"${a.displayName}"`).join(', ');
}

/**
 * Offers each cached accessory to `takeBack`, which binds it and returns true, or returns false
 * for one no longer configured; those are unregistered, and `removed` words the log line for them.
 */
export function restoreCached(
  api: API,
  log: Logger,
  cached: readonly PlatformAccessory[],
  takeBack: (accessory: PlatformAccessory) => boolean,
  removed: (stale: PlatformAccessory[]) => string,
): void {
  const stale = cached.filter((accessory) => !takeBack(accessory));
  if (stale.length === 0) return;
  log.info(removed(stale));
  api.unregisterPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, stale);
}

/**
 * The receiver a cached accessory was made for, from what its context recorded: by name first,
 * else by host (a receiver renamed in the configuration keeps its accessories).
 */
export function sourceFor<T extends { runtime: Receiver }>(sources: readonly T[], ctx: { receiverName?: string; host?: string }): T | undefined {
  return sources.find((s) => s.runtime.name === ctx.receiverName) ?? sources.find((s) => s.runtime.config.host === ctx.host);
}
