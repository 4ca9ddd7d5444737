// HomeKit as the Home app really talks to it: Homebridge runs as users run it (not insecure), the
// controller (hap-controller) pairs with the setup code (SRP pair-setup) with the bridge and with
// the TV, which is published on its own; every request after that goes over an encrypted session
// (pair-verify), and tiles follow the box through EVENT notifications rather than polling.
import { join } from 'node:path';
import HttpClient from 'hap-controller/lib/transport/ip/http-client';
import { Characteristic, Service } from 'hap-nodejs';
import { channelId, channelNumber, parseServiceRef } from '../../src/receiver/service-ref';
import { startSimulator, type Simulator } from '../../src/simulator';
import { until } from '../helpers/stack';
import { buildPlugin, favourites, findService, HapAccessory, Homebridge, iidOf, PIN, randomMac, removeDir, short, simulatorPlatform, tempDir, valueOf } from './harness';

jest.setTimeout(60_000);

const ZDF_HD = '1:0:19:2B66:3F3:1:C00000:0:0:0:';
const ARTE_HD = '1:0:19:283E:3FB:1:C00000:0:0:0:';
const SAT3_HD = '1:0:19:2B8E:3F2:1:C00000:0:0:0:';

interface HapEvent {
  characteristics: Array<{ aid: number; iid: number; value: unknown }>;
}

let sim: Simulator;
let dir: string;
let hb: Homebridge;
let bridgePort: number;
let bridge: HttpClient;
let tv: HttpClient;
const events: HapEvent['characteristics'] = [];

beforeAll(async () => {
  sim = await startSimulator();
  dir = tempDir();
  const plugins = buildPlugin(dir);
  const username = randomMac();
  hb = new Homebridge(join(plugins, 'homebridge-xg2g'), join(dir, 'storage'), {
    bridge: { name: 'XG2G Paired', username, pin: PIN, advertiser: 'ciao', bind: ['127.0.0.1'] },
    platforms: [simulatorPlatform(sim)],
  }, { insecure: false });
  bridgePort = Number((await hb.waitFor(/\(XG2G Paired\) is running on port (\d+)/))[1]);
  const tvPort = Number((await hb.waitFor(/Test Box(?: [0-9A-F]{4})? is running on port (\d+)/))[1]);
  bridge = new HttpClient(username, '127.0.0.1', bridgePort, undefined, { usePersistentConnections: true });
  tv = new HttpClient('Test Box', '127.0.0.1', tvPort, undefined, { usePersistentConnections: true });
  await bridge.pairSetup(PIN);
  await tv.pairSetup(PIN);
  for (const client of [bridge, tv]) client.on('event', (event: HapEvent) => events.push(...event.characteristics));
}, 90_000);

afterAll(async () => {
  await Promise.all([bridge?.close(), tv?.close()]);
  hb?.kill();
  await sim?.close();
  if (dir) removeDir(dir);
});

/** The accessory list in the harness's form: hap-controller spells every type as a long UUID. */
async function accessories(client: HttpClient): Promise<HapAccessory[]> {
  const list = (await client.getAccessories()).accessories as unknown as HapAccessory[];
  for (const accessory of list) {
    for (const service of accessory.services) {
      service.type = short(service.type);
      for (const characteristic of service.characteristics) characteristic.type = short(characteristic.type);
    }
  }
  return list;
}

/** "aid.iid" of a characteristic of the first service of that type on the accessory. */
function cid(accessory: HapAccessory, service: string, characteristic: string): string {
  return `${accessory.aid}.${iidOf(findService(accessory, service)!, characteristic)}`;
}

async function channelSwitch(ref: string): Promise<string> {
  const all = await accessories(bridge);
  const accessory = all.find((a) => valueOf(findService(a, Service.AccessoryInformation.UUID)!, Characteristic.SerialNumber.UUID) === channelId(parseServiceRef(ref)));
  if (!accessory) throw new Error(`no channel accessory for ${ref}`);
  return cid(accessory, Service.Switch.UUID, Characteristic.On.UUID);
}

async function tvCharacteristic(characteristic: string): Promise<string> {
  const [accessory] = await accessories(tv);
  return cid(accessory, Service.Television.UUID, characteristic);
}

/** True once an event set `id` to `value` (HAP sends booleans as true/false or 1/0). */
function evented(id: string, value: unknown): boolean {
  const [aid, iid] = id.split('.').map(Number);
  return events.some((e) => e.aid === aid && e.iid === iid && (e.value === value || Number(e.value) === Number(value)));
}

it('refuses a controller that has not paired', async () => {
  const response = await fetch(`http://127.0.0.1:${bridgePort}/accessories`);
  // 470: connection authorization required (HAP's answer to an unverified session).
  expect(response.status).toBe(470);
});

it('lists the channels and the TV over the encrypted sessions', async () => {
  const all = await accessories(bridge);
  const serials = all.map((a) => valueOf(findService(a, Service.AccessoryInformation.UUID)!, Characteristic.SerialNumber.UUID));
  for (const ref of favourites(sim)) expect(serials).toContain(channelId(parseServiceRef(ref)));
  const [television] = await accessories(tv);
  expect(findService(television, Service.Television.UUID)).toBeDefined();
  expect(television.services.filter((s) => s.type === short(Service.InputSource.UUID))).toHaveLength(favourites(sim).length);
});

it('zaps from a channel switch and from the TV\'s input', async () => {
  await bridge.setCharacteristics({ [await channelSwitch(ARTE_HD)]: true });
  await until(() => sim.state.channelRef === ARTE_HD, 5_000, 'zap to arte HD');
  await tv.setCharacteristics({ [await tvCharacteristic(Characteristic.ActiveIdentifier.UUID)]: channelNumber(parseServiceRef(ZDF_HD)) });
  await until(() => sim.state.channelRef === ZDF_HD, 5_000, 'zap to ZDF HD');
  const read = await tv.getCharacteristics([await tvCharacteristic(Characteristic.ActiveIdentifier.UUID)]);
  expect(Number((read.characteristics as Array<{ value: unknown }>)[0].value)).toBe(channelNumber(parseServiceRef(ZDF_HD)));
});

it('sends an event to the Home app when the box changes channel or power by itself', async () => {
  const identifier = await tvCharacteristic(Characteristic.ActiveIdentifier.UUID);
  const active = await tvCharacteristic(Characteristic.Active.UUID);
  const sat3 = await channelSwitch(SAT3_HD);
  const zdf = await channelSwitch(ZDF_HD);
  await tv.subscribeCharacteristics([identifier, active]);
  await bridge.subscribeCharacteristics([sat3, zdf]);
  events.length = 0;

  // Someone uses the box's own remote: nothing asks HomeKit, the plugin's poll notices.
  sim.setState({ power: 'on', channelRef: SAT3_HD });
  await until(() => evented(identifier, channelNumber(parseServiceRef(SAT3_HD))), 5_000, () => `ActiveIdentifier event; got ${JSON.stringify(events)}`);
  await until(() => evented(sat3, true) && evented(zdf, false), 5_000, () => `switch events; got ${JSON.stringify(events)}`);

  sim.setState({ power: 'standby' });
  await until(() => evented(active, 0), 5_000, () => `Active event; got ${JSON.stringify(events)}`);
  await until(() => evented(sat3, false), 5_000, () => `switch off event; got ${JSON.stringify(events)}`);
  await tv.unsubscribeCharacteristics([identifier, active]);
  await bridge.unsubscribeCharacteristics([sat3, zdf]);
});
