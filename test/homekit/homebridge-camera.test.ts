// The receiver as a HomeKit camera, end to end in one real Homebridge run against the simulator,
// with this test acting as the Home app over HAP's HTTP interface (insecure mode): the camera is on
// the bridge and offers H.264 over SRTP; a snapshot is a JPEG of the channel on screen at the asked
// width; a live view negotiated as the Home app does it (SetupEndpoints, then
// SelectedRTPStreamConfiguration START, in TLV8) arrives as SRTP that ffmpeg decrypts with the keys
// sent, H.264 and audio, while a proxy viewer of the same channel shares its one upstream; and STOP
// leaves no ffmpeg behind.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import http from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Characteristic, Service } from 'hap-nodejs';
import { startSimulator, type Simulator } from '../../src/simulator';
import { probe } from '../helpers/ffprobe';
import { processAlive, SERVUS_AAC, until } from '../helpers/stack';
import {
  buildPlugin, childrenOf, findService, HapAccessory, HapClient, HapConnection, HapService, Homebridge, iidOf, PIN, randomMac, removeDir,
  short, tempDir, valueOf,
} from './harness';

jest.setTimeout(90_000);

const run = promisify(execFile);
const CAMERA = 'Cam Box Live';
/** A live view's ffmpeg: it writes RTP (the feed adds SRTP on its way out). */
const LIVE_VIEW = /-f rtp rtp:\/\//;

let sim: Simulator;
let dir: string;
let hb: Homebridge;
let bridge: HapClient;
let proxy: string;
let viewer: ProxyViewer | undefined;
let receiver: ChildProcess | undefined;
let plugin: string;
let hbConfig: Record<string, unknown>;

beforeAll(async () => {
  sim = await startSimulator();
  // H.264 with AAC: the proxy passes it through, so every ffmpeg under Homebridge is the camera's.
  sim.setState({ power: 'on', channelRef: SERVUS_AAC });
  dir = tempDir();
  const plugins = buildPlugin(dir);
  const web = new URL(sim.webUrl);
  plugin = join(plugins, 'homebridge-xg2g');
  hbConfig = {
    bridge: { name: 'XG2G Camera', username: randomMac(), pin: PIN, advertiser: 'ciao', bind: ['127.0.0.1'] },
    platforms: [{
      platform: 'XG2G', name: 'xg2g',
      receivers: [{
        name: 'Cam Box', host: web.hostname, port: Number(web.port), bouquets: ['Favourites (TV)'],
        streamTarget: sim.streamUrl, refreshInterval: 1, tvAccessory: false, channelAccessories: false, cameraAccessory: true,
      }],
      proxy: { listen: '127.0.0.1:0' }, api: { listen: '' }, mqtt: { enabled: false },
    }],
  };
  hb = new Homebridge(plugin, join(dir, 'storage'), hbConfig);
  bridge = new HapClient(Number((await hb.waitFor(/\(XG2G Camera\) is running on port (\d+)/))[1]));
  proxy = (await hb.waitFor(/Serving streams and status on (http:\/\/[0-9.]+:\d+)/))[1];
  await until(async () => (await bridge.accessories()).some((a) => nameOf(a) === CAMERA), 15_000, `"${CAMERA}" on the bridge`);
}, 120_000);

/** SIGTERM, as a service manager stops Homebridge; SIGKILL after 10 s. */
async function stopHomebridge(): Promise<void> {
  if (hb && hb.child.exitCode === null && hb.child.signalCode === null) {
    hb.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([hb.exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
  }
  hb?.kill();
}

afterAll(async () => {
  receiver?.kill('SIGKILL');
  viewer?.close();
  await stopHomebridge();
  await sim?.close();
  if (dir) removeDir(dir);
});

// --- TLV8 as HAP-NodeJS's RTPStreamManagement reads and writes it -------------------------------

type TlvValue = Buffer | number | string;

/** Items as type, value pairs; a number is one byte; values over 255 bytes are split in fragments. */
function tlv(...items: Array<[number, TlvValue]>): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of items) {
    const data = typeof value === 'number' ? Buffer.from([value]) : typeof value === 'string' ? Buffer.from(value) : value;
    for (let at = 0; at === 0 || at < data.length; at += 255) {
      const chunk = data.subarray(at, at + 255);
      parts.push(Buffer.from([type, chunk.length]), chunk);
    }
  }
  return Buffer.concat(parts);
}

/** Type → value (fragments joined; a repeated type keeps its first run, enough for these messages). */
function untlv(data: Buffer): Record<number, Buffer> {
  const out: Record<number, Buffer> = {};
  let last = -1;
  for (let at = 0; at + 2 <= data.length;) {
    const type = data[at];
    const length = data[at + 1];
    const value = data.subarray(at + 2, at + 2 + length);
    if (type === last) out[type] = Buffer.concat([out[type], value]);
    else if (!(type in out)) out[type] = value;
    last = type;
    at += 2 + length;
  }
  return out;
}

/** Every value of one type at the top level (lists such as the supported resolutions). */
function allOf(data: Buffer, wanted: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 2 <= data.length; at += 2 + data[at + 1]) if (data[at] === wanted) out.push(data.subarray(at + 2, at + 2 + data[at + 1]));
  return out;
}

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const f32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(n);
  return b;
};

/** The SRTP keys a Home app makes for one live view. */
interface Keys { video: Buffer; videoSalt: Buffer; audio: Buffer; audioSalt: Buffer }

function newKeys(): Keys {
  return { video: randomBytes(16), videoSalt: randomBytes(14), audio: randomBytes(16), audioSalt: randomBytes(14) };
}

/** SetupEndpoints as the Home app writes it: session, its address and RTP ports, its SRTP keys. */
function setupEndpoints(sessionId: Buffer, videoPort: number, audioPort: number, keys: Keys): string {
  return tlv(
    [1, sessionId],
    [3, tlv([1, 0], [2, '127.0.0.1'], [3, u16(videoPort)], [4, u16(audioPort)])],
    [4, tlv([1, 0], [2, keys.video], [3, keys.videoSalt])],
    [5, tlv([1, 0], [2, keys.audio], [3, keys.audioSalt])],
  ).toString('base64');
}

/**
 * SelectedRTPStreamConfiguration START as the Home app picks it: H.264 main 4.0 at 1280x720, 30 fps,
 * 299 kbit/s, MTU 1378; Opus mono, variable bitrate, 16 kHz, 20 ms packets, 24 kbit/s.
 */
function startCommand(sessionId: Buffer): string {
  return tlv(
    [1, tlv([1, sessionId], [2, 1])],
    [2, tlv(
      [1, 0],
      [2, tlv([1, 1], [2, 2], [3, 0])],
      [3, tlv([1, u16(1280)], [2, u16(720)], [3, 30])],
      [4, tlv([1, 99], [2, u32(0x1234)], [3, u16(299)], [4, f32(0.5)], [5, u16(1378)])],
    )],
    [3, tlv(
      [1, 3],
      [2, tlv([1, 1], [2, 0], [3, 1], [4, 20])],
      [3, tlv([1, 110], [2, u32(0x5678)], [3, u16(24)], [4, f32(5)], [6, 13])],
      [4, 0],
    )],
  ).toString('base64');
}

const stopCommand = (sessionId: Buffer): string => tlv([1, tlv([1, sessionId], [2, 0])]).toString('base64');

// --- Home app helpers -----------------------------------------------------------------------------

function nameOf(accessory: HapAccessory): unknown {
  const info = findService(accessory, Service.AccessoryInformation.UUID);
  return info ? valueOf(info, Characteristic.Name.UUID) : undefined;
}

async function camera(): Promise<HapAccessory> {
  const found = (await bridge.accessories()).find((a) => nameOf(a) === CAMERA);
  if (!found) throw new Error(`no "${CAMERA}" on the bridge`);
  return found;
}

function streamServices(accessory: HapAccessory): HapService[] {
  return accessory.services.filter((s) => s.type === short(Service.CameraRTPStreamManagement.UUID));
}

const base64Of = (service: HapService, type: string): Buffer => Buffer.from(String(valueOf(service, type)), 'base64');

/** A VLC-like proxy viewer: reads the channel on, keeps the first `keep` bytes, drops the rest. */
class ProxyViewer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private request: http.ClientRequest | undefined;

  constructor(url: string, private readonly keep: number) {
    this.request = http.get(url, (res) => {
      res.on('data', (chunk: Buffer) => {
        if (this.size >= keep) return;
        this.chunks.push(chunk);
        this.size += chunk.length;
      });
      res.on('error', () => undefined);
    });
    this.request.on('error', () => undefined);
  }

  get full(): boolean {
    return this.size >= this.keep;
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  close(): void {
    this.request?.destroy();
    this.request = undefined;
  }
}

/** The first picture of a file as a 32x18 grey thumbnail, one byte per pixel. */
async function thumbnail(file: string): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-frames:v', '1', '-vf', 'scale=32:18', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 1 << 20 });
  return stdout;
}

/** A UDP port p with p + 1 free too (ffmpeg takes the next one for RTCP). */
async function freePortPair(avoid: number[] = []): Promise<number> {
  for (;;) {
    const a = createSocket('udp4');
    const port = await new Promise<number>((resolve) => a.bind(0, '127.0.0.1', () => resolve(a.address().port)));
    const b = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      b.once('error', () => resolve(false));
      b.bind(port + 1, '127.0.0.1', () => resolve(true));
    });
    a.close();
    if (ok) b.close();
    if (ok && port % 2 === 0 && !avoid.some((p) => Math.abs(p - port) < 2)) return port;
  }
}

/** True once something (the receiving ffmpeg) has bound the UDP port. */
function udpPortTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(true));
    s.bind(port, '127.0.0.1', () => {
      s.close();
      resolve(false);
    });
  });
}

/** The ffmpeg processes Homebridge runs now. */
function ffmpegChildren(): Array<{ pid: number; args: string }> {
  return childrenOf(hb.child.pid!).filter((p) => /ffmpeg/.test(p.args));
}

// --- the tests ------------------------------------------------------------------------------------

it('publishes the camera on the bridge, offering H.264 over SRTP (AES_CM_128_HMAC_SHA1_80) and the feed\'s audio', async () => {
  const accessory = await camera();
  const streams = streamServices(accessory);
  expect(streams).toHaveLength(2);
  const service = streams[0];
  const rtp = base64Of(service, Characteristic.SupportedRTPConfiguration.UUID);
  expect([...untlv(rtp)[2]]).toEqual([0]);

  const videoConfig = untlv(base64Of(service, Characteristic.SupportedVideoStreamConfiguration.UUID))[1];
  expect(untlv(videoConfig)[1][0]).toBe(0); // H.264
  const sizes = allOf(videoConfig, 3).map((attr) => {
    const a = untlv(attr);
    return `${a[1].readUInt16LE(0)}x${a[2].readUInt16LE(0)}@${a[3][0]}`;
  });
  expect(sizes).toEqual(expect.arrayContaining(['1920x1080@30', '1280x720@30', '640x360@30', '480x270@30', '320x240@15']));

  const audio = allOf(base64Of(service, Characteristic.SupportedAudioStreamConfiguration.UUID), 1).map((c) => untlv(c)[1][0]);
  expect(audio).toContain(3); // Opus
  expect(hb.log).not.toMatch(/HAP-NodeJS WARNING|generated a warning|characteristic was supplied|not in required or optional/i);
});

it('answers a snapshot with a JPEG of the channel on screen, at the width asked', async () => {
  viewer = new ProxyViewer(`${proxy}/${SERVUS_AAC}`, 800_000);
  await until(() => viewer!.full, 20_000, 'the proxy viewer to receive 800 kB');
  const { aid } = await camera();
  const snap = await bridge.resource({ 'resource-type': 'image', 'image-width': 640, 'image-height': 360, aid });
  expect(snap.status).toBe(200);
  expect([...snap.body.subarray(0, 2)]).toEqual([0xff, 0xd8]);
  expect([...snap.body.subarray(-2)]).toEqual([0xff, 0xd9]);
  const work = join(dir, 'snapshot');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'snap.jpg'), snap.body);
  writeFileSync(join(work, 'viewer.ts'), viewer.bytes);
  const [picture] = await probe(join(work, 'snap.jpg'));
  expect(picture.width).toBe(640);
  expect(picture.height).toBe(360);
  // The channel's own picture, not a placeholder: it looks like a frame the proxy viewer received.
  const [a, b] = [await thumbnail(join(work, 'snap.jpg')), await thumbnail(join(work, 'viewer.ts'))];
  expect(a.length).toBe(b.length);
  const meanDifference = a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;
  expect(meanDifference).toBeLessThan(24);
});

it('streams a live view over SRTP as the Home app negotiates it, sharing the proxy viewer\'s upstream, and STOP leaves no ffmpeg', async () => {
  expect(viewer).toBeDefined();
  const accessory = await camera();
  const service = streamServices(accessory)[0];
  const setup = iidOf(service, Characteristic.SetupEndpoints.UUID);
  const selected = iidOf(service, Characteristic.SelectedRTPStreamConfiguration.UUID);
  const status = iidOf(service, Characteristic.StreamingStatus.UUID);
  const home = new HapConnection(bridge.port);
  try {
    const sessionId = randomBytes(16);
    const videoPort = await freePortPair();
    const audioPort = await freePortPair([videoPort]);
    const keys = newKeys();

    // 1. SetupEndpoints: where the Home app listens and its SRTP keys.
    expect(await home.put(accessory.aid, setup, setupEndpoints(sessionId, videoPort, audioPort, keys))).toBe(0);
    const answer = untlv(Buffer.from(String((await home.get(accessory.aid, setup)).value), 'base64'));
    expect(answer[1].equals(sessionId)).toBe(true);
    expect(answer[2][0]).toBe(0); // success
    const address = untlv(answer[3]);
    expect(address[2].toString()).toBe('127.0.0.1');
    expect(address[3].readUInt16LE(0)).toBeGreaterThan(0);
    expect(address[4].readUInt16LE(0)).toBeGreaterThan(0);
    // The accessory encrypts with the Home app's keys and answers them back.
    expect(untlv(answer[4])[2].equals(keys.video)).toBe(true);
    expect(untlv(answer[5])[3].equals(keys.audioSalt)).toBe(true);
    const videoSsrc = answer[6].readUInt32LE(0);
    const audioSsrc = answer[7].readUInt32LE(0);
    expect(videoSsrc).not.toBe(audioSsrc);

    // 2. A receiver for both SRTP streams, as the Home app decodes them.
    const work = join(dir, 'live');
    mkdirSync(work, { recursive: true });
    const inline = (key: Buffer, salt: Buffer): string => Buffer.concat([key, salt]).toString('base64');
    writeFileSync(join(work, 'home.sdp'), [
      'v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=Home app', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=video ${videoPort} RTP/SAVP 99`, 'a=rtpmap:99 H264/90000', 'a=fmtp:99 packetization-mode=1',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${inline(keys.video, keys.videoSalt)}`,
      `m=audio ${audioPort} RTP/SAVP 110`, 'a=rtpmap:110 opus/48000/2',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${inline(keys.audio, keys.audioSalt)}`, '',
    ].join('\n'));
    const recording = join(work, 'live.ts');
    let receiverLog = '';
    receiver = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file,udp,rtp,srtp,crypto',
      '-i', join(work, 'home.sdp'), '-t', '3', '-map', '0', '-c', 'copy', '-f', 'mpegts', '-y', recording], { stdio: ['ignore', 'ignore', 'pipe'] });
    receiver.stderr!.on('data', (c: Buffer) => (receiverLog += c.toString()));
    const received = new Promise<number | null>((resolve) => receiver!.once('exit', (code) => resolve(code)));
    await until(async () => (await udpPortTaken(videoPort)) && (await udpPortTaken(audioPort)), 10_000, 'the receiving ffmpeg to listen');

    // 3. START with the parameters the Home app picks.
    expect(await home.put(accessory.aid, selected, startCommand(sessionId))).toBe(0);
    await until(() => ffmpegChildren().some((p) => LIVE_VIEW.test(p.args)), 15_000, 'the live view\'s ffmpeg');
    // One tuner: the camera is a client of the proxy viewer's session, not a second upstream.
    expect(sim.activeStreams()).toHaveLength(1);

    const code = await Promise.race([received, new Promise<'late'>((r) => setTimeout(() => r('late'), 45_000).unref())]);
    expect({ code, log: receiverLog.slice(-2000) }).toEqual({ code: 0, log: expect.any(String) });
    const streams = await probe(recording);
    const video = streams.find((s) => s.codec_type === 'video');
    expect(video?.codec_name).toBe('h264');
    expect(video?.width).toBeGreaterThan(0);
    expect(streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('opus');
    expect(readFileSync(recording).length).toBeGreaterThan(10_000);
    expect(sim.activeStreams()).toHaveLength(1);

    // 4. STOP: the live view's ffmpeg ends; the proxy viewer plays on.
    expect(await home.put(accessory.aid, selected, stopCommand(sessionId))).toBe(0);
    await until(() => !ffmpegChildren().some((p) => LIVE_VIEW.test(p.args)), 15_000, 'the live view\'s ffmpeg to end');
    const available = untlv(Buffer.from(String((await home.get(accessory.aid, status)).value), 'base64'));
    expect(available[1][0]).toBe(0);
    expect(sim.activeStreams()).toHaveLength(1);
    expect(hb.log).toMatch(/Cam Box Live: live view started/);
  } finally {
    home.close();
  }

  // The viewer leaves too: no upstream and no ffmpeg of the camera's left.
  viewer!.close();
  viewer = undefined;
  await until(() => sim.activeStreams().length === 0, 15_000, 'the upstream to close');
  await until(() => ffmpegChildren().length === 0, 15_000, () => `no ffmpeg under Homebridge (left: ${JSON.stringify(ffmpegChildren())})`);
  expect(hb.child.exitCode).toBeNull();
});

it('ends a live view in HomeKit too when it ends by itself (the box went to standby), freeing the stream for the next', async () => {
  const accessory = await camera();
  const service = streamServices(accessory)[0];
  const setup = iidOf(service, Characteristic.SetupEndpoints.UUID);
  const selected = iidOf(service, Characteristic.SelectedRTPStreamConfiguration.UUID);
  const status = iidOf(service, Characteristic.StreamingStatus.UUID);
  const statusNow = async (): Promise<number> => untlv(Buffer.from(String((await home.get(accessory.aid, status)).value), 'base64'))[1][0];
  const home = new HapConnection(bridge.port);
  try {
    const sessionId = randomBytes(16);
    const videoPort = await freePortPair();
    const audioPort = await freePortPair([videoPort]);
    expect(await home.put(accessory.aid, setup, setupEndpoints(sessionId, videoPort, audioPort, newKeys()))).toBe(0);
    expect(await home.put(accessory.aid, selected, startCommand(sessionId))).toBe(0);
    await until(() => ffmpegChildren().some((p) => LIVE_VIEW.test(p.args)), 15_000, 'the live view\'s ffmpeg');
    expect(await statusNow()).toBe(1); // in use

    sim.setState({ power: 'standby' });
    // No STOP was written: only the delegate's forceStopStreamingSession frees HAP's stream.
    await until(async () => (await statusNow()) === 0, 15_000, 'the stream to be available again');
    await until(() => !ffmpegChildren().some((p) => LIVE_VIEW.test(p.args)), 15_000, 'the live view\'s ffmpeg to end');
    await until(() => /The live view of Cam Box ended: Cam Box went to standby/.test(hb.log), 5_000, 'the end in the log');

    // A new live view while the box sleeps: set up, then refused with the feed's reason.
    const next = randomBytes(16);
    expect(await home.put(accessory.aid, setup, setupEndpoints(next, videoPort, audioPort, newKeys()))).toBe(0);
    expect(untlv(Buffer.from(String((await home.get(accessory.aid, setup)).value), 'base64'))[2][0]).toBe(0);
    expect(await home.put(accessory.aid, selected, startCommand(next))).not.toBe(0);
    // The log comes through Homebridge's stdout, which may trail the HAP answer.
    await until(() => /Cam Box Live: the live view could not start: Cam Box is in standby/.test(hb.log), 5_000, 'the refusal in the log');
    expect(await statusNow()).toBe(0);
  } finally {
    home.close();
    sim.setState({ power: 'on' });
    // Two polls of the box after it woke: the plugin has seen it on.
    sim.clearRequests();
    await until(() => sim.requests.filter((r) => /statusinfo/.test(r.path)).length >= 2, 15_000, 'the plugin to see the box on again');
  }
});

it('ends a running live view with Homebridge, and restores the cached camera after a restart: same accessory, pictures again', async () => {
  const before = await camera();
  // A live view runs (to ports nobody listens on: a viewer that vanished) when Homebridge stops.
  const service = streamServices(before)[0];
  const home = new HapConnection(bridge.port);
  const sessionId = randomBytes(16);
  const videoPort = await freePortPair();
  const audioPort = await freePortPair([videoPort]);
  expect(await home.put(before.aid, iidOf(service, Characteristic.SetupEndpoints.UUID), setupEndpoints(sessionId, videoPort, audioPort, newKeys()))).toBe(0);
  expect(await home.put(before.aid, iidOf(service, Characteristic.SelectedRTPStreamConfiguration.UUID), startCommand(sessionId))).toBe(0);
  await until(() => ffmpegChildren().some((p) => LIVE_VIEW.test(p.args)), 15_000, 'the live view\'s ffmpeg');
  const running = ffmpegChildren().map((p) => p.pid);
  await stopHomebridge();
  home.close();
  expect(hb.child.signalCode).toBe(null); // it exited by itself after SIGTERM, not killed
  expect(running.filter(processAlive)).toEqual([]);
  expect(hb.log).toMatch(/Stopped: receivers, stream proxy and every ffmpeg process/);

  hb = new Homebridge(plugin, join(dir, 'storage'), hbConfig);
  bridge = new HapClient(Number((await hb.waitFor(/\(XG2G Camera\) is running on port (\d+)/))[1]));
  await hb.waitFor(/Cam Box: .*channel\(s\)/);
  const cameras = (await bridge.accessories()).filter((a) => nameOf(a) === CAMERA);
  expect(cameras.map((a) => a.aid)).toEqual([before.aid]);
  expect(streamServices(cameras[0])).toHaveLength(2);
  const snap = await bridge.resource({ 'resource-type': 'image', 'image-width': 320, 'image-height': 180, aid: before.aid });
  expect(snap.status).toBe(200);
  expect([...snap.body.subarray(0, 2)]).toEqual([0xff, 0xd8]);
  expect(hb.log).not.toMatch(/is on the bridge|Removing|replacing/);
});
