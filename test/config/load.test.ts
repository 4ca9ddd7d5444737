// Config loading: defaults, platform block, JSON/YAML files, env > file > defaults, every XG2G_* variable.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, isConfigured, loadConfig, loadConfigWithWarnings, parseListen, receiverConnection } from '../../src/config';
import type { Config } from '../../src/config';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xg2g-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const livingRoom = {
  platform: 'XG2G',
  name: 'xg2g',
  receivers: [{
    name: 'Living Room', host: '192.168.1.100', port: 80, https: false, allowSelfSigned: false,
    username: 'root', password: 'secret', bouquets: ['Favourites (TV)'],
    streamTarget: 'http://192.168.1.100:8001', tvAccessory: true, channelAccessories: true,
    infoKey: 'MENU', refreshInterval: 5,
  }],
  proxy: {
    enabled: true, listen: ':18000', publicUrl: '', maxSessions: 2, token: '',
    audio: { mode: 'auto', engine: 'splice', codec: 'aac', bitrate: '192k', channels: 2 }, ffmpegPath: '',
  },
  api: { listen: ':18080' },
  mqtt: {
    enabled: false, url: 'mqtt://127.0.0.1:1883', username: '', password: '', prefix: 'xg2g',
    discovery: true, discoveryPrefix: 'homeassistant', embeddedBroker: { enabled: false, port: 1883 },
  },
};

describe('defaults', () => {
  it('an empty block is a valid, unconfigured config with every default filled in', () => {
    const config = loadConfig({ block: {}, env: {} });
    expect(config).toEqual<Config>({
      name: 'xg2g',
      receivers: [],
      proxy: {
        enabled: true, listen: ':18000', publicUrl: '', maxSessions: null, maxClients: 10, token: '',
        audio: { mode: 'auto', engine: 'splice', codec: 'aac', bitrate: '192k', channels: 2 }, ffmpegPath: '',
        hls: { appleRedirect: true, transcodeVideo: false, videoEncoder: 'libx264' },
      },
      api: { listen: ':18080' },
      mqtt: {
        enabled: false, url: 'mqtt://127.0.0.1:1883', username: '', password: '', clientId: '',
        prefix: 'xg2g', discovery: true, discoveryPrefix: 'homeassistant',
        embeddedBroker: { enabled: false, port: 1883 },
      },
      epg: { enabled: true, days: 7, refreshHours: 6 },
      hdhr: { enabled: false, friendlyName: '', discovery: true },
      camera: { maxStreams: 2, videoEncoder: 'libx264' },
    });
    expect(isConfigured(config)).toBe(false);
  });

  it('a receiver with only a host gets port 80, the default bouquet and http://host:8001', () => {
    const config = loadConfig({ block: { receivers: [{ host: 'box.local' }] }, env: {} });
    expect(config.receivers[0]).toEqual({
      name: 'Receiver', host: 'box.local', port: 80, https: false, allowSelfSigned: false,
      username: '', password: '', bouquets: ['Favourites (TV)'], streamTarget: 'http://box.local:8001',
      tvAccessory: true, channelAccessories: true, infoKey: 'MENU', refreshInterval: 5,
      mac: '', wakeOnLan: true, wakeBroadcast: [], offMode: 'standby', standbyGuard: true, recordSwitch: false,
      sensors: { recording: false, streaming: false, power: false, type: 'contact' }, deepStandbySwitch: false, rebootSwitch: false,
      cameraAccessory: false,
    });
    expect(isConfigured(config)).toBe(true);
  });

  it('https defaults the port to 443; IPv6 hosts are bracketed in the stream target', () => {
    const config = loadConfig({ block: { receivers: [{ host: 'a.lan', https: true }, { host: 'fe80::1', name: 'B' }] }, env: {} });
    expect(config.receivers[0].port).toBe(443);
    expect(config.receivers[1].streamTarget).toBe('http://[fe80::1]:8001');
  });

  it('stores infoKey by its canonical key name', () => {
    const keys = ['info', 'key_volumeup', '139', 'KEY_1'].map((k) => loadConfig({ block: { receivers: [{ host: 'b', infoKey: k }] }, env: {} }).receivers[0].infoKey);
    expect(keys).toEqual(['INFO', 'VOLUME_UP', 'MENU', 'DIGIT_1']);
  });

  it('reads process.env when no env is given', () => {
    const saved = process.env.XG2G_PROXY_LISTEN;
    process.env.XG2G_PROXY_LISTEN = ':18123';
    try {
      expect(loadConfig({ block: {} }).proxy.listen).toBe(':18123');
    } finally {
      if (saved === undefined) delete process.env.XG2G_PROXY_LISTEN;
      else process.env.XG2G_PROXY_LISTEN = saved;
    }
  });
});

describe('platform block and files', () => {
  it('takes the Homebridge platform block as is, platform/_bridge keys without warnings', () => {
    const { config, warnings } = loadConfigWithWarnings({ block: { ...livingRoom, _bridge: { username: 'x' } }, env: {} });
    expect(warnings).toEqual([]);
    expect(config.receivers[0]).toMatchObject({ name: 'Living Room', host: '192.168.1.100', password: 'secret' });
    expect(config.proxy.maxSessions).toBe(2);
  });

  it('reads a JSON file', () => {
    const file = write('config.json', JSON.stringify({ ...livingRoom, proxy: { listen: '127.0.0.1:18001' } }));
    const config = loadConfig({ file, env: {} });
    expect(config.receivers[0].name).toBe('Living Room');
    expect(config.proxy.listen).toBe('127.0.0.1:18001');
  });

  it('reads a YAML file', () => {
    const file = write('config.yaml', [
      'name: yaml box',
      'receivers:',
      '  - name: Bedroom',
      '    host: 10.1.2.3',
      '    bouquets: [Favourites (TV), Sport]',
      '    streamTarget: auto',
      'proxy:',
      '  audio: { mode: always, bitrate: 128k, channels: 6 }',
      'mqtt:',
      '  enabled: yes',
      '  url: mqtts://broker.lan:8883',
    ].join('\n'));
    const config = loadConfig({ file, env: {} });
    expect(config.name).toBe('yaml box');
    expect(config.receivers[0]).toMatchObject({ name: 'Bedroom', host: '10.1.2.3', bouquets: ['Favourites (TV)', 'Sport'], streamTarget: 'auto' });
    expect(config.proxy.audio).toEqual({ mode: 'always', engine: 'splice', codec: 'aac', bitrate: '128k', channels: 6 });
    expect(config.mqtt).toMatchObject({ enabled: true, url: 'mqtts://broker.lan:8883' });
  });

  it('picks the XG2G block out of a whole Homebridge config.json', () => {
    const file = write('homebridge.json', JSON.stringify({ bridge: { name: 'HB' }, platforms: [{ platform: 'Other' }, livingRoom] }));
    expect(loadConfig({ file, env: {} }).receivers[0].name).toBe('Living Room');
  });

  it('an empty YAML file means defaults', () => {
    expect(loadConfig({ file: write('empty.yml', ''), env: {} }).receivers).toEqual([]);
  });

  it('names the file when it is missing or does not parse', () => {
    const missing = join(dir, 'nope.yaml');
    expect(() => loadConfig({ file: missing, env: {} })).toThrow(`config file ${missing}: does not exist`);
    const badJson = write('bad.json', '{ "receivers": [ }');
    expect(() => loadConfig({ file: badJson, env: {} })).toThrow(/bad\.json: is not valid JSON/);
    const badYaml = write('bad.yaml', 'receivers:\n  - host: [unclosed\n');
    expect(() => loadConfig({ file: badYaml, env: {} })).toThrow(/bad\.yaml: is not valid YAML/);
  });

  it('refuses block and file together', () => {
    expect(() => loadConfig({ block: {}, file: 'x.json', env: {} })).toThrow(TypeError);
  });
});

describe('environment over file over defaults', () => {
  it('env wins over the file, the file over defaults, untouched fields keep the file value', () => {
    const file = write('layered.json', JSON.stringify(livingRoom));
    const config = loadConfig({
      file,
      env: { XG2G_OWI_PASS: 'from-env', XG2G_PROXY_LISTEN: '0.0.0.0:19000', XG2G_AUDIO_BITRATE: '256k' },
    });
    expect(config.receivers[0]).toMatchObject({ name: 'Living Room', username: 'root', password: 'from-env', host: '192.168.1.100' });
    expect(config.proxy.listen).toBe('0.0.0.0:19000');
    expect(config.proxy.audio).toEqual({ mode: 'auto', engine: 'splice', codec: 'aac', bitrate: '256k', channels: 2 });
    expect(config.proxy.maxSessions).toBe(2);
    expect(config.api.listen).toBe(':18080');
  });

  it('XG2G_OWI_BASE replaces receiver one\'s address and leaves receiver two alone', () => {
    const block = { receivers: [{ name: 'A', host: 'a.lan', streamTarget: 'http://a.lan:17999' }, { name: 'B', host: 'b.lan' }] };
    const config = loadConfig({ block, env: { XG2G_OWI_BASE: 'https://c.lan:8443' } });
    expect(config.receivers[0]).toMatchObject({ name: 'A', host: 'c.lan', port: 8443, https: true, streamTarget: 'http://a.lan:17999' });
    expect(config.receivers[1]).toMatchObject({ name: 'B', host: 'b.lan', port: 80 });
  });

  it('XG2G_OWI_BASE alone makes receiver one with streamTarget http://host:8001', () => {
    const config = loadConfig({ env: { XG2G_OWI_BASE: 'http://192.168.1.100:80' } });
    expect(config.receivers).toHaveLength(1);
    expect(config.receivers[0]).toMatchObject({
      name: 'Receiver', host: '192.168.1.100', port: 80, https: false, username: '', password: '',
      bouquets: ['Favourites (TV)'], streamTarget: 'http://192.168.1.100:8001',
    });
    expect(loadConfig({ env: { XG2G_OWI_BASE: '10.0.0.9' } }).receivers[0]).toMatchObject({ host: '10.0.0.9', port: 80 });
    expect(loadConfig({ env: { XG2G_OWI_BASE: 'https://10.0.0.9' } }).receivers[0]).toMatchObject({ port: 443, https: true });
  });

  it('credentials in XG2G_OWI_BASE are used, XG2G_OWI_USER/PASS win over them', () => {
    const r1 = loadConfig({ env: { XG2G_OWI_BASE: 'http://root:p%40ss@box:80' } }).receivers[0];
    expect(r1).toMatchObject({ host: 'box', username: 'root', password: 'p@ss' });
    const r2 = loadConfig({ env: { XG2G_OWI_BASE: 'http://root:pass@box', XG2G_OWI_USER: 'admin', XG2G_OWI_PASS: 'other' } }).receivers[0];
    expect(r2).toMatchObject({ username: 'admin', password: 'other' });
  });

  it('sets every field of the XG2G_* table', () => {
    const config = loadConfig({
      env: {
        XG2G_OWI_BASE: 'http://10.0.0.2:8080',
        XG2G_OWI_USER: 'root',
        XG2G_OWI_PASS: 'pw',
        XG2G_BOUQUET: 'Favourites (TV), Sport ,,News',
        XG2G_PROXY_TARGET: 'http://10.0.0.2:17999/',
        XG2G_ENABLE_STREAM_PROXY: 'yes',
        XG2G_PROXY_LISTEN: '[::1]:18001',
        XG2G_PUBLIC_URL: 'https://tv.example.org/xg2g/',
        XG2G_MAX_SESSIONS: '3',
        XG2G_API_TOKEN: 'tok123',
        XG2G_ENABLE_AUDIO_TRANSCODING: 'false',
        XG2G_AUDIO_ENGINE: 'ffmpeg',
        XG2G_AUDIO_CODEC: 'AAC',
        XG2G_AUDIO_BITRATE: '320k',
        XG2G_AUDIO_CHANNELS: '6',
        XG2G_FFMPEG_PATH: '/opt/ffmpeg/bin/ffmpeg',
        XG2G_LISTEN: '127.0.0.1:18081',
        XG2G_EPG_ENABLED: '0',
        XG2G_MQTT_URL: 'mqtt://broker.lan:1884',
        XG2G_MQTT_USERNAME: 'mq',
        XG2G_MQTT_PASSWORD: 'mqpw',
        XG2G_MQTT_PREFIX: 'home/xg2g',
        XG2G_MQTT_DISCOVERY: 'no',
        XG2G_MQTT_BROKER_PORT: '1885',
        XG2G_EPG_DAYS: '3',
        XG2G_HDHR_ENABLED: 'true',
        XG2G_HDHR_FRIENDLY_NAME: 'Sat tuner',
        XG2G_HLS_TRANSCODE_VIDEO: 'yes',
        XG2G_HLS_VIDEO_ENCODER: 'h264_vaapi',
        XG2G_APPLE_REDIRECT: 'false',
        XG2G_OWI_MAC: '00-1D-EC-0E-12-34',
        XG2G_WAKE_BROADCAST: '10.0.0.255, 255.255.255.255',
        XG2G_OFF_MODE: 'deepStandby',
        XG2G_STANDBY_GUARD: 'no',
        XG2G_CAMERA_MAX_STREAMS: '3',
      },
    });
    expect(config).toEqual<Config>({
      name: 'xg2g',
      receivers: [{
        name: 'Receiver', host: '10.0.0.2', port: 8080, https: false, allowSelfSigned: false,
        username: 'root', password: 'pw', bouquets: ['Favourites (TV)', 'Sport', 'News'],
        streamTarget: 'http://10.0.0.2:17999', tvAccessory: true, channelAccessories: true,
        infoKey: 'MENU', refreshInterval: 5, mac: '00:1d:ec:0e:12:34', wakeOnLan: true, wakeBroadcast: ['10.0.0.255', '255.255.255.255'],
        offMode: 'deepStandby', standbyGuard: false, recordSwitch: false, sensors: { recording: false, streaming: false, power: false, type: 'contact' },
        deepStandbySwitch: false, rebootSwitch: false, cameraAccessory: false,
      }],
      proxy: {
        enabled: true, listen: '[::1]:18001', publicUrl: 'https://tv.example.org/xg2g', maxSessions: 3,
        maxClients: 10, token: 'tok123', audio: { mode: 'never', engine: 'ffmpeg', codec: 'aac', bitrate: '320k', channels: 6 },
        ffmpegPath: '/opt/ffmpeg/bin/ffmpeg',
        hls: { appleRedirect: false, transcodeVideo: true, videoEncoder: 'h264_vaapi' },
      },
      api: { listen: '127.0.0.1:18081' },
      mqtt: {
        enabled: true, url: 'mqtt://broker.lan:1884', username: 'mq', password: 'mqpw', clientId: '',
        prefix: 'home/xg2g', discovery: false, discoveryPrefix: 'homeassistant',
        embeddedBroker: { enabled: true, port: 1885 },
      },
      epg: { enabled: false, days: 3, refreshHours: 6 },
      hdhr: { enabled: true, friendlyName: 'Sat tuner', discovery: true },
      camera: { maxStreams: 3, videoEncoder: 'libx264' },
    });
  });

  it('maps the boolean-ish variables both ways', () => {
    const off = loadConfig({ env: { XG2G_ENABLE_STREAM_PROXY: 'false', XG2G_MQTT_DISCOVERY: '0', XG2G_EPG_ENABLED: 'NO' } });
    expect([off.proxy.enabled, off.mqtt.discovery, off.epg.enabled]).toEqual([false, false, false]);
    const on = loadConfig({
      block: { proxy: { enabled: false, audio: { mode: 'always' } }, mqtt: { discovery: false }, epg: { enabled: false } },
      env: { XG2G_ENABLE_STREAM_PROXY: '1', XG2G_MQTT_DISCOVERY: 'TRUE', XG2G_EPG_ENABLED: 'yes', XG2G_ENABLE_AUDIO_TRANSCODING: 'true' },
    });
    expect([on.proxy.enabled, on.mqtt.discovery, on.epg.enabled, on.proxy.audio.mode]).toEqual([true, true, true, 'auto']);
  });

  it('XG2G_MQTT_URL turns MQTT on; XG2G_MQTT_BROKER_PORT alone turns the broker on and points MQTT at it', () => {
    expect(loadConfig({ env: { XG2G_MQTT_URL: 'mqtt://b:1883' } }).mqtt).toMatchObject({ enabled: true, url: 'mqtt://b:1883', embeddedBroker: { enabled: false } });
    expect(loadConfig({ env: { XG2G_MQTT_BROKER_PORT: '11883' } }).mqtt).toMatchObject({
      enabled: true, url: 'mqtt://127.0.0.1:11883', embeddedBroker: { enabled: true, port: 11883 },
    });
  });

  it('XG2G_LISTEN empty turns the API listener off; other empty variables count as unset', () => {
    const config = loadConfig({ block: { proxy: { token: 'keep' } }, env: { XG2G_LISTEN: '', XG2G_API_TOKEN: '', XG2G_PROXY_LISTEN: '  ' } });
    expect(config.api.listen).toBe('');
    expect(config.proxy.token).toBe('keep');
    expect(config.proxy.listen).toBe(':18000');
  });

  it('XG2G_MAX_SESSIONS=auto means the tuner count (null)', () => {
    expect(loadConfig({ block: { proxy: { maxSessions: 4 } }, env: { XG2G_MAX_SESSIONS: 'auto' } }).proxy.maxSessions).toBeNull();
  });
});

describe('parseListen', () => {
  it.each([
    [':18000', { port: 18000 }],
    ['0.0.0.0:18000', { host: '0.0.0.0', port: 18000 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:18000', { host: '::1', port: 18000 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
    ['18000', { port: 18000 }],
  ])('%s', (input, expected) => {
    expect(parseListen(input)).toEqual(expected);
  });

  it.each(['', 'abc', ':', '1.2.3.4', '::1:80', '[::1]', ':70000', 'host:port', '[1.2.3.4]:80'])('rejects %j', (input) => {
    expect(() => parseListen(input)).toThrow();
  });
});

describe('receiverConnection', () => {
  it('copies exactly the connection fields', () => {
    const r = loadConfig({ block: livingRoom, env: {} }).receivers[0];
    expect(receiverConnection(r)).toEqual({
      name: 'Living Room', host: '192.168.1.100', port: 80, https: false, allowSelfSigned: false, username: 'root', password: 'secret',
    });
    expect(receiverConnection(r, 1234).timeoutMs).toBe(1234);
  });
});

describe('errors are ConfigError', () => {
  it('is thrown for a bad value', () => {
    expect(() => loadConfig({ block: { proxy: { listen: 'x' } }, env: {} })).toThrow(ConfigError);
  });
});
