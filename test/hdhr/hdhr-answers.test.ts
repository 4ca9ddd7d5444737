// HDHomeRun emulation without sockets: the device id's check digit, the device over the receivers,
// the lineup, device.xml, SSDP answers and the discovery packet codec, with hostile input.
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../src/config';
import { Config } from '../../src/config/types';
import { Logger, silentLogger } from '../../src/logger';
import { Channel, ChannelList } from '../../src/receiver/channels';
import { channelId, parseServiceRef } from '../../src/receiver/service-ref';
import { HDHR_DISCOVERY_PACKET_MAX_BYTES, HDHR_SSDP_PACKET_MAX_BYTES } from '../../src/settings';
import { listedChannels } from '../../src/stream/listed-channels';
import { buildLineup, createHdhrContext, deviceIdFrom, deviceUuid, deviceXml, discoverJson, HdhrDevice, HdhrReceiver, isValidDeviceId, lineupStatusJson } from '../../src/stream/hdhr';
import {
  asksFor, buildDiscoverReply, crc32, HDHR_DEVICE_TYPE_TUNER, HDHR_TAG_DEVICE_ID, HDHR_TAG_DEVICE_TYPE, HDHR_TAG_MULTI_TYPE, HDHR_TYPE_DISCOVER_REQ, HDHR_WILDCARD, parseDiscoverRequest,
} from '../../src/stream/hdhr-discovery';
import { matchingTargets, parseMSearch, ssdpAnswers } from '../../src/stream/ssdp';

/** Jellyfin's discover request, byte for byte (HdHomerunHost.DiscoverDevices): both tags wildcard, with libhdhomerun's CRC. */
const JELLYFIN_DISCOVER = Buffer.from([0, 2, 0, 12, 1, 4, 255, 255, 255, 255, 2, 4, 255, 255, 255, 255, 115, 204, 125, 143]);

function config(block: Record<string, unknown> = {}): Config {
  return loadConfig({ env: {}, block: { platform: 'XG2G', receivers: [{ name: 'Living Room', host: '192.168.1.100', bouquets: ['Favourites (TV)'] }], ...block } });
}

function receiver(device: HdhrReceiver['device'], tuners: number | null = 2, name = 'Living Room'): HdhrReceiver {
  return { name, config: { host: '192.168.1.100' }, device, summary: () => ({ tuners }) };
}

const dvb = (types: string[]): HdhrReceiver['device'] => ({ identity: '00:1d:ec:01:02:03', tuners: types.map((type) => ({ type })) });

function channel(ref: string, name: string, number: number, kind: 'tv' | 'radio' = 'tv'): Channel {
  const parsed = parseServiceRef(ref);
  return { ref: parsed, name, bouquet: 'Favourites (TV)', number, kind, id: channelId(parsed) };
}

/** A packet as libhdhomerun frames it: type, length, TLVs, little-endian CRC. */
function frame(type: number, payload: number[]): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(payload.length, 2);
  const body = Buffer.concat([head, Buffer.from(payload)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body));
  return Buffer.concat([body, crc]);
}

const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

describe('device id', () => {
  // Ids of real tuners as `hdhomerun_config discover` printed them in public docs and tests.
  it.each(['1010C032', '1072F92A', '103A9917', '10183772', '10548B20', '1011F855', '10311E80', '1322F2F9'])('accepts the real tuner id %s', (id) => {
    expect(isValidDeviceId(parseInt(id, 16))).toBe(true);
  });

  it.each(['12345678', '10AABB01', '1010C033', '2010C032'])('rejects %s (a wrong check digit)', (id) => {
    expect(isValidDeviceId(parseInt(id, 16))).toBe(false);
  });

  it('derives valid, stable ids that are never the wildcard', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => deviceIdFrom(`seed ${i}`));
    for (const id of ids) {
      expect(id).toMatch(/^[0-9A-F]{8}$/);
      expect(isValidDeviceId(parseInt(id, 16))).toBe(true);
      expect(id).not.toBe('FFFFFFFF');
      expect(id).not.toBe('00000000');
    }
    expect(deviceIdFrom('seed 7')).toBe(ids[7]);
    expect(new Set(ids).size).toBeGreaterThan(1990);
  });

  it('gives a version-5 UUID per id', () => {
    expect(deviceUuid('1010C032')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deviceUuid('1010C032')).toBe(deviceUuid('1010C032'));
    expect(deviceUuid('1010C032')).not.toBe(deviceUuid('1072F92A'));
  });
});

describe('the device over the receivers', () => {
  it('is not there until the first receiver has answered, then keeps one id', () => {
    const box = { ...receiver(undefined) };
    const hdhr = createHdhrContext(config(), [box], silentLogger);
    expect(hdhr.device()).toBeUndefined();
    const loaded = { ...box, device: dvb(['Vuplus DVB-S NIM(45308X FBC) (DVB-S2X)', 'DVB-C']) };
    const device = createHdhrContext(config(), [loaded], silentLogger).device()!;
    expect(isValidDeviceId(parseInt(device.deviceId, 16))).toBe(true);
    expect(createHdhrContext(config(), [loaded], silentLogger).device()!.deviceId).toBe(device.deviceId);
    // Another xg2g (another config name) on the same box is another tuner.
    expect(createHdhrContext(config({ name: 'second' }), [loaded], silentLogger).device()!.deviceId).not.toBe(device.deviceId);
    expect(device.friendlyName).toBe('xg2g Living Room');
    expect(device.source).toBe('Cable');
    expect(device.tunerCount).toBe(2);
  });

  it('counts tuners over receivers, honours maxSessions, falls back, and says Antenna for DVB-T', () => {
    const receivers = [receiver(dvb(['Si2168 (DVB-T2)', 'DVB-T2', 'DVB-T'])), receiver(undefined, null, 'Bedroom')];
    expect(createHdhrContext(config(), receivers, silentLogger).device()).toMatchObject({ tunerCount: 2 + 2, source: 'Antenna' });
    expect(createHdhrContext(config({ proxy: { maxSessions: 1 } }), receivers, silentLogger).device()!.tunerCount).toBe(2);
    expect(createHdhrContext(config({ hdhr: { enabled: true, friendlyName: 'Sat tuner' } }), receivers, silentLogger).device()!.friendlyName).toBe('Sat tuner');
  });

  it('warns once that clients cannot send the access token', () => {
    const lines: string[] = [];
    const log: Logger = { ...silentLogger, warn: (m) => void lines.push(m) };
    createHdhrContext(config({ proxy: { token: 'sup3r-s3cret' } }), [receiver(undefined)], log);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/proxy\.token/);
    expect(lines[0]).not.toContain('sup3r-s3cret');
    createHdhrContext(config(), [receiver(undefined)], log);
    expect(lines).toHaveLength(1);
  });
});

describe('answers', () => {
  const device: HdhrDevice = { friendlyName: 'xg2g Living Room', deviceId: '1010C032', deviceAuth: 'abc', tunerCount: 2, source: 'Cable' };

  it('discover.json and lineup_status.json carry what Plex and Jellyfin read', () => {
    expect(discoverJson(device, 'http://10.0.0.2:18000', '')).toEqual({
      FriendlyName: 'xg2g Living Room', Manufacturer: 'Silicondust', ModelNumber: 'HDTC-2US', FirmwareName: 'hdhomeruntc_atsc',
      FirmwareVersion: expect.stringMatching(/^\d{8}$/), DeviceID: '1010C032', DeviceAuth: 'abc',
      BaseURL: 'http://10.0.0.2:18000', LineupURL: 'http://10.0.0.2:18000/lineup.json', TunerCount: 2,
    });
    expect(discoverJson(device, 'http://h:1', '?token=t').LineupURL).toBe('http://h:1/lineup.json?token=t');
    expect(lineupStatusJson(device)).toEqual({ ScanInProgress: 0, ScanPossible: 1, Source: 'Cable', SourceList: ['Cable'] });
  });

  it('lists TV channels once each, with codec hints by service type, and leaves radio out', () => {
    const first = [
      channel('1:0:19:283D:3FB:1:C00000:0:0:0:', 'Das Erste HD', 1),
      channel('1:0:1:6DCA:44D:1:C00000:0:0:0:', 'Das Erste', 2),
      channel('1:0:11:1:2:3:C00000:0:0:0:', 'MPEG-2 HD', 3),
      channel('1:0:1F:1:2:4:C00000:0:0:0:', 'UHD', 4),
      channel('4097:0:1:0:0:0:0:0:0:0:http%3a//iptv.example.net/a.m3u8:IPTV', 'IPTV', 5),
      channel('1:0:2:6F1D:44D:1:C00000:0:0:0:', 'Bayern 3', 6, 'radio'),
      channel('1:0:2:6F09:3F1:1:C00000:0:0:0:', 'Radio in a TV bouquet', 7),
    ];
    const second = [channel('1:0:19:283D:3FB:1:C00000:0:0:0:', 'Das Erste HD', 1), channel('1:0:19:2B66:3F3:1:C00000:0:0:0:', 'ZDF HD', 2)];
    const lineup = buildLineup(listedChannels([first, second].map((all) => ({ channels: () => new ChannelList(all) }))), 'http://h:1', '?token=a%20b', true);
    expect(lineup).toEqual([
      { GuideNumber: '1', GuideName: 'Das Erste HD', URL: 'http://h:1/1:0:19:283D:3FB:1:C00000:0:0:0:?token=a%20b', HD: 1, VideoCodec: 'H264', AudioCodec: 'AAC' },
      { GuideNumber: '2', GuideName: 'Das Erste', URL: 'http://h:1/1:0:1:6DCA:44D:1:C00000:0:0:0:?token=a%20b', VideoCodec: 'MPEG2', AudioCodec: 'AAC' },
      { GuideNumber: '3', GuideName: 'MPEG-2 HD', URL: 'http://h:1/1:0:11:1:2:3:C00000:0:0:0:?token=a%20b', HD: 1, VideoCodec: 'MPEG2', AudioCodec: 'AAC' },
      { GuideNumber: '4', GuideName: 'UHD', URL: 'http://h:1/1:0:1F:1:2:4:C00000:0:0:0:?token=a%20b', HD: 1, VideoCodec: 'HEVC', AudioCodec: 'AAC' },
      { GuideNumber: '5', GuideName: 'IPTV', URL: 'http://h:1/4097:0:1:0:0:0:0:0:0:0:http%253a%2F%2Fiptv.example.net%2Fa.m3u8:IPTV?token=a%20b', AudioCodec: 'AAC' },
      // The second receiver's numbers move up by the step; the channel both list comes once.
      { GuideNumber: '1002', GuideName: 'ZDF HD', URL: 'http://h:1/1:0:19:2B66:3F3:1:C00000:0:0:0:?token=a%20b', HD: 1, VideoCodec: 'H264', AudioCodec: 'AAC' },
    ]);
    // Audio passed through unchanged: no AAC promise.
    expect(buildLineup(first, 'http://h:1', '', false)[0]).not.toHaveProperty('AudioCodec');
  });

  it('keeps a channel whose name forges a playlist entry one lineup entry', () => {
    const evil = 'Evil",\n#EXTINF:-1,x';
    const body = JSON.stringify(buildLineup([channel('1:0:19:283D:3FB:1:C00000:0:0:0:', evil, 1)], 'http://h:1', '', true));
    const parsed = JSON.parse(body) as Array<{ GuideName: string }>;
    expect(parsed).toHaveLength(1);
    expect(parsed[0].GuideName).toBe(evil);
    expect(body).not.toContain('\n');
  });

  it('writes a device.xml an XML parser reads back, whatever the name holds', () => {
    const name = 'Wohnzimmer <Sat> & "Kabel" \u0001\'';
    const xml = deviceXml({ ...device, friendlyName: name }, 'http://10.0.0.2:18000');
    const script = [
      'import sys, json, xml.etree.ElementTree as E',
      "ns = {'u': 'urn:schemas-upnp-org:device-1-0'}",
      'r = E.fromstring(sys.stdin.buffer.read())',
      "d = r.find('u:device', ns)",
      "out = {k: d.findtext('u:' + k, namespaces=ns) for k in ['deviceType', 'friendlyName', 'manufacturer', 'modelName', 'serialNumber', 'UDN']}",
      "out['URLBase'] = r.findtext('u:URLBase', namespaces=ns)",
      'print(json.dumps(out))',
    ].join('\n');
    const read = JSON.parse(execFileSync('python3', ['-c', script], { input: xml }).toString()) as Record<string, string>;
    expect(read).toEqual({
      deviceType: 'urn:schemas-upnp-org:device:MediaServer:1', friendlyName: 'Wohnzimmer <Sat> & "Kabel" \'', manufacturer: 'Silicondust',
      modelName: 'HDTC-2US', serialNumber: '1010C032', UDN: `uuid:${deviceUuid('1010C032')}`, URLBase: 'http://10.0.0.2:18000',
    });
  });
});

describe('SSDP', () => {
  const search = (st: string, extra = 'MAN: "ssdp:discover"\r\nMX: 1\r\n'): Buffer => Buffer.from(`M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n${extra}ST: ${st}\r\n\r\n`);
  const uuid = deviceUuid('1010C032');

  it('reads M-SEARCH requests and nothing else', () => {
    expect(parseMSearch(search('ssdp:all'))).toEqual({ st: 'ssdp:all' });
    expect(parseMSearch(Buffer.from('m-search * http/1.1\nman: ssdp:discover\nst: upnp:rootdevice\n\n'))).toEqual({ st: 'upnp:rootdevice' });
    expect(parseMSearch(search('ssdp:all', ''))).toBeUndefined();
    expect(parseMSearch(Buffer.from('NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n'))).toBeUndefined();
    expect(parseMSearch(Buffer.from('HTTP/1.1 200 OK\r\nST: ssdp:all\r\n\r\n'))).toBeUndefined();
    expect(parseMSearch(Buffer.alloc(0))).toBeUndefined();
    expect(parseMSearch(Buffer.alloc(HDHR_SSDP_PACKET_MAX_BYTES + 1, 0x41))).toBeUndefined();
    expect(parseMSearch(Buffer.from([0xff, 0x00, 0x0d, 0x0a]))).toBeUndefined();
  });

  it('answers its own targets, device types up to its version, and never echoes others', () => {
    expect(matchingTargets('ssdp:all', uuid)).toEqual(['upnp:rootdevice', `uuid:${uuid}`, 'urn:schemas-upnp-org:device:MediaServer:1', 'urn:silicondust-com:device:HDHomeRun:1']);
    expect(matchingTargets('upnp:rootdevice', uuid)).toEqual(['upnp:rootdevice']);
    expect(matchingTargets(`uuid:${uuid}`, uuid)).toEqual([`uuid:${uuid}`]);
    expect(matchingTargets('urn:schemas-upnp-org:device:MediaServer:1', uuid)).toHaveLength(1);
    expect(matchingTargets('urn:silicondust-com:device:HDHomeRun', uuid)).toHaveLength(1);
    expect(matchingTargets('urn:schemas-upnp-org:device:MediaServer:2', uuid)).toEqual([]);
    expect(matchingTargets('urn:schemas-upnp-org:device:MediaServer:1\r\nX: y', uuid)).toEqual([]);
    expect(matchingTargets('urn:schemas-upnp-org:device:MediaRenderer:1', uuid)).toEqual([]);
    expect(matchingTargets('uuid:someone-else', uuid)).toEqual([]);
  });

  it('writes one well-formed answer per target, LOCATION on one line', () => {
    const answers = ssdpAnswers({ st: 'ssdp:all' }, uuid, 'http://10.0.0.2:18000/device.xml\r\nX-Evil: 1', 'linux/1 UPnP/1.0 xg2g/1', new Date(0));
    expect(answers).toHaveLength(4);
    const text = answers[2].toString();
    expect(text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(text.endsWith('\r\n\r\n')).toBe(true);
    expect(text).toContain('\r\nLOCATION: http://10.0.0.2:18000/device.xmlX-Evil: 1\r\n');
    expect(text).toContain('\r\nST: urn:schemas-upnp-org:device:MediaServer:1\r\n');
    expect(text).toContain(`\r\nUSN: uuid:${uuid}::urn:schemas-upnp-org:device:MediaServer:1\r\n`);
    expect(answers[1].toString()).toContain(`\r\nUSN: uuid:${uuid}\r\n`);
  });
});

describe('HDHomeRun discovery packets', () => {
  it('computes the CRC libhdhomerun writes (Jellyfin\'s request carries one)', () => {
    expect(crc32(JELLYFIN_DISCOVER.subarray(0, 16))).toBe(JELLYFIN_DISCOVER.readUInt32LE(16));
  });

  it('reads a discover request with one type, several types, or a device id', () => {
    expect(parseDiscoverRequest(JELLYFIN_DISCOVER)).toEqual({ types: [HDHR_WILDCARD], deviceId: HDHR_WILDCARD });
    const multi = parseDiscoverRequest(frame(HDHR_TYPE_DISCOVER_REQ, [HDHR_TAG_MULTI_TYPE, 8, ...be32(5), ...be32(1), 0x77, 0]))!;
    expect(multi.types).toEqual([5, 1]);
    expect(asksFor(multi, '1010C032')).toBe(true);
    const storage = parseDiscoverRequest(frame(HDHR_TYPE_DISCOVER_REQ, [HDHR_TAG_DEVICE_TYPE, 4, ...be32(5)]))!;
    expect(asksFor(storage, '1010C032')).toBe(false);
    const targeted = parseDiscoverRequest(frame(HDHR_TYPE_DISCOVER_REQ, [HDHR_TAG_DEVICE_TYPE, 4, ...be32(1), HDHR_TAG_DEVICE_ID, 4, ...be32(0x1010c032)]))!;
    expect(asksFor(targeted, '1010C032')).toBe(true);
    expect(asksFor(targeted, '1072F92A')).toBe(false);
    // A two-byte TLV length (200 bytes of an unknown tag) is skipped.
    const long = parseDiscoverRequest(frame(HDHR_TYPE_DISCOVER_REQ, [0x60, 200 & 0x7f | 0x80, 200 >> 7, ...new Array<number>(200).fill(1), HDHR_TAG_DEVICE_TYPE, 4, ...be32(1)]));
    expect(long?.types).toEqual([HDHR_DEVICE_TYPE_TUNER]);
  });

  it.each([
    ['an empty datagram', Buffer.alloc(0)],
    ['a header only', Buffer.from([0, 2, 0, 0])],
    ['a bad CRC', Buffer.concat([JELLYFIN_DISCOVER.subarray(0, 16), Buffer.from([0, 0, 0, 0])])],
    ['a length past the end', (() => { const b = Buffer.from(JELLYFIN_DISCOVER); b[3] = 200; return b; })()],
    ['a reply, not a request', frame(0x0003, [HDHR_TAG_DEVICE_TYPE, 4, ...be32(1)])],
    ['a TLV longer than the payload', frame(HDHR_TYPE_DISCOVER_REQ, [HDHR_TAG_DEVICE_TYPE, 100, 0, 0, 0, 1])],
    ['a two-byte length cut off', frame(HDHR_TYPE_DISCOVER_REQ, [HDHR_TAG_DEVICE_TYPE, 0x84])],
    ['an oversized datagram', Buffer.alloc(HDHR_DISCOVERY_PACKET_MAX_BYTES + 1)],
  ])('ignores %s', (_label, packet) => {
    expect(parseDiscoverRequest(packet)).toBeUndefined();
  });

  it('writes a reply with every tag a client reads and a valid CRC, long URLs included', () => {
    const device: HdhrDevice = { friendlyName: 'x', deviceId: '1010C032', deviceAuth: 'auth', tunerCount: 4, source: 'Cable' };
    const base = `http://10.0.0.2:18000/${'p'.repeat(150)}`;
    const reply = buildDiscoverReply(device, base);
    expect(reply.readUInt16BE(0)).toBe(0x0003);
    const end = 4 + reply.readUInt16BE(2);
    expect(end + 4).toBe(reply.length);
    expect(reply.readUInt32LE(end)).toBe(crc32(reply.subarray(0, end)));
    const tags = new Map<number, Buffer>();
    for (let pos = 4; pos < end;) {
      const tag = reply[pos++];
      let length = reply[pos++];
      if (length & 0x80) length = (length & 0x7f) | (reply[pos++] << 7);
      tags.set(tag, reply.subarray(pos, pos + length));
      pos += length;
    }
    expect(tags.get(0x01)!.readUInt32BE(0)).toBe(1);
    expect(tags.get(0x02)!.readUInt32BE(0)).toBe(0x1010c032);
    expect(tags.get(0x10)).toEqual(Buffer.from([4]));
    expect(tags.get(0x2b)!.toString()).toBe('auth');
    expect(tags.get(0x2a)!.toString()).toBe(base);
    expect(tags.get(0x27)!.toString()).toBe(`${base}/lineup.json`);
  });
});
