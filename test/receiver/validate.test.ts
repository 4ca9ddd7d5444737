// Shape checks and conversion of raw OpenWebIF answers (docs/openwebif-api.md shapes).
import {
  parseBouquets,
  parseCurrent,
  parseDeviceInfo,
  parseEpgList,
  parsePowerState,
  parseServices,
  parseStatusInfo,
  parseStreamPlaylist,
  parseVerdict,
  parseVolume,
  refusalOf,
  ShapeError,
} from '../../src/receiver/validate';
import { POWER_STATES, powerStateName } from '../../src/receiver/types';

const ERSTE = '1:0:19:283D:3FB:1:C00000:0:0:0:';

const STATUS = {
  volume: 55,
  muted: false,
  currservice_serviceref: ERSTE,
  currservice_station: 'Das Erste HD',
  currservice_name: 'Tatort: Borowski &amp; die Angst',
  currservice_begin_timestamp: 1_700_000_000,
  currservice_end_timestamp: 1_700_005_400,
  currservice_description: 'Krimi &lt;D 2024&gt;',
  inStandby: 'false',
  isRecording: 'true',
  isStreaming: 'false',
  Streaming_list: '',
};

describe('parseStatusInfo', () => {
  it('parses string booleans, the channel and the programme', () => {
    const s = parseStatusInfo(STATUS);
    expect(s).toMatchObject({ inStandby: false, volume: 55, muted: false, isRecording: true, isStreaming: false });
    expect(s.channel?.ref.ref).toBe(ERSTE);
    expect(s.channel?.name).toBe('Das Erste HD');
    expect(s.programme).toEqual({
      title: 'Tatort: Borowski & die Angst',
      begin: new Date(1_700_000_000_000),
      end: new Date(1_700_005_400_000),
      description: 'Krimi <D 2024>',
    });
  });

  it('has no channel and no programme in standby', () => {
    const rest: Record<string, unknown> = { ...STATUS, inStandby: 'true', muted: true, currservice_name: 'N/A' };
    delete rest.currservice_serviceref;
    delete rest.currservice_station;
    const s = parseStatusInfo(rest);
    expect(s.inStandby).toBe(true);
    expect(s.muted).toBe(true);
    expect(s.channel).toBeUndefined();
    expect(s.programme).toBeUndefined();
  });

  it('drops a channel the box still names in standby', () => {
    expect(parseStatusInfo({ ...STATUS, inStandby: 'true' }).channel).toBeUndefined();
  });

  it('leaves out the programme when the channel has no EPG', () => {
    expect(parseStatusInfo({ ...STATUS, currservice_name: 'N/A' }).programme).toBeUndefined();
    expect(parseStatusInfo({ ...STATUS, currservice_name: '' }).programme).toBeUndefined();
  });

  it('leaves the station name untouched', () => {
    expect(parseStatusInfo({ ...STATUS, currservice_station: 'Fix &amp; Foxi' }).channel?.name).toBe('Fix &amp; Foxi');
  });

  it.each([
    ['inStandby', 'yes', /"inStandby" is "yes", not true\/false/],
    ['isRecording', undefined, /"isRecording" is missing/],
    ['muted', 1, /"muted" is number 1, not true\/false/],
    ['volume', 'loud', /"volume" is "loud", not a number/],
    ['volume', 250, /"volume" is 250, outside 0-100/],
  ])('rejects %s = %j', (key, value, message) => {
    expect(() => parseStatusInfo({ ...STATUS, [key]: value })).toThrow(message);
  });

  it('rejects answers that are not objects', () => {
    expect(() => parseStatusInfo(null)).toThrow(ShapeError);
    expect(() => parseStatusInfo([])).toThrow('the answer is an array, not an object');
  });
});

describe('parseDeviceInfo', () => {
  const INFO = {
    brand: 'Vu+', model: 'Uno 4K SE', boxtype: 'vuuno4kse', imagedistro: 'openatv', imagever: '7.4', webifver: 'OWIF 2.4.0',
    tuners: [{ name: 'Tuner A', type: 'DVB-S2X (Vuplus DVB-S2X NIM)', rec: '', live: '', stream: '' }, { name: 'Tuner B', type: 'DVB-S2X', rec: '', live: '', stream: '' }],
    ifaces: [{ name: 'eth0', mac: '00:1D:EC:12:34:56', ip: '192.168.1.100' }],
  };

  it('maps the fields and counts tuners', () => {
    expect(parseDeviceInfo(INFO, '192.168.1.100')).toEqual({
      brand: 'Vu+', model: 'Uno 4K SE', boxtype: 'vuuno4kse', imageDistro: 'openatv', imageVersion: '7.4', webifVersion: 'OWIF 2.4.0',
      tuners: [{ name: 'Tuner A', type: 'DVB-S2X (Vuplus DVB-S2X NIM)' }, { name: 'Tuner B', type: 'DVB-S2X' }],
      tunerCount: 2, mac: '00:1d:ec:12:34:56', identity: '00:1d:ec:12:34:56',
    });
  });

  it('falls back to the host when the MAC is null, empty or zero', () => {
    for (const ifaces of [[{ name: 'eth0', mac: null }], [], [{ name: 'eth0', mac: '' }], [{ mac: '00:00:00:00:00:00' }]]) {
      const d = parseDeviceInfo({ ...INFO, ifaces }, 'box.local');
      expect(d.mac).toBeNull();
      expect(d.identity).toBe('box.local');
    }
  });

  it('takes the first interface that has a MAC', () => {
    expect(parseDeviceInfo({ ...INFO, ifaces: [{ name: 'eth0', mac: null }, { name: 'wlan0', mac: 'AA:BB:CC:DD:EE:FF' }] }, 'h').mac).toBe('aa:bb:cc:dd:ee:ff');
  });

  it('accepts numeric versions and missing optional keys', () => {
    const d = parseDeviceInfo({ model: 'dm920', imagever: 7.4, tuners: [] }, 'h');
    expect(d).toMatchObject({ brand: '', boxtype: 'dm920', imageVersion: '7.4', tunerCount: 0, mac: null, identity: 'h' });
  });

  it('rejects an answer without model or tuner list', () => {
    expect(() => parseDeviceInfo({ ...INFO, model: undefined }, 'h')).toThrow('"model" is missing, not text');
    expect(() => parseDeviceInfo({ ...INFO, tuners: 'two' }, 'h')).toThrow('"tuners" is "two", not a list');
  });
});

describe('parseBouquets', () => {
  it('turns pairs into bouquets', () => {
    const ref = '1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.favourites.tv" ORDER BY bouquet';
    expect(parseBouquets({ bouquets: [[ref, 'Favourites (TV)']] })).toEqual([{ ref, name: 'Favourites (TV)' }]);
  });

  it('rejects anything else', () => {
    expect(() => parseBouquets({ bouquets: [['only-ref']] })).toThrow('bouquet 1');
    expect(() => parseBouquets({ services: [] })).toThrow('"bouquets" is missing');
  });
});

describe('parseServices', () => {
  it('keeps only playable channels, in order, names untouched', () => {
    const channels = parseServices({
      result: true,
      processingtime: '0:00:00.004512',
      pos: 2,
      services: [
        { pos: 0, servicename: '--- Deutsch ---', servicereference: '1:64:1:0:0:0:0:0:0:0::--- Deutsch ---', program: 0 },
        { pos: 1, servicename: 'Das Erste HD', servicereference: ERSTE, program: 10301 },
        { pos: 0, servicename: 'hidden', servicereference: '1:512:19:2887:3FB:1:C00000:0:0:0:', program: 10375 },
        { pos: 0, servicename: 'Regional', servicereference: '1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.sub.tv" ORDER BY bouquet', program: 0 },
        { pos: 2, servicename: 'Fix &amp; Foxi', servicereference: '1:0:16:2F1C:441:1:C00000:0:0:0:', program: 12060 },
        { pos: 3, servicename: 'Euronews', servicereference: '4097:0:1:0:0:0:0:0:0:0:http%3a//iptv.example.net/x.m3u8:Euronews' },
        { pos: 4, servicename: 'broken', servicereference: 'garbage' },
      ],
    });
    expect(channels.map((c) => [c.name, c.program, c.position])).toEqual([
      ['Das Erste HD', 10301, 1],
      ['Fix &amp; Foxi', 12060, 2],
      ['Euronews', 0, 3],
    ]);
    expect(channels[0].ref.sid).toBe(0x283d);
  });

  it('numbers channels itself when the box sends no pos', () => {
    const c = parseServices({ services: [{ servicename: 'A', servicereference: ERSTE }, { servicename: 'B', servicereference: '1:0:19:2B66:3F3:1:C00000:0:0:0:' }] });
    expect(c.map((x) => [x.position, x.program])).toEqual([[1, 0x283d], [2, 0x2b66]]);
  });

  it('rejects a list under another key or entries without a reference', () => {
    expect(() => parseServices({ result: true, channels: [] })).toThrow('"services" is missing, not a list');
    expect(() => parseServices({ services: [{ servicename: 'x' }] })).toThrow('service 1 "servicereference" is missing');
  });
});

describe('EPG', () => {
  const EVENT = {
    id: 4711, begin_timestamp: 1_700_000_000, duration_sec: 900, title: 'Tagesschau &amp; Wetter', shortdesc: 'Nachrichten &lt;live&gt;',
    longdesc: 'Mit &quot;Wetter&quot; &#39;heute&#39;', sref: ERSTE, sname: 'Das Erste HD', now_timestamp: 1_700_000_100, remaining: 800,
    genre: 'Nachrichten', genreid: 32,
  };

  it('decodes entities and converts times', () => {
    expect(parseEpgList({ events: [EVENT], result: true })).toEqual([
      {
        id: 4711, ref: expect.objectContaining({ ref: ERSTE }), channelName: 'Das Erste HD', title: 'Tagesschau & Wetter',
        shortDescription: 'Nachrichten <live>', longDescription: 'Mit "Wetter" \'heute\'', begin: new Date(1_700_000_000_000),
        durationSec: 900, genre: 'Nachrichten',
      },
    ]);
  });

  it('keeps channels without EPG with begin null', () => {
    const [e] = parseEpgList({ events: [{ ...EVENT, id: 0, begin_timestamp: 0, duration_sec: 0, title: 'N/A' }] });
    expect(e.begin).toBeNull();
    expect(e.title).toBe('N/A');
  });

  it('rejects events without a title', () => {
    expect(() => parseEpgList({ events: [{ ...EVENT, title: undefined }] })).toThrow('event 1 "title" is missing');
  });

  it('parses getcurrent with empty now/next', () => {
    const cur = parseCurrent({ info: { name: 'Fix & Foxi', provider: 'Fix & Foxi TV', ref: '1:0:16:2F1C:441:1:C00000:0:0:0:' }, now: {}, next: {} });
    expect(cur).toEqual({ channel: { ref: expect.objectContaining({ sid: 0x2f1c }), name: 'Fix & Foxi', provider: 'Fix & Foxi TV' }, now: null, next: null });
  });

  it('parses getcurrent events, taking the ref from info when an event has none', () => {
    const noRef: Record<string, unknown> = { ...EVENT };
    delete noRef.sref;
    const cur = parseCurrent({ info: { name: 'Das Erste HD', ref: ERSTE }, now: noRef, next: { ...EVENT, id: 4712 } });
    expect(cur.now?.ref.ref).toBe(ERSTE);
    expect(cur.next?.id).toBe(4712);
  });

  it('rejects getcurrent without info', () => {
    expect(() => parseCurrent({ now: EVENT })).toThrow('"info" is missing');
  });
});

describe('small answers', () => {
  it('reads volume and mute', () => {
    expect(parseVolume({ result: true, message: 'Volume set to 55', current: 55, ismute: false })).toEqual({ volume: 55, muted: false });
    expect(() => parseVolume({ result: true, message: 'x' })).toThrow('"current" is missing');
  });

  it('reads the before-state of powerstate', () => {
    expect(parsePowerState({ result: true, instandby: true })).toBe(true);
    expect(parsePowerState({ result: true, instandby: 'false' })).toBe(false);
  });

  it('wants result true in verdict-only answers', () => {
    expect(parseVerdict({ result: true, message: "RC command '116' has been issued" })).toBe("RC command '116' has been issued");
    expect(() => parseVerdict({ message: 'x' })).toThrow('"result" is missing');
  });

  it('finds refusals', () => {
    expect(refusalOf({ result: false, message: 'nope' })).toBe('nope');
    expect(refusalOf({ result: false })).toBe('');
    expect(refusalOf({ result: true })).toBeUndefined();
    expect(refusalOf({ bouquets: [] })).toBeUndefined();
  });

  it('names power states both ways', () => {
    expect(POWER_STATES).toEqual({ toggle: 0, deepStandby: 1, reboot: 2, restartGui: 3, wake: 4, standby: 5 });
    expect([0, 1, 2, 3, 4, 5].map(powerStateName)).toEqual(['toggle', 'deepStandby', 'reboot', 'restartGui', 'wake', 'standby']);
    expect(powerStateName(6)).toBeUndefined();
  });
});

describe('parseStreamPlaylist', () => {
  const m3u = (url: string, program = '10301'): string =>
    `#EXTM3U\r\n#EXTVLCOPT:http-reconnect=true\r\n#EXTINF:-1,Das Erste HD\r\n#EXTVLCOPT:program=${program}\r\n${url}\r\n`;

  it('reads URL, port and program', () => {
    expect(parseStreamPlaylist(m3u(`http://192.168.1.100:8001/${ERSTE}`))).toEqual({ url: `http://192.168.1.100:8001/${ERSTE}`, port: 8001, program: 10301 });
    expect(parseStreamPlaylist(m3u('http://192.168.1.100:17999/1:0:19:6A:4:85:C00000:0:0:0:', '106')).port).toBe(17999);
  });

  it('removes credentials the box put into the URL', () => {
    const t = parseStreamPlaylist(m3u(`http://root:secret@192.168.1.100:8001/${ERSTE}`));
    expect(t.url).toBe(`http://192.168.1.100:8001/${ERSTE}`);
    expect(JSON.stringify(t)).not.toContain('secret');
  });

  it('defaults the port by scheme and the program to null', () => {
    expect(parseStreamPlaylist('#EXTM3U\nhttps://box/x\n')).toEqual({ url: 'https://box/x', port: 443, program: null });
  });

  it.each([
    ['<html></html>', 'no #EXTM3U header'],
    ['#EXTM3U\n#EXTINF:-1,x\n', 'no stream URL'],
    ['#EXTM3U\nnot a url\n', 'not a URL'],
    ['#EXTM3U\nfile:///etc/passwd\n', 'file:'],
  ])('rejects %j', (text, message) => {
    expect(() => parseStreamPlaylist(text)).toThrow(message);
  });
});

describe('getcurrent placeholders', () => {
  it('turns the no-EPG placeholder into null', () => {
    const empty = { id: 0, begin_timestamp: 0, duration_sec: 0, title: 'N/A', shortdesc: '', longdesc: '', sref: '1:0:16:2F1C:441:1:C00000:0:0:0:', sname: 'Fix &amp; Foxi' };
    const cur = parseCurrent({ info: { name: 'Fix & Foxi', ref: '1:0:16:2F1C:441:1:C00000:0:0:0:' }, now: empty, next: empty });
    expect(cur.now).toBeNull();
    expect(cur.next).toBeNull();
    expect(cur.channel?.name).toBe('Fix & Foxi');
  });
});
