// The checks Homebridge's plugin verification runs on package.json and config.schema.json, and
// the schema held against the config validator: every field it offers is one the validator knows,
// its choices and limits are ones the validator accepts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigWithWarnings } from '../../src/config';
import { KEY_CODES, parseKey } from '../../src/receiver/keys';
import { PLATFORM_NAME, PLUGIN_NAME, REFRESH_INTERVAL_MAX_S, REFRESH_INTERVAL_MIN_S } from '../../src/settings';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const schema = JSON.parse(readFileSync(join(ROOT, 'config.schema.json'), 'utf8'));

interface Prop {
  type?: string;
  title?: string;
  description?: string;
  placeholder?: unknown;
  properties?: Record<string, Prop>;
  items?: Prop;
  enum?: unknown[];
  oneOf?: Array<{ enum: unknown[] }>;
  minimum?: number;
  maximum?: number;
}

/** Every leaf field of the schema with its dotted path. */
function leaves(props: Record<string, Prop>, path = ''): Array<[string, Prop]> {
  return Object.entries(props).flatMap(([key, p]) => {
    const here = path ? `${path}.${key}` : key;
    if (p.type === 'object' && p.properties) return leaves(p.properties, here);
    if (p.type === 'array' && p.items?.properties) return [[here, p] as [string, Prop], ...leaves(p.items.properties, `${here}[]`)];
    return [[here, p] as [string, Prop]];
  });
}

describe('Homebridge plugin verification', () => {
  it('is named and tagged as a Homebridge plugin', () => {
    expect(pkg.name).toBe(PLUGIN_NAME);
    expect(pkg.name).toMatch(/^(@[a-z0-9-]+\/)?homebridge-/);
    expect(pkg.keywords).toContain('homebridge-plugin');
    expect(typeof pkg.displayName).toBe('string');
    expect(pkg.main).toBe('dist/index.js');
  });

  it('declares the Homebridge and Node versions it runs on', () => {
    expect(pkg.engines.homebridge).toMatch(/\^1\.8\.0 \|\| \^2\.0\.0/);
    expect(pkg.engines.node).toMatch(/\^20/);
  });

  it('runs no install scripts', () => {
    for (const script of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts?.[script]).toBeUndefined();
  });

  it('does not ship homebridge or hap-nodejs as runtime dependencies', () => {
    for (const section of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundledDependencies']) {
      expect(pkg[section]?.homebridge).toBeUndefined();
      expect(pkg[section]?.['hap-nodejs']).toBeUndefined();
    }
    expect(pkg.devDependencies.homebridge).toBeDefined();
    expect(pkg.dependencies['@homebridge/plugin-ui-utils']).toBeDefined();
  });

  it('publishes the built code, the schema and the settings UI', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'config.schema.json', 'homebridge-ui']));
  });

  it('has a schema with pluginAlias, pluginType, singular and a name', () => {
    expect(schema.pluginAlias).toBe(PLATFORM_NAME);
    expect(schema.pluginType).toBe('platform');
    expect(schema.singular).toBe(true);
    expect(schema.customUi).toBe(true);
    expect(schema.schema.properties.name.type).toBe('string');
    expect(schema.schema.properties.name.default).toBeDefined();
  });
});

describe('config.schema.json against the validator', () => {
  const fields = leaves(schema.schema.properties);

  it('gives every field a title, a description stating its default, and a placeholder', () => {
    for (const [path, p] of fields) {
      expect({ path, title: typeof p.title }).toEqual({ path, title: 'string' });
      const needsDefault = path !== 'receivers' && path !== 'receivers[].host';
      if (needsDefault) expect({ path, description: p.description }).toEqual({ path, description: expect.stringMatching(/Default: /) });
      if (p.type !== 'boolean' && p.type !== 'array') expect({ path, placeholder: p.placeholder !== undefined }).toEqual({ path, placeholder: true });
      // The Homebridge UI renders descriptions as HTML: "<receiver>" would vanish as a tag.
      expect({ path, tagLike: /<[A-Za-z/]/.test(String(p.description ?? '')) }).toEqual({ path, tagLike: false });
    }
  });

  it('offers only fields the validator knows, with values it accepts', () => {
    const receiver = {
      name: 'Living Room', host: '192.168.1.100', port: 80, https: false, allowSelfSigned: false, username: 'root',
      password: 'secret', bouquets: ['Favourites (TV)'], streamTarget: '17999', tvAccessory: true,
      channelAccessories: true, infoKey: 'MENU', refreshInterval: 5, mac: '00:1d:ec:0e:12:34', wakeOnLan: true,
      wakeBroadcast: ['192.168.1.255'], offMode: 'standby', standbyGuard: true, recordSwitch: false,
      sensors: { recording: false, streaming: false, power: false, type: 'contact' }, deepStandbySwitch: false, rebootSwitch: false,
      cameraAccessory: false,
    };
    const block = {
      platform: 'XG2G', name: 'xg2g', receivers: [receiver],
      proxy: { enabled: true, listen: ':18000', publicUrl: 'http://192.168.1.10:18000', maxSessions: 2, maxClients: 10, token: 'abc',
        audio: { mode: 'auto', engine: 'splice', codec: 'aac', bitrate: '192k', channels: 2 }, ffmpegPath: '/usr/bin/ffmpeg',
        hls: { appleRedirect: true, transcodeVideo: false, videoEncoder: 'libx264' } },
      api: { listen: ':18080' },
      mqtt: { enabled: false, url: 'mqtt://127.0.0.1:1883', username: 'u', password: 'p', clientId: 'xg2g', prefix: 'xg2g', discovery: true,
        discoveryPrefix: 'homeassistant', embeddedBroker: { enabled: false, port: 1883 } },
      epg: { enabled: true, days: 7, refreshHours: 6 },
      hdhr: { enabled: false, friendlyName: 'xg2g', discovery: true },
      camera: { maxStreams: 2, videoEncoder: 'libx264' },
    };
    // Every schema field is set in the block above, so a missing one here is a field nobody tested.
    const set = (path: string): boolean => path.split('.').reduce<unknown>((node, key) => {
      const k = key.replace('[]', '');
      const v = (node as Record<string, unknown> | undefined)?.[k];
      return Array.isArray(v) && key.endsWith('[]') ? v[0] : v;
    }, block) !== undefined;
    for (const [path] of fields) expect({ path, set: set(path) }).toEqual({ path, set: true });
    const { config, warnings } = loadConfigWithWarnings({ block, env: {} });
    expect(warnings).toEqual([]);
    expect(config.receivers[0].streamTarget).toBe('http://192.168.1.100:17999');
  });

  // The dropdowns' choices live in the layout (titleMap), so the schema itself can accept every
  // value the plugin accepts, listed or not.
  const choices = new Map<string, unknown[]>();
  const collect = (items: unknown[] = []): void => items.forEach((item) => {
    if (typeof item !== 'object' || item === null) return;
    const node = item as { key?: string; titleMap?: Array<{ value: unknown }>; items?: unknown[] };
    if (node.key && node.titleMap) choices.set(node.key, node.titleMap.map((t) => t.value));
    collect(node.items);
  });
  collect(schema.layout);
  const accepted = (block: unknown): boolean => {
    try {
      return loadConfigWithWarnings({ block, env: {} }).warnings.length === 0;
    } catch {
      return false;
    }
  };

  it('offers choices the validator accepts', () => {
    expect([...choices.get('receivers[].infoKey')!].sort()).toEqual(Object.keys(KEY_CODES).sort());
    for (const key of choices.get('receivers[].infoKey')!) expect(() => parseKey(key as string)).not.toThrow();
    expect(choices.get('receivers[].streamTarget')).toEqual(['8001', '17999', 'auto']);
    for (const streamTarget of choices.get('receivers[].streamTarget')!) {
      expect(accepted({ platform: 'XG2G', receivers: [{ host: '10.0.0.2', streamTarget }] })).toBe(true);
    }
    const r = schema.schema.properties.receivers.items.properties;
    expect([r.refreshInterval.minimum, r.refreshInterval.maximum]).toEqual([REFRESH_INTERVAL_MIN_S, REFRESH_INTERVAL_MAX_S]);
    for (const mode of choices.get('proxy.audio.mode')!) expect(accepted({ proxy: { audio: { mode } } })).toBe(true);
    for (const channels of choices.get('proxy.audio.channels')!) expect(accepted({ proxy: { audio: { channels } } })).toBe(true);
    const audio = schema.schema.properties.proxy.properties.audio.properties;
    const bitrate = new RegExp(audio.bitrate.pattern, 'u');
    for (const ok of ['32k', '192k', '512k']) expect(bitrate.test(ok)).toBe(true);
    for (const bad of ['31k', '513k', '192', '1000k']) expect(bitrate.test(bad)).toBe(false);
  });

  it('accepts in its patterns every value the validator accepts, and refuses what it refuses', () => {
    const r = schema.schema.properties.receivers.items.properties;
    const audio = schema.schema.properties.proxy.properties.audio.properties;
    const cases: Array<[string, string, (value: string) => unknown, string[], string[]]> = [
      ['streamTarget', r.streamTarget.pattern, (streamTarget) => ({ receivers: [{ host: '10.0.0.2', streamTarget }] }),
        ['8001', '17999', 'auto', 'AUTO', '1', '65535', '00080', 'http://10.0.0.2:8001', 'https://box.local:17999/', 'http://[::1]:8001', 'HTTP://box:8001'],
        ['0', '65536', '123456', 'http://box:8001/stream', 'ftp://box:8001', 'box:8001', 'http://box:8001?x=1', '']],
      ['infoKey', r.infoKey.pattern, (infoKey) => ({ receivers: [{ host: '10.0.0.2', infoKey }] }),
        ['MENU', 'menu', 'KEY_MENU', 'volume_up', 'DIGIT_1', 'KEY_1', '358'],
        ['MENU KEY', 'KEY-MENU', '']],
      ['mode', audio.mode.pattern, (mode) => ({ proxy: { audio: { mode } } }), ['auto', 'Always', 'NEVER'], ['sometimes', '']],
      ['codec', audio.codec.pattern, (codec) => ({ proxy: { audio: { codec } } }), ['aac', 'AAC'], ['mp3', '']],
      ['bitrate', audio.bitrate.pattern, (bitrate) => ({ proxy: { audio: { bitrate } } }), ['192k', '192K', '0192k'], ['31k', '192']],
      ['prefix', schema.schema.properties.mqtt.properties.prefix.pattern, (prefix) => ({ mqtt: { prefix } }),
        ['xg2g', 'home/tv', ' xg2g '], ['/xg2g', 'xg2g/', 'a b', 'a#', '']],
    ];
    for (const [field, pattern, block, good, bad] of cases) {
      const re = new RegExp(pattern, 'u');
      for (const value of good) expect({ field, value, plugin: accepted(block(value)), schema: re.test(value) }).toEqual({ field, value, plugin: true, schema: true });
      // '' is left out of the first check: the plugin reads an empty value as "the default".
      for (const value of bad.filter((v) => v !== '')) expect({ field, value, plugin: accepted(block(value)), schema: re.test(value) }).toEqual({ field, value, plugin: false, schema: false });
    }
  });
});
