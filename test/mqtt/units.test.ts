// The pure parts of the MQTT layer: topic slugs, channel select options with duplicate names,
// command parsing (against a recording control, so nothing reaches a box), state and stream
// payloads, client ids, and the embedded broker's port-in-use message.
import net from 'node:net';
import mqtt from 'mqtt';
import { silentLogger } from '../../src/logger';
import { EmbeddedBroker } from '../../src/mqtt/broker';
import { clientIdFor } from '../../src/mqtt/bridge';
import { ChannelOptions } from '../../src/mqtt/channel-options';
import { CommandTarget, runCommand } from '../../src/mqtt/commands';
import { fieldPayloads, statePayload, streamPayload, streamsPayload } from '../../src/mqtt/state';
import { isDiscoveryTopicOf, receiverSlugs, receiverTopics, slugify } from '../../src/mqtt/topics';
import { INITIAL_STATE, ReceiverState } from '../../src/receiver/monitor';
import { channelId, parseServiceRef } from '../../src/receiver/service-ref';
import { SessionStatus } from '../../src/stream/session';
import { Channel, ChannelList } from '../../src/receiver/channels';

const ch = (ref: string, name: string, bouquet = 'Favourites (TV)'): Channel => ({ ref: parseServiceRef(ref), name, bouquet, number: 0, kind: 'tv', id: channelId(parseServiceRef(ref)) });
const list = (...channels: Channel[]): ChannelList => new ChannelList(channels);
const ERSTE_HD = ch('1:0:19:283D:3FB:1:C00000:0:0:0:', 'Das Erste HD');
const ERSTE_HD_OTHER = ch('1:0:19:283D:3FB:1:C00000:0:0:0:', 'Das Erste HD', 'HD');
const ZDF = ch('1:0:19:2B66:3F3:1:C00000:0:0:0:', 'ZDF HD');
const ZDF_OTHER = ch('1:0:19:2B66:3F3:2:C00000:0:0:0:', 'ZDF HD', 'Sport');
const ZDF_THIRD = ch('1:0:19:2B66:3F3:3:C00000:0:0:0:', 'ZDF HD', 'Sport');

describe('topics', () => {
  it('slugs receiver names stably and topic-safely', () => {
    expect(slugify('Living Room')).toBe('living_room');
    expect(slugify('  Küche / TV #2+ ')).toBe('kuche_tv_2');
    expect(slugify('📺')).toBe('receiver');
    expect(receiverSlugs(['Living Room', 'living-room', 'Living  Room', 'Bedroom'])).toEqual(['living_room', 'living_room_2', 'living_room_3', 'bedroom']);
  });

  it('knows its command, stream and discovery topics', () => {
    const t = receiverTopics('home/xg2g', 'living_room');
    expect(t.command('power')).toBe('home/xg2g/living_room/power/set');
    expect(t.commandOf('home/xg2g/living_room/volume/set')).toBe('volume');
    expect(t.commandOf('home/xg2g/living_room/launch/set')).toBeUndefined();
    expect(t.commandOf('home/xg2g/bedroom/volume/set')).toBeUndefined();
    expect(t.streamOf('home/xg2g/living_room/streams/283d_3fb_1_c00000')).toBe('283d_3fb_1_c00000');
    expect(t.streamOf('home/xg2g/living_room/streams')).toBeUndefined();
    expect(isDiscoveryTopicOf('ha/sensor/xg2g_box/streams/config', 'ha', 'xg2g_box')).toBe(true);
    expect(isDiscoveryTopicOf('ha/sensor/xg2g_other/streams/config', 'ha', 'xg2g_box')).toBe(false);
    expect(isDiscoveryTopicOf('my/ha/sensor/xg2g_box/streams/config', 'my/ha', 'xg2g_box')).toBe(true);
  });

  it('derives client ids that are stable and distinct per receiver', () => {
    const config = { clientId: '', prefix: 'xg2g' };
    expect(clientIdFor(config, 'living_room', 2)).toBe(clientIdFor(config, 'living_room', 2));
    expect(clientIdFor(config, 'living_room', 2)).not.toBe(clientIdFor(config, 'bedroom', 2));
    expect(clientIdFor({ clientId: 'mine', prefix: 'xg2g' }, 'living_room', 1)).toBe('mine');
    expect(clientIdFor({ clientId: 'mine', prefix: 'xg2g' }, 'living_room', 2)).toBe('mine_living_room');
  });
});

describe('channel select options', () => {
  it('keeps names, and disambiguates duplicates by bouquet, then by short id', () => {
    const options = new ChannelOptions(list(ERSTE_HD, ZDF, ZDF_OTHER, ZDF_THIRD, ch('1:0:1:6DCA:44D:1:C00000:0:0:0:', 'ZDF HD (Favourites (TV))')));
    expect(options.options).toEqual(['Das Erste HD', 'ZDF HD (Favourites (TV))', 'ZDF HD (2b66_3f3_2_c00000)', 'ZDF HD (2b66_3f3_3_c00000)', 'ZDF HD (Favourites (TV)) (6dca_44d_1_c00000)']);
    expect(new Set(options.options).size).toBe(options.options.length);
    expect(options.find('ZDF HD (2b66_3f3_2_c00000)')).toBe(ZDF_OTHER);
    expect(options.label(ZDF_THIRD.ref.ref, 'ZDF HD')).toEqual({ name: 'ZDF HD (2b66_3f3_3_c00000)', listed: true });
    expect(options.label('1:0:19:1:1:1:C00000:0:0:0:', 'Elsewhere')).toEqual({ name: 'Elsewhere', listed: false });
  });

  it('finds channels by name, reference and short id', () => {
    const options = new ChannelOptions(list(ERSTE_HD, ZDF, ERSTE_HD_OTHER));
    expect(options.find('das erste hd')).toBe(ERSTE_HD);
    expect(options.find(ZDF.ref.ref)).toBe(ZDF);
    expect(options.find('2b66_3f3_1_c00000')).toBe(ZDF);
    expect(options.find('Nope')).toBeUndefined();
  });
});

describe('commands', () => {
  function target(channels = new ChannelOptions(list(ERSTE_HD, ZDF))): { target: CommandTarget; calls: unknown[][] } {
    const calls: unknown[][] = [];
    const record = (name: string) => async (...args: unknown[]): Promise<ReceiverState> => {
      calls.push([name, ...args]);
      return INITIAL_STATE;
    };
    const control = {
      setPower: record('setPower'), togglePower: record('togglePower'), deepStandby: record('deepStandby'), reboot: record('reboot'),
      zap: record('zap'), setVolume: record('setVolume'), volumeUp: record('volumeUp'), volumeDown: record('volumeDown'),
      setMute: record('setMute'), key: record('key'),
    };
    return {
      calls,
      target: {
        control, monitor: { refresh: record('refresh'), state: { ...INITIAL_STATE, muted: true } },
        channels: () => channels, reload: () => void calls.push(['reload']),
      },
    };
  }
  const run = async (command: Parameters<typeof runCommand>[1], payload: string | Buffer, t = target()): Promise<{ problem: string | undefined; calls: unknown[][] }> => {
    const problem = await runCommand(t.target, command, typeof payload === 'string' ? Buffer.from(payload) : payload);
    return { problem, calls: t.calls };
  };

  it('maps valid payloads to control calls', async () => {
    expect((await run('power', 'on')).calls).toEqual([['setPower', true]]);
    expect((await run('power', ' OFF\n')).calls).toEqual([['setPower', false]]);
    expect((await run('power', '"TOGGLE"')).calls).toEqual([['togglePower']]);
    expect((await run('power', 'deep standby')).calls).toEqual([['deepStandby']]);
    expect((await run('power', 'REBOOT')).calls).toEqual([['reboot']]);
    expect((await run('channel', 'zdf hd')).calls).toEqual([['zap', ZDF.ref]]);
    expect((await run('volume', '55.4')).calls).toEqual([['setVolume', 55.4]]);
    expect((await run('volume', 'up')).calls).toEqual([['volumeUp']]);
    expect((await run('mute', 'TOGGLE')).calls).toEqual([['setMute', false]]);
    expect((await run('key', 'KEY_OK')).calls).toEqual([['key', 352]]);
    expect((await run('refresh', 'anything')).calls).toEqual([['reload'], ['refresh']]);
  });

  it('refuses invalid payloads with a sentence, touching nothing', async () => {
    const cases: Array<[Parameters<typeof runCommand>[1], string | Buffer, RegExp]> = [
      ['power', Buffer.from([0xc3, 0x28]), /not text/],
      ['power', 'ON\u0000', /not text/],
      ['power', 'x'.repeat(2000), /at most/],
      ['channel', 'Nope', /no channel "Nope" in the configured bouquets/],
      ['volume', '101', /from 0 to 100/],
      ['volume', '0x10', /from 0 to 100/],
      ['mute', 'yes please', /ON, OFF or TOGGLE/],
      ['key', 'LAUNCH', /unknown remote key/],
    ];
    for (const [command, payload, message] of cases) {
      const { problem, calls } = await run(command, payload);
      expect(problem).toMatch(new RegExp(`^${command}/set ignored: `));
      expect(problem).toMatch(message);
      expect(calls).toEqual([]);
    }
    const empty = target(new ChannelOptions(list()));
    expect((await run('channel', 'ZDF HD', empty)).problem).toMatch(/not loaded yet/);
  });

  it('reports a box that fails the command instead of throwing', async () => {
    const t = target();
    t.target.control.setPower = async () => {
      throw new Error('Living Room (127.0.0.1:80) is not reachable');
    };
    expect(await runCommand(t.target, 'power', Buffer.from('ON'))).toBe('power/set ignored: the receiver did not do it: Living Room (127.0.0.1:80) is not reachable');
  });
});

describe('payloads', () => {
  const label = (_ref: string, name: string): { name: string; listed: boolean } => ({ name, listed: true });

  it('publishes only reachability until the box has answered', () => {
    expect(fieldPayloads(statePayload(INITIAL_STATE, label))).toEqual({ reachable: 'false' });
  });

  it('writes fields as plain text and clears channel and programme in standby', () => {
    const on: ReceiverState = {
      ...INITIAL_STATE, reachable: true, power: 'on', channel: { ref: ZDF.ref.ref, name: 'ZDF HD' }, volume: 40, muted: true,
      now: { title: 'heute', description: 'News', begin: new Date(0), end: new Date(1_800_000) }, next: null,
    };
    const fields = fieldPayloads(statePayload(on, label));
    expect(fields).toMatchObject({ power: 'ON', channel: 'ZDF HD', channel_ref: ZDF.ref.ref, volume: '40', mute: 'ON', programme: 'heute', programme_next: '' });
    expect(JSON.parse(fields.programme_info!)).toMatchObject({ title: 'heute', begin: '1970-01-01T00:00:00.000Z', next_title: null });
    expect(statePayload(on, label).channel).toEqual({ name: 'ZDF HD', ref: ZDF.ref.ref, id: '2b66_3f3_1_c00000', listed: true });
    const standby = fieldPayloads(statePayload({ ...on, power: 'standby', channel: null, now: null }, label));
    expect(standby).toMatchObject({ power: 'OFF', channel: '', channel_ref: '', programme: '' });
    const long = fieldPayloads(statePayload({ ...on, now: { ...on.now!, title: 'x'.repeat(400) } }, label));
    expect(long.programme!.length).toBe(255);
  });

  it('rounds bitrates so jitter is no change, and sums sessions', () => {
    const status: SessionStatus = {
      id: 'a', channel: { name: 'ZDF HD', ref: ZDF.ref.ref }, state: 'running', mode: 'transcode', codecsIn: ['h264', 'ac3'], codecsOut: ['h264', 'aac'],
      clients: 2, bytesIn: 0, bytesOut: 0, bitrateIn: 8_000_400, bitrateOut: 8_100_499, startedAt: '2024-01-01T00:00:00.000Z', restarts: 0, lastError: null, ffmpegPid: 42, engine: 'splice', engineReason: null,
    };
    const one = streamPayload(status);
    expect(one).toMatchObject({ bitrate_in: 8_000_000, bitrate_out: 8_100_000, clients: 2, mode: 'transcode', codecs_out: ['h264', 'aac'] });
    expect(JSON.stringify(streamPayload({ ...status, bitrateIn: 8_000_100 }))).toBe(JSON.stringify(one));
    expect(streamsPayload([one, one])).toEqual({ sessions: 2, clients: 4, bitrate_in: 16_000_000, bitrate_out: 16_200_000, channels: ['a', 'a'] });
  });
});

describe('embedded broker', () => {
  it('requires the configured login when mqtt.username/password are set', async () => {
    const broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1', username: 'ha', password: 's3cret', log: silentLogger });
    try {
      await expect(mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password|Not authorized/);
      await expect(mqtt.connectAsync(broker.url, { reconnectPeriod: 0, username: 'ha', password: 'wrong' })).rejects.toThrow(/Bad username or password|Not authorized/);
      const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0, username: 'ha', password: 's3cret' });
      expect(client.connected).toBe(true);
      await client.endAsync();
    } finally {
      await broker.close();
    }
  });

  it('explains a port in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await expect(EmbeddedBroker.start({ port, host: '127.0.0.1', log: silentLogger })).rejects.toThrow(
        `the embedded MQTT broker cannot listen on port ${port}: it is in use (another broker?); set mqtt.embeddedBroker.port (XG2G_MQTT_BROKER_PORT) to a free port`,
      );
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
