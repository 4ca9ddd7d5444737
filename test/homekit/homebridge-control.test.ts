// Home control end to end, in one real Homebridge run against the simulator (HAP over HTTP in
// insecure mode, as the Home app would ask): the Record switch records on the box and shows it; the
// sensors follow recording, proxy viewers and power; a standby from HomeKit while a proxy viewer
// watches is refused with a HAP error and the box stays on; the momentary switches fall back to off;
// and the TV's power and a channel switch wake a box in deep standby with Wake-on-LAN.
import { join } from 'node:path';
import { Characteristic, Service } from 'hap-nodejs';
import { startSimulator, type Simulator } from '../../src/simulator';
import { until } from '../helpers/stack';
import {
  buildPlugin, findService, HapAccessory, HapClient, HapService, Homebridge, iidOf, PIN, randomMac, removeDir, short, tempDir, valueOf,
} from './harness';

jest.setTimeout(60_000);

const SERVUS_AAC = '1:0:19:132F:3EF:1:C00000:0:0:0:';
const ZDF_HD = '1:0:19:2B66:3F3:1:C00000:0:0:0:';
const NOT_ALLOWED_IN_CURRENT_STATE = -70412;
const OPEN = Characteristic.ContactSensorState.CONTACT_NOT_DETECTED;
const CLOSED = Characteristic.ContactSensorState.CONTACT_DETECTED;

let sim: Simulator;
let dir: string;
let hb: Homebridge;
let bridge: HapClient;
let tv: HapClient;
let proxy: string;

beforeAll(async () => {
  sim = await startSimulator();
  dir = tempDir();
  const plugins = buildPlugin(dir);
  const web = new URL(sim.webUrl);
  hb = new Homebridge(join(plugins, 'homebridge-xg2g'), join(dir, 'storage'), {
    bridge: { name: 'XG2G Control', username: randomMac(), pin: PIN, advertiser: 'ciao', bind: ['127.0.0.1'] },
    platforms: [{
      platform: 'XG2G', name: 'xg2g',
      receivers: [{
        name: 'Control Box', host: web.hostname, port: Number(web.port), bouquets: ['Favourites (TV)'],
        streamTarget: sim.streamUrl, refreshInterval: 1,
        wakeBroadcast: [`127.0.0.1:${sim.wakePort}`],
        recordSwitch: true, deepStandbySwitch: true, rebootSwitch: true,
        sensors: { recording: true, streaming: true, power: true, type: 'contact' },
      }],
      proxy: { listen: '127.0.0.1:0' }, api: { listen: '' }, mqtt: { enabled: false },
    }],
  });
  bridge = new HapClient(Number((await hb.waitFor(/\(XG2G Control\) is running on port (\d+)/))[1]));
  tv = new HapClient(Number((await hb.waitFor(/Control Box(?: [0-9A-F]{4})? is running on port (\d+)/))[1]));
  proxy = (await hb.waitFor(/Serving streams and status on (http:\/\/[0-9.]+:\d+)/))[1];
  await until(async () => (await bridge.accessories()).some((a) => nameOf(findService(a, Service.AccessoryInformation.UUID)!) === 'Control Box Reboot'),
    10_000, 'home-control accessories');
}, 90_000);

afterAll(async () => {
  if (hb && hb.child.exitCode === null) {
    hb.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([hb.exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
  }
  hb?.kill();
  await sim?.close();
  if (dir) removeDir(dir);
});

function nameOf(service: HapService): unknown {
  return valueOf(service, Characteristic.Name.UUID);
}

/** The bridged accessory whose information service carries this name. */
async function accessory(name: string): Promise<HapAccessory> {
  const found = (await bridge.accessories()).find((a) => nameOf(findService(a, Service.AccessoryInformation.UUID)!) === name);
  if (!found) throw new Error(`no accessory "${name}" on the bridge`);
  return found;
}

/** aid and iid of a characteristic on a named bridged accessory (a service picked by its name, else the first of the type). */
async function where(name: string, serviceType: string, characteristic: string, serviceName?: string): Promise<[number, number]> {
  const a = await accessory(name);
  const service = a.services.find((s) => s.type === short(serviceType) && (serviceName === undefined || nameOf(s) === serviceName));
  if (!service) throw new Error(`no service ${serviceName ?? serviceType} on "${name}"`);
  return [a.aid, iidOf(service, characteristic)];
}

async function read(at: [number, number]): Promise<unknown> {
  const { value, status } = await bridge.get(...at);
  if (status) throw new Error(`HAP status ${status}`);
  return typeof value === 'boolean' ? Number(value) : value;
}

const sensor = (kind: string): Promise<[number, number]> =>
  where('Control Box Sensors', Service.ContactSensor.UUID, Characteristic.ContactSensorState.UUID, `Control Box ${kind}`);
const switchOn = (name: string): Promise<[number, number]> => where(name, Service.Switch.UUID, Characteristic.On.UUID);

async function tvActive(): Promise<number> {
  const [accessory] = await tv.accessories();
  return iidOf(findService(accessory, Service.Television.UUID)!, Characteristic.Active.UUID);
}

async function statusinfo(): Promise<{ isRecording: string | boolean }> {
  return (await fetch(`${sim.webUrl.replace(/\/$/, '')}/api/statusinfo`)).json() as Promise<{ isRecording: string | boolean }>;
}

it('publishes the Record switch, the sensors and the momentary switches on the bridge, with clean names', async () => {
  for (const name of ['Control Box Record', 'Control Box Deep Standby', 'Control Box Reboot']) {
    expect(findService(await accessory(name), Service.Switch.UUID)).toBeDefined();
  }
  const sensors = (await accessory('Control Box Sensors')).services.filter((s) => s.type === short(Service.ContactSensor.UUID));
  expect(sensors.map(nameOf)).toEqual(['Control Box Recording', 'Control Box Streaming', 'Control Box Power']);
  expect(sensors.map((s) => valueOf(s, Characteristic.ConfiguredName.UUID))).toEqual(sensors.map(nameOf));
  expect(await read(await sensor('Power'))).toBe(OPEN);
  expect(await read(await sensor('Streaming'))).toBe(CLOSED);
  expect(await read(await switchOn('Control Box Reboot'))).toBe(0);
  expect(hb.log).not.toMatch(/HAP-NodeJS WARNING|generated a warning|characteristic was supplied|not in required or optional/i);
});

it('records from the Record switch, and shows it on the switch and the Recording sensor', async () => {
  const record = await switchOn('Control Box Record');
  expect(await read(record)).toBe(0);
  expect(await bridge.put(...record, true)).toBe(0);
  await until(async () => String((await statusinfo()).isRecording) === 'true', 10_000, 'the box records');
  await until(async () => (await read(record)) === 1 && (await read(await sensor('Recording'))) === OPEN, 5_000, 'switch and sensor on');

  expect(await bridge.put(...record, false)).toBe(0);
  await until(async () => String((await statusinfo()).isRecording) === 'false', 10_000, 'recording stopped');
  await until(async () => (await read(record)) === 0 && (await read(await sensor('Recording'))) === CLOSED, 5_000, 'switch and sensor off');
});

it('shows a proxy viewer on the Streaming sensor and refuses standby from HomeKit while they watch', async () => {
  const response = await fetch(`${proxy}/${SERVUS_AAC}`);
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  try {
    await reader.read();
    const streaming = await sensor('Streaming');
    await until(async () => (await read(streaming)) === OPEN, 5_000, 'Streaming sensor open');

    sim.clearRequests();
    const active = await tvActive();
    expect(await tv.put(1, active, 0)).toBe(NOT_ALLOWED_IN_CURRENT_STATE);
    // A second tap: refused again, and the log still says it once.
    expect(await tv.put(1, active, 0)).toBe(NOT_ALLOWED_IN_CURRENT_STATE);
    const deep = await switchOn('Control Box Deep Standby');
    expect(await bridge.put(...deep, true)).toBe(NOT_ALLOWED_IN_CURRENT_STATE);
    await until(async () => (await read(deep)) === 0, 5_000, 'Deep Standby back off');
    // The TV shows on again (it was pushed back after the refusal), and the box never got a power command.
    expect((await tv.get(1, active)).value).toBe(1);
    expect(sim.state.power).toBe('on');
    expect(sim.requests.filter((r) => r.path === '/api/powerstate' && r.query.newstate !== undefined)).toHaveLength(0);
    const refusals = hb.log.split('\n').filter((l) => /Control Box stays on: 1 viewer is watching/.test(l));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(/Stop those streams first/);
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  await until(async () => (await read(await sensor('Streaming'))) === CLOSED, 10_000, 'Streaming sensor closed');
});

it('falls back to off after the Reboot switch rebooted the box', async () => {
  const reboot = await switchOn('Control Box Reboot');
  sim.clearRequests();
  expect(await bridge.put(...reboot, true)).toBe(0);
  await until(() => sim.requests.some((r) => r.path === '/api/powerstate' && r.query.newstate === '2'), 5_000, 'reboot sent');
  await until(async () => (await read(reboot)) === 0, 5_000, 'Reboot back off');
});

it('sends the box to deep standby from its switch, shows it off, and wakes it from the TV with Wake-on-LAN', async () => {
  const deep = await switchOn('Control Box Deep Standby');
  const power = await sensor('Power');
  expect(await bridge.put(...deep, true)).toBe(0);
  await until(() => sim.state.power === 'deep', 5_000, 'deep standby');
  await until(async () => (await read(deep)) === 0, 5_000, 'Deep Standby back off');
  await until(async () => (await read(power)) === CLOSED, 10_000, 'Power sensor closed');
  // Asleep, not lost: the TV shows off (not "Not Responding"), so the Home app offers to turn it on.
  const active = await tvActive();
  await until(async () => {
    const { value, status } = await tv.get(1, active);
    return (status ?? 0) === 0 && value === 0;
  }, 10_000, 'TV off');

  expect(await tv.put(1, active, 1)).toBe(0);
  await until(() => sim.state.power === 'on', 30_000, 'woken by the magic packet');
  expect(sim.wakePackets.length).toBeGreaterThan(0);
  await until(async () => (await tv.get(1, active)).value === 1 && (await read(power)) === OPEN, 10_000, 'TV and Power sensor on');

  // Once more, woken by a channel switch this time: onto its channel.
  expect(await bridge.put(...deep, true)).toBe(0);
  await until(() => sim.state.power === 'deep', 5_000, 'deep standby again');
  await until(async () => (await read(power)) === CLOSED, 10_000, 'Power sensor closed again');
  const zdf = await switchOn('ZDF HD');
  expect(await read(zdf)).toBe(0);
  expect(await bridge.put(...zdf, true)).toBe(0);
  await until(() => sim.state.power === 'on' && sim.state.channelRef === ZDF_HD, 30_000, 'woken onto ZDF HD');
  await until(async () => (await read(zdf)) === 1, 10_000, 'ZDF HD switch on');
  expect(hb.child.exitCode).toBeNull();
});
