// End to end: a real Homebridge (insecure mode) loads the built plugin against the simulator, and
// everything is checked through HAP's HTTP interface: the accessories, zaps from the TV and from a
// channel accessory, power both ways, changes on the box showing up within a poll, and a clean
// SIGTERM that leaves no ffmpeg behind.
import { execFileSync, fork } from 'node:child_process';
import { join } from 'node:path';
import { Characteristic, Service } from 'hap-nodejs';
import { channelId, channelNumber, parseServiceRef } from '../../src/receiver/service-ref';
import { startSimulator, type Simulator } from '../../src/simulator';
import { processAlive, until } from '../helpers/stack';
import {
  buildPlugin, favourites, findService, HapAccessory, HapClient, Homebridge, iidOf, PIN, randomMac, removeDir, short, simulatorPlatform, tempDir, valueOf,
} from './harness';

jest.setTimeout(60_000);

const ZDF_HD = '1:0:19:2B66:3F3:1:C00000:0:0:0:';
const ARTE_HD = '1:0:19:283E:3FB:1:C00000:0:0:0:';
const SAT3_HD = '1:0:19:2B8E:3F2:1:C00000:0:0:0:';
const DAS_ERSTE_HD = '1:0:19:283D:3FB:1:C00000:0:0:0:';

let sim: Simulator;
let dir: string;
let hb: Homebridge;
let bridge: HapClient;
let tv: HapClient;
let plugins: string;

function infoSerial(accessory: HapAccessory): unknown {
  return valueOf(findService(accessory, Service.AccessoryInformation.UUID)!, Characteristic.SerialNumber.UUID);
}

beforeAll(async () => {
  sim = await startSimulator();
  dir = tempDir();
  plugins = buildPlugin(dir);
  hb = new Homebridge(join(plugins, 'homebridge-xg2g'), join(dir, 'storage'), {
    // ciao works in this sandbox (loopback only); no bridge port: HAP picks free ones and logs them.
    bridge: { name: 'XG2G Test', username: randomMac(), pin: PIN, advertiser: 'ciao', bind: ['127.0.0.1'] },
    platforms: [simulatorPlatform(sim)],
  });
  const bridgePort = await hb.waitFor(/\(XG2G Test\) is running on port (\d+)/);
  const tvPort = await hb.waitFor(/Test Box(?: [0-9A-F]{4})? is running on port (\d+)/);
  bridge = new HapClient(Number(bridgePort[1]));
  tv = new HapClient(Number(tvPort[1]));
}, 90_000);

afterAll(async () => {
  hb?.kill();
  await sim?.close();
  if (dir) removeDir(dir);
});

async function tvAccessory(): Promise<HapAccessory> {
  const [accessory] = await tv.accessories();
  return accessory;
}

async function tvValue(characteristic: string, service = Service.Television.UUID): Promise<unknown> {
  const s = findService(await tvAccessory(), service)!;
  return (await tv.get(1, iidOf(s, characteristic))).value;
}

async function channelAccessory(ref: string): Promise<HapAccessory> {
  const all = await bridge.accessories();
  const found = all.find((a) => infoSerial(a) === channelId(parseServiceRef(ref)));
  if (!found) throw new Error(`no channel accessory for ${ref}`);
  return found;
}

/** The switch's On as HAP sends it over HTTP (booleans as 1/0); undefined while Not Responding. */
async function switchOn(ref: string): Promise<boolean | undefined> {
  const accessory = await channelAccessory(ref);
  const s = findService(accessory, Service.Switch.UUID)!;
  const { value } = await bridge.get(accessory.aid, iidOf(s, Characteristic.On.UUID));
  return value === undefined ? undefined : value === true || value === 1;
}

it('publishes the TV with an input per favourite, a speaker and the box\'s device info', async () => {
  const accessory = await tvAccessory();
  const television = findService(accessory, Service.Television.UUID)!;
  expect(television).toBeDefined();
  const inputs = accessory.services.filter((s) => s.type === short(Service.InputSource.UUID));
  const expected = favourites(sim);
  expect(inputs.map((s) => valueOf(s, Characteristic.Identifier.UUID))).toEqual(expected.map((r) => channelNumber(parseServiceRef(r))));
  for (const input of inputs) {
    expect(valueOf(input, Characteristic.InputSourceType.UUID)).toBe(Characteristic.InputSourceType.TUNER);
    expect(String(valueOf(input, Characteristic.ConfiguredName.UUID))).toMatch(/^[\p{L}\p{N}][\p{L}\p{N} '.,-]*[\p{L}\p{N}]$/u);
  }
  expect(television.linked).toEqual(expect.arrayContaining(inputs.map((s) => s.iid)));
  // HomeKit is told the bouquet order (identifiers are hashes, so they do not rise with it).
  const order = Buffer.from(String(valueOf(television, Characteristic.DisplayOrder.UUID)), 'base64');
  expect(decodeDisplayOrder(order)).toEqual(expected.map((r) => channelNumber(parseServiceRef(r))));
  expect(findService(accessory, Service.TelevisionSpeaker.UUID)).toBeDefined();
  const info = findService(accessory, Service.AccessoryInformation.UUID)!;
  const device = await (await fetch(`${sim.webUrl.replace(/\/$/, '')}/api/deviceinfo`)).json() as { brand: string; model: string };
  expect(valueOf(info, Characteristic.Manufacturer.UUID)).toBe(device.brand);
  expect(valueOf(info, Characteristic.Model.UUID)).toBe(device.model);
  expect(hb.log).toContain(`enter the setup code ${PIN}`);
  // HAP-NodeJS warns about names HomeKit refuses and values out of range; none may appear.
  expect(hb.log).not.toMatch(/HAP-NodeJS WARNING|generated a warning|characteristic was supplied/i);
});

it('bridges one switch accessory per favourite channel', async () => {
  const all = await bridge.accessories();
  const serials = all.map(infoSerial);
  for (const ref of favourites(sim)) expect(serials).toContain(channelId(parseServiceRef(ref)));
  expect(all.filter((a) => findService(a, Service.Switch.UUID))).toHaveLength(favourites(sim).length);
});

it('zaps from the TV\'s ActiveIdentifier and from a channel switch', async () => {
  const television = findService(await tvAccessory(), Service.Television.UUID)!;
  expect(await tv.put(1, iidOf(television, Characteristic.ActiveIdentifier.UUID), channelNumber(parseServiceRef(ZDF_HD)))).toBe(0);
  await until(() => sim.state.channelRef === ZDF_HD, 5_000, 'zap to ZDF HD');
  expect(sim.requests.some((r) => r.path === '/api/zap' && r.query.sRef === ZDF_HD)).toBe(true);

  const arte = await channelAccessory(ARTE_HD);
  const arteSwitch = findService(arte, Service.Switch.UUID)!;
  expect(await bridge.put(arte.aid, iidOf(arteSwitch, Characteristic.On.UUID), true)).toBe(0);
  await until(() => sim.state.channelRef === ARTE_HD, 5_000, 'zap to arte HD');
  await until(async () => (await switchOn(ARTE_HD)) === true && (await switchOn(ZDF_HD)) === false, 5_000, 'switch states');
});

it('turns the box off and on with Active (powerstate 5 and 4)', async () => {
  const active = iidOf(findService(await tvAccessory(), Service.Television.UUID)!, Characteristic.Active.UUID);
  sim.clearRequests();
  expect(await tv.put(1, active, 0)).toBe(0);
  await until(() => sim.state.power === 'standby', 5_000, 'standby');
  expect(sim.requests.filter((r) => r.path === '/api/powerstate').map((r) => r.query.newstate)).toEqual(['5']);
  sim.clearRequests();
  expect(await tv.put(1, active, 1)).toBe(0);
  await until(() => sim.state.power === 'on', 5_000, 'wake');
  expect(sim.requests.filter((r) => r.path === '/api/powerstate').map((r) => r.query.newstate)).toEqual(['4']);

  // Choosing an input while the box sleeps wakes it first (the box's own zap would not).
  sim.setState({ power: 'standby' });
  const identifier = iidOf(findService(await tvAccessory(), Service.Television.UUID)!, Characteristic.ActiveIdentifier.UUID);
  expect(await tv.put(1, identifier, channelNumber(parseServiceRef(ZDF_HD)))).toBe(0);
  await until(() => sim.state.power === 'on' && sim.state.channelRef === ZDF_HD, 10_000, 'wake and zap');
});

it('shows changes made on the box within a poll interval', async () => {
  sim.setState({ power: 'on', channelRef: SAT3_HD, volume: 33, muted: false });
  await until(async () => (await tvValue(Characteristic.ActiveIdentifier.UUID)) === channelNumber(parseServiceRef(SAT3_HD)), 3_000, 'channel change');
  await until(async () => (await tvValue(Characteristic.Volume.UUID, Service.TelevisionSpeaker.UUID)) === 33, 3_000, 'volume');
  expect(await switchOn(SAT3_HD)).toBe(true);
  sim.setState({ power: 'standby' });
  await until(async () => (await tvValue(Characteristic.Active.UUID)) === 0, 3_000, 'standby shown');
  expect(await switchOn(SAT3_HD)).toBe(false);
  sim.setState({ power: 'on', channelRef: DAS_ERSTE_HD });
  await until(async () => (await tvValue(Characteristic.Active.UUID)) === 1, 3_000, 'on shown');
});

it('shows Not Responding while the box is unreachable and recovers by itself', async () => {
  const accessory = await tvAccessory();
  const active = iidOf(findService(accessory, Service.Television.UUID)!, Characteristic.Active.UUID);
  const arte = await channelAccessory(ARTE_HD);
  const arteOn = iidOf(findService(arte, Service.Switch.UUID)!, Characteristic.On.UUID);
  sim.setFault('refuse');
  try {
    const NOT_RESPONDING = -70402;
    await until(async () => (await tv.get(1, active)).status === NOT_RESPONDING, 5_000, 'TV not responding');
    expect((await bridge.get(arte.aid, arteOn)).status).toBe(NOT_RESPONDING);
    // A write while the box is away fails cleanly too. (Not "on": that would send a Wake-on-LAN
    // packet and wait for the box, see homebridge-control.test.ts.)
    expect(await tv.put(1, active, 0)).toBe(NOT_RESPONDING);
  } finally {
    sim.setFault(null);
  }
  await until(async () => (await tv.get(1, active)).value === 1, 10_000, 'TV back');
  expect((await bridge.get(arte.aid, arteOn)).status ?? 0).toBe(0);
  expect(hb.child.exitCode).toBeNull();
});

it('answers the settings screen\'s bouquet request from the published homebridge-ui/server.js', async () => {
  const server = fork(join(plugins, 'homebridge-xg2g', 'homebridge-ui', 'server.js'), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  try {
    const messages: Array<{ action: string; payload: { success?: boolean; data?: { ok: boolean; bouquets?: string[] } } }> = [];
    server.on('message', (m) => void messages.push(m as (typeof messages)[number]));
    await until(() => messages.some((m) => m.action === 'ready'), 10_000, 'UI server ready');
    const web = new URL(sim.webUrl);
    server.send({ action: 'request', path: '/bouquets', requestId: 1, body: { host: web.hostname, port: web.port } });
    await until(() => messages.some((m) => m.action === 'response'), 10_000, 'UI server response');
    const response = messages.find((m) => m.action === 'response')!.payload;
    expect(response.success).toBe(true);
    expect(response.data?.ok).toBe(true);
    expect(response.data?.bouquets).toContain('Favourites (TV)');
  } finally {
    server.kill('SIGTERM');
  }
});

it('stops cleanly on SIGTERM with no ffmpeg left', async () => {
  // A transcoded stream through the plugin's proxy, so an ffmpeg child runs when Homebridge stops.
  const proxy = /Serving streams and status on (http:\/\/[0-9.]+:\d+)/.exec(hb.log)?.[1];
  expect(proxy).toBeDefined();
  const response = await fetch(`${proxy}/${DAS_ERSTE_HD}`);
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  await reader.read();
  const ffmpeg = childFfmpeg(hb.child.pid!);
  expect(ffmpeg.length).toBeGreaterThan(0);

  hb.child.kill('SIGTERM');
  const exit = await hb.exited;
  await reader.cancel().catch(() => undefined);
  expect([0, 143]).toContain(exit.code ?? 143);
  expect(hb.log).toContain('Stopped: receivers, stream proxy and every ffmpeg process.');
  for (const pid of ffmpeg) expect(processAlive(pid)).toBe(false);
});

/** The identifiers of a DisplayOrder TLV8: tag 1 items (little-endian), tag 0 separators. */
function decodeDisplayOrder(tlv: Buffer): number[] {
  const ids: number[] = [];
  for (let i = 0; i + 2 <= tlv.length;) {
    const [tag, length] = [tlv[i], tlv[i + 1]];
    if (tag === 1) ids.push(tlv.readUIntLE(i + 2, length));
    i += 2 + length;
  }
  return ids;
}

/** Pids of ffmpeg processes whose parent is `pid`. */
function childFfmpeg(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), 'ffmpeg'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
