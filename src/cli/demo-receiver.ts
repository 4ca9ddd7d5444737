/**
 * The demo's simulated receiver as the parts of `xg2g demo` configure it: one address parse (IPv6
 * hosts lose their URL brackets) and one receiver entry, so every part talks to the box the same way.
 */
import type { Simulator } from '../simulator';

export function simulatorAddress(sim: Simulator): { host: string; port: number } {
  const web = new URL(sim.webUrl);
  return { host: web.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(web.port) };
}

/** A receivers[] entry for the simulator; a short poll so changes from MQTT or HomeKit show at once. */
export function simulatorReceiver(sim: Simulator, name: string): Record<string, unknown> {
  return { name, ...simulatorAddress(sim), bouquets: ['Favourites (TV)'], streamTarget: 'auto', refreshInterval: 2 };
}
