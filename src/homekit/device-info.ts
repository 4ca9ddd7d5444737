/**
 * The AccessoryInformation service filled from what the box says about itself, so the Home app
 * shows the real brand, model, MAC as serial number and image version.
 */
import type { HAP, PlatformAccessory } from 'homebridge';
import type { DeviceInfo } from '../receiver/types';
import { packageVersion } from '../version';

/** HomeKit wants a dotted number as firmware revision; image versions are like "7.4" or "OpenPLi 9.0-r12". */
export function firmwareRevision(imageVersion: string): string {
  const m = /\d+(\.\d+){0,2}/.exec(imageVersion);
  return m ? m[0] : packageVersion().replace(/[^0-9.].*$/, '') || '0.0.0';
}

export function setDeviceInformation(hap: HAP, accessory: PlatformAccessory, device: DeviceInfo, model: string, serial: string): void {
  const info = accessory.getService(hap.Service.AccessoryInformation) ?? accessory.addService(hap.Service.AccessoryInformation);
  info
    .setCharacteristic(hap.Characteristic.Manufacturer, device.brand || 'Enigma2')
    .setCharacteristic(hap.Characteristic.Model, model || 'Enigma2 receiver')
    .setCharacteristic(hap.Characteristic.SerialNumber, serial || device.identity)
    .setCharacteristic(hap.Characteristic.FirmwareRevision, firmwareRevision(device.imageVersion))
    .setCharacteristic(hap.Characteristic.SoftwareRevision, packageVersion().replace(/[^0-9.].*$/, '') || '0.0.0');
}
