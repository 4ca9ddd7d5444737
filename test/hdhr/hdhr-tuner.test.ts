// The emulated HDHomeRun against the simulator, as media servers use it: a client doing what Plex
// and Jellyfin do (discover.json → LineupURL → lineup.json → an H.264 channel's URL), the scan
// endpoint, device.xml, an SSDP M-SEARCH and the UDP 65001 discover on loopback, the tuner freed
// when the client stops reading, and everything off (404, no UDP socket) while hdhr.enabled is off.
import dgram, { Socket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { crc32 } from '../../src/stream/hdhr-discovery';
import { isValidDeviceId } from '../../src/stream/hdhr';
import { probe } from '../helpers/ffprobe';
import { channelsLoaded, fetchBytes, Stack, startStack, until } from '../helpers/stack';

/** Jellyfin's discover request, byte for byte (HdHomerunHost.DiscoverDevices): any tuner, any id. */
const JELLYFIN_DISCOVER = Buffer.from([0, 2, 0, 12, 1, 4, 255, 255, 255, 255, 2, 4, 255, 255, 255, 255, 115, 204, 125, 143]);

interface Discover {
  FriendlyName: string; Manufacturer: string; ModelNumber: string; FirmwareName: string; FirmwareVersion: string;
  DeviceID: string; DeviceAuth: string; BaseURL: string; LineupURL: string; TunerCount: number;
}
interface LineupEntry { GuideNumber: string; GuideName: string; URL: string; HD?: number; VideoCodec?: string; AudioCodec?: string }

const getJson = async <T>(url: string): Promise<T> => {
  const response = await fetchBytes(url);
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return JSON.parse(response.body.toString()) as T;
};

/** UDP sockets this process holds (Linux): fds that are sockets, matched against /proc/net/udp*. */
/** UDP sockets this process has open, but those on `except` ports (the simulator's wake listener). */
function udpSockets(except: number[] = []): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // Closed meanwhile.
    }
  }
  const rows = ['/proc/net/udp', '/proc/net/udp6'].filter(existsSync).flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').slice(1));
  const port = (row: string): number => parseInt(row.trim().split(/\s+/)[1].split(':')[1], 16);
  return rows.filter((row) => inodes.has(row.trim().split(/\s+/)[9]) && !except.includes(port(row))).length;
}

/** A client socket on loopback that collects what comes back. */
async function udpClient(): Promise<{ socket: Socket; received: Buffer[]; send(port: number, packet: Buffer): Promise<void>; close(): void }> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (message: Buffer) => void received.push(message));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    socket,
    received,
    send: (port, packet) => new Promise<void>((resolve, reject) => socket.send(packet, port, '127.0.0.1', (error) => (error ? reject(error) : resolve()))),
    close: () => socket.close(),
  };
}

const mSearch = (st: string): Buffer => Buffer.from(`M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ${st}\r\n\r\n`);

/** The headers of an SSDP answer, names upper-cased. */
function ssdpHeaders(answer: Buffer): Map<string, string> {
  const [status, ...lines] = answer.toString().split('\r\n');
  expect(status).toBe('HTTP/1.1 200 OK');
  return new Map(lines.filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).toUpperCase(), l.slice(l.indexOf(':') + 1).trim()]));
}

/** The TLVs of a discover reply, after checking its type, length and CRC. */
function discoverReply(packet: Buffer): Map<number, Buffer> {
  expect(packet.readUInt16BE(0)).toBe(0x0003);
  const end = 4 + packet.readUInt16BE(2);
  expect(packet.length).toBe(end + 4);
  expect(packet.readUInt32LE(end)).toBe(crc32(packet.subarray(0, end)));
  const tags = new Map<number, Buffer>();
  for (let pos = 4; pos < end;) {
    const tag = packet[pos++];
    let length = packet[pos++];
    if (length & 0x80) length = (length & 0x7f) | (packet[pos++] << 7);
    tags.set(tag, packet.subarray(pos, pos + length));
    pos += length;
  }
  return tags;
}

describe('HDHomeRun tuner emulation', () => {
  let stack: Stack;
  let udpBefore: number;
  beforeAll(async () => {
    udpBefore = udpSockets();
    stack = await startStack({ block: { hdhr: { enabled: true } }, app: { ssdpPort: 0, hdhrDiscoveryPort: 0 } });
    await channelsLoaded(stack);
  });
  afterAll(() => stack?.stop());

  it('binds its two discovery sockets on loopback, as the proxy listens there', () => {
    expect(stack.app.discoveryPorts).toEqual({ ssdp: expect.any(Number), hdhr: expect.any(Number) });
    expect(udpSockets([stack.sim.wakePort]) - udpBefore).toBe(2);
  });

  it('walks Plex\'s and Jellyfin\'s way to a channel that ffprobe reads as H.264 with AAC, and frees the tuner after', async () => {
    // Both ask the address the user typed in for discover.json, then follow LineupURL.
    const discover = await getJson<Discover>(`${stack.url}/discover.json`);
    expect(discover).toMatchObject({ Manufacturer: 'Silicondust', ModelNumber: 'HDTC-2US', FirmwareName: 'hdhomeruntc_atsc', FriendlyName: 'xg2g Test Box', BaseURL: stack.url, TunerCount: 2 });
    expect(discover.DeviceID).toMatch(/^[0-9A-F]{8}$/);
    expect(isValidDeviceId(parseInt(discover.DeviceID, 16))).toBe(true);
    expect(discover.LineupURL).toBe(`${stack.url}/lineup.json`);

    const status = await getJson<Record<string, unknown>>(`${discover.BaseURL}/lineup_status.json`);
    expect(status).toEqual({ ScanInProgress: 0, ScanPossible: 1, Source: 'Cable', SourceList: ['Cable'] });

    const lineup = await getJson<LineupEntry[]>(discover.LineupURL);
    const channels = stack.app.receivers[0].channels().all;
    // Jellyfin keys channels by GuideNumber: unique, and the channel numbers of the bouquets.
    expect(new Set(lineup.map((e) => e.GuideNumber)).size).toBe(lineup.length);
    for (const entry of lineup) expect(channels.find((c) => String(c.number) === entry.GuideNumber)?.name).toBe(entry.GuideName);
    // Radio is left out; every TV channel is in.
    expect(lineup.map((e) => e.GuideName)).not.toContain('Bayern 3');
    expect(lineup).toHaveLength(channels.filter((c) => c.kind === 'tv').length);

    const h264 = lineup.find((e) => e.VideoCodec === 'H264' && e.HD === 1)!;
    expect(h264).toMatchObject({ GuideName: 'Das Erste HD', AudioCodec: 'AAC' });
    expect(h264.URL.startsWith(`${stack.url}/`)).toBe(true);
    const streams = stack.app.streams[0].sessions;
    const reading = fetchBytes(h264.URL, 600_000);
    await until(() => streams.list().length === 1, 15_000, 'the session');
    const session = streams.list()[0];
    const stopped = new Promise<string>((resolve) => session.once('stopped', resolve));
    const { status: code, body } = await reading;
    expect(code).toBe(200);
    const probed = await probe(body);
    expect(probed.find((s) => s.codec_type === 'video')?.codec_name).toBe('h264');
    expect(probed.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name)).toContain('aac');

    // fetchBytes hung up: the session lingers, then frees the tuner on the box.
    expect(await stopped).toBe('idle');
    await until(() => stack.sim.activeStreams().length === 0, 10_000, 'the box\'s tuner to be free');
    expect(streams.list()).toHaveLength(0);
  }, 60_000);

  it('redirects /auto/v<number> to that channel\'s stream URL', async () => {
    const lineup = await getJson<LineupEntry[]>(`${stack.url}/lineup.json`);
    const response = await fetchBytes(`${stack.url}/auto/v${lineup[1].GuideNumber}`);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(lineup[1].URL);
    expect((await fetchBytes(`${stack.url}/auto/v999999`)).status).toBe(404);
    // Jellyfin appends ?transcode=<profile> for this model: the proxy serves the channel as it is.
    const head = await fetchBytes(`${lineup[1].URL}?transcode=heavy`, Infinity, 15_000, 'HEAD');
    expect([head.status, head.headers['content-type']]).toEqual([200, 'video/mp2t']);
  });

  it('accepts a channel scan by POST and answers it 200 with an empty body', async () => {
    for (const action of ['start&source=Cable', 'abort']) {
      const response = await fetchBytes(`${stack.url}/lineup.post?scan=${action}`, Infinity, 15_000, 'POST');
      expect(response.status).toBe(200);
      expect(response.body.length).toBe(0);
    }
    expect((await fetchBytes(`${stack.url}/lineup.post?scan=everything`, Infinity, 15_000, 'POST')).status).toBe(400);
    expect((await fetchBytes(`${stack.url}/lineup.post?scan=start`)).status).toBe(405);
    // POST is let through for that path only.
    expect((await fetchBytes(`${stack.url}/discover.json`, Infinity, 15_000, 'POST')).status).toBe(405);
    expect((await fetchBytes(`${stack.url}/playlist.m3u`, Infinity, 15_000, 'POST')).status).toBe(405);
  });

  it('describes itself in device.xml', async () => {
    const response = await fetchBytes(`${stack.url}/device.xml`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/xml/);
    const xml = response.body.toString();
    const discover = await getJson<Discover>(`${stack.url}/discover.json`);
    expect(xml).toContain('<deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>');
    expect(xml).toContain('<friendlyName>xg2g Test Box</friendlyName>');
    expect(xml).toContain(`<serialNumber>${discover.DeviceID}</serialNumber>`);
    expect(xml).toMatch(/<UDN>uuid:[0-9a-f-]{36}<\/UDN>/);
    expect(xml).toContain(`<URLBase>${stack.url}</URLBase>`);
  });

  it('answers a unicast M-SEARCH with a LOCATION that serves device.xml, and only for its own targets', async () => {
    const client = await udpClient();
    try {
      // Answers come back in order: the first one belongs to the first search that matched.
      await client.send(stack.app.discoveryPorts.ssdp!, mSearch('urn:schemas-upnp-org:device:MediaRenderer:1'));
      await client.send(stack.app.discoveryPorts.ssdp!, Buffer.from('NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\n\r\n'));
      await client.send(stack.app.discoveryPorts.ssdp!, Buffer.alloc(4000, 0x4d));
      await client.send(stack.app.discoveryPorts.ssdp!, mSearch('urn:schemas-upnp-org:device:MediaServer:1'));
      await until(() => client.received.length >= 1, 5_000, 'an SSDP answer');
      const headers = ssdpHeaders(client.received[0]);
      expect(headers.get('ST')).toBe('urn:schemas-upnp-org:device:MediaServer:1');
      expect(headers.get('USN')).toMatch(/^uuid:[0-9a-f-]{36}::urn:schemas-upnp-org:device:MediaServer:1$/);
      const location = headers.get('LOCATION')!;
      expect(location).toBe(`${stack.url}/device.xml`);
      expect((await fetchBytes(location)).status).toBe(200);

      await client.send(stack.app.discoveryPorts.ssdp!, mSearch('ssdp:all'));
      await until(() => client.received.length >= 5, 5_000, 'the ssdp:all answers');
      expect(client.received.slice(1).map((a) => ssdpHeaders(a).get('ST'))).toEqual(['upnp:rootdevice', expect.stringMatching(/^uuid:/), 'urn:schemas-upnp-org:device:MediaServer:1', 'urn:silicondust-com:device:HDHomeRun:1']);
    } finally {
      client.close();
    }
  });

  it('answers the HDHomeRun discover on UDP with a valid CRC, and ignores what is not for it', async () => {
    const discover = await getJson<Discover>(`${stack.url}/discover.json`);
    const port = stack.app.discoveryPorts.hdhr!;
    const stranger = await udpClient();
    const jellyfin = await udpClient();
    try {
      // Another tuner's id, hostile datagrams: no answer, and the socket keeps working.
      const other = Buffer.from([0, 2, 0, 12, 1, 4, 0, 0, 0, 1, 2, 4, 0x10, 0x10, 0xc0, 0x32]);
      const otherCrc = Buffer.alloc(4);
      otherCrc.writeUInt32LE(crc32(other));
      await stranger.send(port, Buffer.concat([other, otherCrc]));
      await stranger.send(port, Buffer.from([0, 2, 0xff, 0xff, 1, 0x84]));
      await stranger.send(port, Buffer.concat([JELLYFIN_DISCOVER.subarray(0, 16), Buffer.from([1, 2, 3, 4])]));
      await stranger.send(port, Buffer.alloc(0));
      await jellyfin.send(port, JELLYFIN_DISCOVER);
      await until(() => jellyfin.received.length === 1, 5_000, 'a discover reply');
      await new Promise((resolve) => setImmediate(resolve));
      expect(stranger.received).toHaveLength(0);

      const tags = discoverReply(jellyfin.received[0]);
      expect(tags.get(0x01)!.readUInt32BE(0)).toBe(1);
      expect(tags.get(0x02)!.readUInt32BE(0).toString(16).toUpperCase().padStart(8, '0')).toBe(discover.DeviceID);
      expect(tags.get(0x10)![0]).toBe(discover.TunerCount);
      expect(tags.get(0x2a)!.toString()).toBe(stack.url);
      const lineupUrl = tags.get(0x27)!.toString();
      expect(lineupUrl).toBe(`${stack.url}/lineup.json`);
      expect((await fetchBytes(lineupUrl)).status).toBe(200);
    } finally {
      stranger.close();
      jellyfin.close();
    }
  });
});

describe('with hdhr.enabled off (the default)', () => {
  it('answers every HDHomeRun path 404 and binds no UDP socket', async () => {
    const before = udpSockets();
    const stack = await startStack({ app: { ssdpPort: 0, hdhrDiscoveryPort: 0 } });
    try {
      await channelsLoaded(stack);
      for (const path of ['/discover.json', '/lineup.json', '/lineup_status.json', '/device.xml', '/auto/v1']) {
        expect([path, (await fetchBytes(`${stack.url}${path}`)).status]).toEqual([path, 404]);
      }
      expect((await fetchBytes(`${stack.url}/lineup.post?scan=start`, Infinity, 15_000, 'POST')).status).toBe(404);
      expect(stack.app.discoveryPorts).toEqual({});
      expect(udpSockets([stack.sim.wakePort])).toBe(before);
    } finally {
      await stack.stop();
    }
  });
});

describe('a discovery port that is taken', () => {
  it('logs one sentence and everything else runs', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.1', resolve));
    const taken = squatter.address().port;
    const stack = await startStack({ block: { hdhr: { enabled: true } }, app: { ssdpPort: taken, hdhrDiscoveryPort: 0 } });
    try {
      const lines = stack.logs.filter((l) => l.includes(`UDP port ${taken}`));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^warn SSDP discovery \(UDP port \d+\) is off: port \d+ is in use/);
      expect(stack.app.discoveryPorts.ssdp).toBeUndefined();
      expect(stack.app.discoveryPorts.hdhr).toEqual(expect.any(Number));
      await channelsLoaded(stack);
      expect((await fetchBytes(`${stack.url}/discover.json`)).status).toBe(200);
    } finally {
      await stack.stop();
      squatter.close();
    }
  });
});
