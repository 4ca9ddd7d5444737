/**
 * Cached accessories of a plugin that cannot run (a broken configuration): every state-bearing
 * characteristic answers "Not Responding" to reads and refuses writes, so the Home app shows the
 * truth instead of a switch that flips and does nothing. Rooms and scenes stay for when the
 * configuration is fixed.
 */
import type { HAP, PlatformAccessory } from 'homebridge';

export function markNotResponding(hap: HAP, accessories: readonly PlatformAccessory[]): void {
  const notResponding = (): Error => new hap.HapStatusError(hap.HAPStatus.SERVICE_COMMUNICATION_FAILURE);
  const fail = (): never => {
    throw notResponding();
  };
  for (const accessory of accessories) {
    for (const service of accessory.services) {
      if (service.UUID === hap.Service.AccessoryInformation.UUID) continue;
      for (const characteristic of service.characteristics) {
        const perms = characteristic.props.perms;
        // Names stay readable; what carries state (notify) or takes commands (write) fails.
        if (!perms.includes(hap.Perms.NOTIFY) && !perms.includes(hap.Perms.PAIRED_WRITE)) continue;
        characteristic.onGet(fail);
        if (perms.includes(hap.Perms.PAIRED_WRITE)) characteristic.onSet(fail);
        characteristic.updateValue(notResponding());
      }
    }
  }
}
