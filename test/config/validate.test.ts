// Config validation: every problem in one ConfigError naming its field or variable; unknown keys as warnings; redaction.
import { buildConfig, ConfigError, loadConfig, loadConfigWithWarnings, redactConfig } from '../../src/config';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    // One line per problem, each also in the message.
    for (const p of e.problems) expect(e.message.split('\n')).toContain(`  ${p}`);
    return [...e.problems];
  }
  throw new Error('expected a ConfigError');
}

describe('validation', () => {
  it('lists every problem of a block in one error, each naming its field', () => {
    const problems = problemsOf(() => loadConfig({
      env: {},
      block: {
        name: 42,
        receivers: [
          { name: 'A' },
          { name: 'B', host: 'http://10.0.0.1/', port: 'eighty', https: 'maybe', password: 7, bouquets: ['ok', ''] },
          { name: 'a', host: 'bad host!', port: 70000, streamTarget: 'ftp://x', infoKey: 'FOO', refreshInterval: 0.5 },
          'not an object',
        ],
        proxy: {
          listen: 'nowhere', publicUrl: 'not a url', maxSessions: 0, maxClients: 1.5, token: 'has space',
          audio: { mode: 'sometimes', engine: 'vlc', codec: 'mp3', bitrate: 'fast', channels: 3 },
        },
        api: { listen: ':99999' },
        mqtt: { url: 'http://broker', prefix: 'a/#', embeddedBroker: { port: -1 } },
        epg: 'on',
      },
    }));
    expect(problems).toEqual([
      'receivers[0].host: is required (the receiver\'s IP address or host name)',
      'receivers[1].host: "http://10.0.0.1/" must be a host name or IP address only, without http:// or a path',
      'receivers[1].https: "maybe" is not true or false (also 1/0/yes/no)',
      'receivers[1].port: "eighty" is not a number',
      'receivers[1].password: must be text',
      'receivers[1].bouquets[1]: "" is not a bouquet name',
      'receivers[2].host: "bad host!" is not a valid host name or IP address',
      'receivers[2].port: 70000 is above the maximum 65535',
      'receivers[2].streamTarget: "ftp://x" is not "auto", a port (8001, 17999) or an http(s) URL like http://192.168.1.100:8001',
      'receivers[2].infoKey: "FOO" is not a remote key (use a name like POWER, OK, MENU, INFO, CHANNEL_UP, DIGIT_1 or a key code)',
      'receivers[2].refreshInterval: 0.5 is below the minimum 1',
      'receivers[3]: must be an object, not "not an object"',
      'receivers[2].name: "a" is already the name of receivers[0]; names must differ',
      'proxy.listen: "nowhere" is not an address like ":18000" or "0.0.0.0:18000" (IPv6 hosts go in brackets)',
      'proxy.publicUrl: "not a url" is not an http(s) URL like http://192.168.1.10:18000',
      'proxy.maxSessions: 0 is below the minimum 1',
      'proxy.maxClients: 1.5 is not a whole number',
      'proxy.token: must not contain spaces (it goes into URLs)',
      'proxy.audio.mode: "sometimes" is not one of auto, always, never',
      'proxy.audio.engine: "vlc" is not one of splice, ffmpeg',
      'proxy.audio.codec: "mp3" is not supported (only aac)',
      'proxy.audio.bitrate: "fast" is not a bitrate like 192k',
      'proxy.audio.channels: 3 is not 1, 2 or 6',
      'api.listen: ":99999" has port 99999, above 65535',
      'mqtt.embeddedBroker.port: -1 is below the minimum 1',
      'mqtt.url: "http://broker" is not a broker URL like mqtt://192.168.1.10:1883',
      'mqtt.prefix: "a/#" is not a topic prefix like "xg2g" (no spaces, #, + or leading/trailing /)',
      'epg: must be an object, not "on"',
    ]);
  });

  it('names the XG2G_* variable when the bad value came from the environment', () => {
    const problems = problemsOf(() => loadConfig({
      block: { receivers: [{ host: 'box' }] },
      env: {
        XG2G_OWI_BASE: 'ftp://box',
        XG2G_MAX_SESSIONS: 'x',
        XG2G_AUDIO_ENGINE: 'gstreamer',
        XG2G_AUDIO_BITRATE: 'fast',
        XG2G_AUDIO_CHANNELS: 'stereo',
        XG2G_ENABLE_AUDIO_TRANSCODING: 'perhaps',
        XG2G_ENABLE_STREAM_PROXY: 'sure',
        XG2G_PROXY_LISTEN: 'here',
        XG2G_PROXY_TARGET: 'box:8001',
        XG2G_MQTT_URL: 'broker',
        XG2G_MQTT_BROKER_PORT: 'x',
        XG2G_BOUQUET: ' , ',
      },
    }));
    expect(problems).toEqual([
      'XG2G_OWI_BASE: "ftp://box" must start with http:// or https://',
      'XG2G_BOUQUET: "," names no bouquet',
      'XG2G_ENABLE_AUDIO_TRANSCODING: "perhaps" is not true or false (also 1/0/yes/no)',
      'XG2G_PROXY_TARGET: "box:8001" is not "auto", a port (8001, 17999) or an http(s) URL like http://192.168.1.100:8001',
      'XG2G_ENABLE_STREAM_PROXY: "sure" is not true or false (also 1/0/yes/no)',
      'XG2G_PROXY_LISTEN: "here" is not an address like ":18000" or "0.0.0.0:18000" (IPv6 hosts go in brackets)',
      'XG2G_MAX_SESSIONS: "x" is not a number',
      'XG2G_AUDIO_ENGINE: "gstreamer" is not one of splice, ffmpeg',
      'XG2G_AUDIO_BITRATE: "fast" is not a bitrate like 192k',
      'XG2G_AUDIO_CHANNELS: "stereo" is not a number',
      'XG2G_MQTT_BROKER_PORT: "x" is not a number',
      'XG2G_MQTT_URL: "broker" is not a broker URL like mqtt://192.168.1.10:1883',
    ]);
  });

  it('asks for XG2G_OWI_BASE when receiver variables are set without a receiver', () => {
    expect(problemsOf(() => loadConfig({ env: { XG2G_OWI_USER: 'root', XG2G_BOUQUET: 'Sport' } }))).toEqual([
      'XG2G_OWI_BASE: is required: XG2G_OWI_USER, XG2G_BOUQUET are set but no receiver is configured',
    ]);
  });

  it('rejects the same port for proxy and API', () => {
    expect(problemsOf(() => loadConfig({ env: {}, block: { proxy: { listen: ':18000' }, api: { listen: ':18000' } } }))).toEqual([
      'api.listen: uses port 18000 like proxy.listen; give it another port or leave it empty to turn it off',
    ]);
  });

  it('accepts a disabled proxy with an empty listen address', () => {
    expect(loadConfig({ env: {}, block: { proxy: { enabled: false, listen: '' } } }).proxy.listen).toBe('');
  });
});

describe('unknown keys', () => {
  it('are ignored and returned as warnings, with unknown XG2G_* variables', () => {
    const { config, warnings } = loadConfigWithWarnings({
      block: {
        platform: 'XG2G', _bridge: {}, colour: 'blue',
        receivers: [{ host: 'box', volumeStep: 5 }],
        proxy: { dash: true, audio: { language: 'deu' } },
        mqtt: { qos: 1, embeddedBroker: { host: 'x' } },
      },
      env: { XG2G_OWI_PASSWORD: 'typo', PATH: '/usr/bin' },
    });
    expect(warnings.sort()).toEqual([
      'XG2G_OWI_PASSWORD: unknown variable, ignored',
      'colour: unknown setting, ignored',
      'mqtt.embeddedBroker.host: unknown setting, ignored',
      'mqtt.qos: unknown setting, ignored',
      'proxy.audio.language: unknown setting, ignored',
      'proxy.dash: unknown setting, ignored',
      'receivers[0].volumeStep: unknown setting, ignored',
    ]);
    expect(config.receivers[0].host).toBe('box');
    expect(config).not.toHaveProperty('colour');
  });

  it('loadConfig hands warnings to onWarning', () => {
    const seen: string[] = [];
    loadConfig({ block: { extra: 1 }, env: {}, onWarning: (w) => seen.push(w) });
    expect(seen).toEqual(['extra: unknown setting, ignored']);
  });
});

describe('secrets', () => {
  const block = {
    receivers: [{ host: 'box', username: 'root', password: 'hunter2-box' }],
    proxy: { token: 'tok-hunter2', publicUrl: 'http://viewer:hunter2-url@tv.lan' },
    mqtt: { url: 'mqtt://u:hunter2-mqtturl@broker', password: 'hunter2-mqtt' },
  };

  it('redactConfig hides every password and token, and leaves the original alone', () => {
    const config = loadConfig({ block, env: {} });
    const redacted = redactConfig(config);
    const text = JSON.stringify(redacted);
    expect(text).not.toMatch(/hunter2/);
    expect(redacted.receivers[0].password).toBe('***');
    expect(redacted.proxy.token).toBe('***');
    expect(redacted.mqtt.password).toBe('***');
    expect(redacted.mqtt.url).toBe('mqtt://u:***@broker');
    expect(redacted.proxy.publicUrl).toBe('http://viewer:***@tv.lan');
    expect(config.receivers[0].password).toBe('hunter2-box');
    expect(redactConfig(loadConfig({ block: {}, env: {} })).mqtt.password).toBe('');
  });

  it('ConfigError messages never contain secret values', () => {
    const problems = problemsOf(() => loadConfig({
      block: {
        receivers: [{ host: 'box', password: ['hunter2-array'] }],
        proxy: { token: 'hunter2 token', publicUrl: 'ftp://u:hunter2-pub@x' },
        mqtt: { url: 'http://u:hunter2-mq@broker', password: { p: 'hunter2-obj' } },
      },
      env: { XG2G_OWI_BASE: 'ftp://root:hunter2-env@box' },
    }));
    expect(problems.join('\n')).not.toMatch(/hunter2/);
    expect(problems.length).toBeGreaterThanOrEqual(5);
  });
});

describe('streamTarget as a bare port (the settings form offers 8001 / 17999)', () => {
  it('means that port on the receiver itself', () => {
    const { config } = buildConfig({ receivers: [
      { name: 'a', host: '192.168.1.100', streamTarget: '17999' },
      { name: 'b', host: 'fe80::1', streamTarget: '8001' },
      { name: 'c', host: 'box', streamTarget: 'auto' },
      { name: 'd', host: 'box2' },
    ] });
    expect(config.receivers.map((r) => r.streamTarget)).toEqual(['http://192.168.1.100:17999', 'http://[fe80::1]:8001', 'auto', 'http://box2:8001']);
  });

  it('rejects a port out of range', () => {
    const { errors } = buildConfig({ receivers: [{ name: 'a', host: 'box', streamTarget: '70000' }] });
    expect(errors.join('\n')).toMatch(/receivers\[0\]\.streamTarget/);
  });
});
