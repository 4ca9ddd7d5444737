// The platform's life cycle with a stand-in for Homebridge's API (real HAP-NodeJS and Homebridge's
// PlatformAccessory): unconfigured, a broken config, and restoring cached channel accessories
// against the simulator, removing the ones whose channel left the bouquet.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hap from 'hap-nodejs';
import { PlatformAccessory } from 'homebridge/lib/platformAccessory';
import type { API, Logging, PlatformConfig } from 'homebridge';
import { channelUuidSeed } from '../../src/homekit/channel-accessories';
import { controlUuidSeed } from '../../src/homekit/control-accessories';
import { XG2GPlatform } from '../../src/platform';
import { parseServiceRef } from '../../src/receiver/service-ref';
import { startSimulator, type Simulator } from '../../src/simulator';
import { until } from '../helpers/stack';

interface Fake {
  api: API;
  events: EventEmitter;
  lines: string[];
  registered: PlatformAccessory[];
  unregistered: PlatformAccessory[];
  published: PlatformAccessory[];
}

function fakeHomebridge(storage: string): Fake {
  const events = new EventEmitter();
  const fake: Omit<Fake, 'api'> = { events, lines: [], registered: [], unregistered: [], published: [] };
  const api = {
    hap,
    platformAccessory: PlatformAccessory,
    user: { storagePath: () => storage, configPath: () => join(storage, 'config.json') },
    on: (event: string, fn: () => void) => events.on(event, fn),
    registerPlatformAccessories: (_p: string, _n: string, list: PlatformAccessory[]) => void fake.registered.push(...list),
    unregisterPlatformAccessories: (_p: string, _n: string, list: PlatformAccessory[]) => void fake.unregistered.push(...list),
    updatePlatformAccessories: () => undefined,
    publishExternalAccessories: (_p: string, list: PlatformAccessory[]) => void fake.published.push(...list),
  } as unknown as API;
  return { ...fake, api };
}

function logger(lines: string[]): Logging {
  const push = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return Object.assign(push('info'), { prefix: 'xg2g', info: push('info'), warn: push('warn'), error: push('error'), debug: () => undefined, success: push('info'), log: () => undefined }) as unknown as Logging;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xg2g-platform-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ bridge: { pin: '123-45-679' } }));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('says once that nothing is configured, and does nothing else', async () => {
  const hb = fakeHomebridge(dir);
  new XG2GPlatform(logger(hb.lines), { platform: 'XG2G' } as PlatformConfig, hb.api);
  hb.events.emit('didFinishLaunching');
  hb.events.emit('shutdown');
  await new Promise((r) => setTimeout(r, 50));
  expect(hb.lines).toEqual([expect.stringMatching(/^info No receiver configured yet/)]);
  expect(hb.published).toHaveLength(0);
});

it('logs one line per configuration problem and stays idle, keeping cached accessories', async () => {
  const hb = fakeHomebridge(dir);
  const platform = new XG2GPlatform(logger(hb.lines), {
    platform: 'XG2G', receivers: [{ host: 'http://bad/' , port: 70000, password: 'pw-never-shown' }], proxy: { audio: { bitrate: '1k' } },
  } as PlatformConfig, hb.api);
  const cached = new PlatformAccessory('Old', hap.uuid.generate('old'));
  const on = cached.addService(hap.Service.Switch, 'Old').getCharacteristic(hap.Characteristic.On);
  platform.configureAccessory(cached);
  hb.events.emit('didFinishLaunching');
  await new Promise((r) => setTimeout(r, 50));
  const errors = hb.lines.filter((l) => l.startsWith('error Configuration: '));
  expect(errors).toHaveLength(3);
  expect(errors.join('\n')).toMatch(/receivers\[0\]\.host/);
  expect(errors.join('\n')).toMatch(/receivers\[0\]\.port/);
  expect(errors.join('\n')).toMatch(/proxy\.audio\.bitrate/);
  expect(hb.lines.join('\n')).not.toContain('pw-never-shown');
  expect(hb.unregistered).toHaveLength(0);
  // Kept for its rooms and scenes, but never a switch that flips and does nothing.
  expect(hb.lines).toContainEqual(expect.stringMatching(/^warn 1 cached accessory\(ies\) show Not Responding/));
  await expect(on.handleGetRequest()).rejects.toBe(hap.HAPStatus.SERVICE_COMMUNICATION_FAILURE);
  await expect(on.handleSetRequest(true)).rejects.toBe(hap.HAPStatus.SERVICE_COMMUNICATION_FAILURE);
  expect(on.value).toBe(false);
});

it('removes the cached accessories of an earlier setup when no receiver is configured, saying so', async () => {
  const hb = fakeHomebridge(dir);
  const platform = new XG2GPlatform(logger(hb.lines), { platform: 'XG2G' } as PlatformConfig, hb.api);
  const cached = new PlatformAccessory('Old', hap.uuid.generate('old'));
  platform.configureAccessory(cached);
  hb.events.emit('didFinishLaunching');
  await new Promise((r) => setTimeout(r, 50));
  expect(hb.unregistered).toEqual([cached]);
  expect(hb.lines).toContainEqual(expect.stringMatching(/^info Removing 1 cached accessory\(ies\) of an earlier setup/));
});

describe('with the simulator', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it('restores cached channel accessories, removes stale ones and publishes the TV', async () => {
    const hb = fakeHomebridge(dir);
    const web = new URL(sim.webUrl);
    const platform = new XG2GPlatform(logger(hb.lines), {
      platform: 'XG2G',
      receivers: [{ name: 'Box', host: web.hostname, port: Number(web.port), streamTarget: sim.streamUrl, refreshInterval: 1 }],
      proxy: { enabled: false }, api: { listen: '' }, mqtt: { enabled: false },
    } as PlatformConfig, hb.api);
    const device = await (await fetch(`${sim.webUrl.replace(/\/$/, '')}/api/deviceinfo`)).json() as { ifaces: Array<{ mac: string }> };
    const identity = device.ifaces.map((i) => i.mac).find(Boolean)!.toLowerCase();
    const zdf = parseServiceRef('1:0:19:2B66:3F3:1:C00000:0:0:0:');
    const gone = parseServiceRef('1:0:19:FFFF:3FB:1:C00000:0:0:0:');
    const cachedZdf = new PlatformAccessory('ZDF HD', hap.uuid.generate(channelUuidSeed(identity, zdf)));
    cachedZdf.context = { identity, receiverName: 'Box', host: web.hostname, ref: zdf.ref };
    const cachedGone = new PlatformAccessory('Gone', hap.uuid.generate(channelUuidSeed(identity, gone)));
    cachedGone.context = { identity, receiverName: 'Box', host: web.hostname, ref: gone.ref };
    const foreign = new PlatformAccessory('Foreign', hap.uuid.generate('foreign'));
    foreign.context = { identity: 'x', receiverName: 'Other Box', host: '10.9.9.9', ref: zdf.ref };
    for (const a of [cachedZdf, cachedGone, foreign]) platform.configureAccessory(a);

    hb.events.emit('didFinishLaunching');
    try {
      await until(() => hb.published.length === 1, 10_000, 'TV published');
      expect(hb.unregistered).toEqual(expect.arrayContaining([foreign, cachedGone]));
      expect(hb.registered).not.toContain(cachedZdf);
      expect(hb.registered.length).toBeGreaterThan(0);
      expect(hb.published[0].category).toBe(hap.Categories.TV_SET_TOP_BOX);
      expect(hb.lines.join('\n')).toContain('setup code 123-45-679');
      // The restored accessory answers from the box's state.
      sim.setState({ power: 'on', channelRef: zdf.ref });
      const on = cachedZdf.getService(hap.Service.Switch)!.getCharacteristic(hap.Characteristic.On);
      await until(() => on.value === true, 5_000, 'cached switch on');
    } finally {
      hb.events.emit('shutdown');
      await until(() => hb.lines.some((l) => l.includes('Stopped:')), 5_000, 'stopped');
    }
  });

  it('restores home-control accessories, reshapes the sensors, adds new ones and removes those turned off', async () => {
    const hb = fakeHomebridge(dir);
    const web = new URL(sim.webUrl);
    const platform = new XG2GPlatform(logger(hb.lines), {
      platform: 'XG2G',
      receivers: [{
        name: 'Box', host: web.hostname, port: Number(web.port), streamTarget: sim.streamUrl, refreshInterval: 1,
        tvAccessory: false, channelAccessories: false,
        recordSwitch: true, deepStandbySwitch: true, sensors: { streaming: true, type: 'occupancy' },
      }],
      proxy: { enabled: false }, api: { listen: '' }, mqtt: { enabled: false },
    } as PlatformConfig, hb.api);
    const device = await (await fetch(`${sim.webUrl.replace(/\/$/, '')}/api/deviceinfo`)).json() as { ifaces: Array<{ mac: string }> };
    const identity = device.ifaces.map((i) => i.mac).find(Boolean)!.toLowerCase();
    const cachedAs = (name: string, role: string): PlatformAccessory => {
      const a = new PlatformAccessory(name, hap.uuid.generate(controlUuidSeed(identity, role as 'record')));
      a.context = { kind: 'control', role, identity, receiverName: 'Box', host: web.hostname };
      platform.configureAccessory(a);
      return a;
    };
    const record = cachedAs('Box Record', 'record');
    const reboot = cachedAs('Box Reboot', 'reboot');
    const sensors = cachedAs('Box Sensors', 'sensors');
    sensors.addService(new hap.Service.ContactSensor('Box Recording', 'recording'));
    sensors.addService(new hap.Service.ContactSensor('Box Power', 'power'));

    sim.setState({ power: 'on', recording: false });
    hb.events.emit('didFinishLaunching');
    try {
      const deepUuid = hap.uuid.generate(controlUuidSeed(identity, 'deepStandby'));
      await until(() => hb.registered.some((a) => a.UUID === deepUuid), 10_000, 'Deep Standby switch created');
      expect(hb.unregistered).toEqual([reboot]);
      expect(hb.registered).not.toContain(record);
      expect(hb.registered).not.toContain(sensors);
      const kinds = sensors.services.filter((s) => s.UUID !== hap.Service.AccessoryInformation.UUID).map((s) => [s.UUID, s.subtype]);
      expect(kinds).toEqual([[hap.Service.OccupancySensor.UUID, 'streaming']]);
      expect(hb.lines.join('\n')).toMatch(/Removing 1 accessory\(ies\) \("Box Reboot"\) no longer in the configuration/);
      // The restored Record switch answers from the box's state.
      const on = record.getService(hap.Service.Switch)!.getCharacteristic(hap.Characteristic.On);
      sim.setState({ recording: true });
      await until(() => on.value === true, 5_000, 'Record switch on');
    } finally {
      sim.setState({ recording: false });
      hb.events.emit('shutdown');
      await until(() => hb.lines.some((l) => l.includes('Stopped:')), 5_000, 'stopped');
    }
  });
});
