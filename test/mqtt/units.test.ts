// The pure parts of the MQTT layer: topic slugs, channel select options with duplicate names (and
// the name Home Assistant reserves), command parsing (against a recording control, so nothing
// reaches a box), state, timer and stream payloads, client ids, the proxy URL Home Assistant gets,
// and the embedded broker's port-in-use message.
import net from 'node:net';
import mqtt from 'mqtt';
import { silentLogger } from '../../src/logger';
import { EmbeddedBroker } from '../../src/mqtt/broker';
import { clientIdFor } from '../../src/mqtt/bridge';
import { ChannelOptions } from '../../src/mqtt/channel-options';
import { CommandTarget, runCommand } from '../../src/mqtt/commands';
import { buildDiscovery, CONTROL_BUTTONS, KEY_BUTTONS } from '../../src/mqtt/discovery';
import { proxyBaseForHomeAssistant } from '../../src/mqtt/proxy-url';
import { fieldPayloads, piconUrl, statePayload, streamPayload, streamsPayload, timersPayload } from '../../src/mqtt/state';
import { bridgeTopics, isDiscoveryTopicOf, receiverSlugs, receiverTopics, slugify } from '../../src/mqtt/topics';
import { CommandRefused, rejectedError } from '../../src/receiver/errors';
import { INITIAL_STATE, ReceiverState } from '../../src/receiver/monitor';
import { DeviceInfo, Timer } from '../../src/receiver/types';
import { discoveryProblems } from './ha-schema';
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
    // `<prefix>/bridge/…` is the bridge's own.
    expect(receiverSlugs(['Bridge', 'bridge'])).toEqual(['bridge_2', 'bridge_3']);
    expect(bridgeTopics('xg2g').availability).toBe('xg2g/bridge/availability');
  });

  it('knows its command, stream and discovery topics', () => {
    const t = receiverTopics('home/xg2g', 'living_room');
    expect(t.command('power')).toBe('home/xg2g/living_room/power/set');
    expect(t.commandOf('home/xg2g/living_room/volume/set')).toBe('volume');
    expect(t.commandOf('home/xg2g/living_room/launch/set')).toBeUndefined();
    expect(t.commandOf('home/xg2g/bedroom/volume/set')).toBeUndefined();
    expect(t.command('timer/add')).toBe('home/xg2g/living_room/timer/add');
    expect(t.commandOf('home/xg2g/living_room/timer/delete')).toBe('timer/delete');
    expect(t.commandOf('home/xg2g/living_room/timer/set')).toBeUndefined();
    expect(t.commandOf('home/xg2g/living_room/record/set')).toBe('record');
    expect(t.commandSubscriptions).toEqual(['home/xg2g/living_room/+/set', 'home/xg2g/living_room/timer/add', 'home/xg2g/living_room/timer/delete']);
    expect(t.streamOf('home/xg2g/living_room/streams/283d_3fb_1_c00000')).toBe('283d_3fb_1_c00000');
    expect(t.streamOf('home/xg2g/living_room/streams')).toBeUndefined();
    expect(isDiscoveryTopicOf('ha/sensor/xg2g_box/streams/config', 'ha', 'xg2g_box')).toBe(true);
    expect(isDiscoveryTopicOf('ha/sensor/xg2g_other/streams/config', 'ha', 'xg2g_box')).toBe(false);
    expect(isDiscoveryTopicOf('my/ha/sensor/xg2g_box/streams/config', 'my/ha', 'xg2g_box')).toBe(true);
  });

  it('derives one client id that is stable, and distinct per prefix', () => {
    const config = { clientId: '', prefix: 'xg2g' };
    expect(clientIdFor(config)).toBe(clientIdFor(config));
    expect(clientIdFor(config)).toMatch(/^xg2g_[0-9a-f]{8}$/);
    expect(clientIdFor({ clientId: '', prefix: 'other' })).not.toBe(clientIdFor(config));
    expect(clientIdFor({ clientId: 'mine', prefix: 'xg2g' })).toBe('mine');
  });

  it('gives Home Assistant a proxy URL it can reach, and none that would need the access token', () => {
    expect(proxyBaseForHomeAssistant({ publicUrl: 'http://tv.lan:18000/', listen: ':18000', token: '' }, undefined)).toBe('http://tv.lan:18000');
    expect(proxyBaseForHomeAssistant({ publicUrl: '', listen: '127.0.0.1:0', token: '' }, 'http://127.0.0.1:4711')).toBe('http://127.0.0.1:4711');
    expect(proxyBaseForHomeAssistant({ publicUrl: '', listen: ':18000', token: '' }, undefined)).toBeUndefined();
    expect(proxyBaseForHomeAssistant({ publicUrl: 'http://tv.lan:18000', listen: ':18000', token: 's3cret' }, 'http://127.0.0.1:18000')).toBeUndefined();
    // Every interface: the machine's LAN address when it has one, as other hosts reach it.
    expect(proxyBaseForHomeAssistant({ publicUrl: '', listen: ':18000', token: '' }, 'http://127.0.0.1:18000')).toMatch(/^http:\/\/[\d.]+:18000$/);
    expect(piconUrl('http://h:1/', '1:0:19:283D:3FB:1:C00000:0:0:0:')).toBe('http://h:1/picon/1%3A0%3A19%3A283D%3A3FB%3A1%3AC00000%3A0%3A0%3A0%3A.png');
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

  it('never offers "None", which Home Assistant reads as "unknown"', () => {
    const none = ch('1:0:1:1:1:1:C00000:0:0:0:', 'None');
    const options = new ChannelOptions(list(ERSTE_HD, none, ch('1:0:1:2:1:1:C00000:0:0:0:', 'none ')));
    expect(options.options).toEqual(['Das Erste HD', 'None (1_1_1_c00000)', 'none (2_1_1_c00000)']);
    const single = new ChannelOptions(list(ERSTE_HD, none));
    expect(single.options).toEqual(['Das Erste HD', 'None (channel)']);
    expect(single.find('None (channel)')).toBe(none);
    expect(single.label(none.ref.ref, 'None')).toEqual({ name: 'None (channel)', listed: true });
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
  const TIMER: Timer = {
    id: '1700000000_1700003600_2b66_3f3_1_c00000', name: 'heute', channel: 'ZDF HD', ref: ZDF.ref.ref,
    begin: new Date(1_700_000_000_000), end: new Date(1_700_003_600_000), state: 'waiting',
  };

  function target(channels = new ChannelOptions(list(ERSTE_HD, ZDF)), state: Partial<ReceiverState> = {}): { target: CommandTarget; calls: unknown[][] } {
    const calls: unknown[][] = [];
    const record = <T>(name: string, result: T) => async (...args: unknown[]): Promise<T> => {
      calls.push([name, ...args]);
      return result;
    };
    const control = {
      powerOn: record('powerOn', INITIAL_STATE), powerOff: record('powerOff', INITIAL_STATE), deepStandby: record('deepStandby', INITIAL_STATE),
      reboot: record('reboot', INITIAL_STATE), zap: record('zap', INITIAL_STATE), setVolume: record('setVolume', INITIAL_STATE),
      volumeUp: record('volumeUp', INITIAL_STATE), volumeDown: record('volumeDown', INITIAL_STATE), setMute: record('setMute', INITIAL_STATE), toggleMute: record('toggleMute', INITIAL_STATE),
      key: record('key', INITIAL_STATE), recordNow: record('recordNow', [TIMER]), stopRecording: record('stopRecording', [] as Timer[]),
      addTimer: record('addTimer', [TIMER]), deleteTimer: record('deleteTimer', [] as Timer[]),
      message: record<'yes' | undefined>('message', 'yes'), togglePower: record('togglePower', INITIAL_STATE),
    };
    return {
      calls,
      target: {
        control, monitor: { refresh: record('refresh', INITIAL_STATE), state: { ...INITIAL_STATE, reachable: true, power: 'on', muted: true, ...state } },
        channels: () => channels, reload: () => void calls.push(['reload']),
      },
    };
  }
  type Result = Awaited<ReturnType<typeof runCommand>> & { calls: unknown[][] };
  const run = async (command: Parameters<typeof runCommand>[1], payload: string | Buffer, t = target()): Promise<Result> => {
    const result = await runCommand(t.target, command, typeof payload === 'string' ? Buffer.from(payload) : payload);
    return { ...result, calls: t.calls };
  };

  it('maps valid payloads to control calls', async () => {
    expect((await run('power', 'on')).calls).toEqual([['powerOn']]);
    expect((await run('power', ' OFF\n')).calls).toEqual([['powerOff']]);
    expect((await run('power', 'off_force')).calls).toEqual([['powerOff', { force: true }]]);
    // TOGGLE goes through the control's toggle (guarded off, waking on), not the box's own toggle.
    expect((await run('power', '"TOGGLE"')).calls).toEqual([['togglePower']]);
    expect((await run('power', 'deep standby')).calls).toEqual([['deepStandby']]);
    expect((await run('power', 'DEEP_STANDBY_FORCE')).calls).toEqual([['deepStandby', { force: true }]]);
    expect((await run('power', 'REBOOT')).calls).toEqual([['reboot']]);
    expect((await run('channel', 'zdf hd')).calls).toEqual([['zap', ZDF.ref]]);
    // A box that does not answer may be in deep standby: the control's zap wakes it (Wake-on-LAN) and tunes.
    expect((await run('channel', 'zdf hd', target(undefined, { reachable: false }))).calls).toEqual([['zap', ZDF.ref]]);
    expect((await run('volume', '55.4')).calls).toEqual([['setVolume', 55.4]]);
    expect((await run('volume', 'up')).calls).toEqual([['volumeUp']]);
    expect((await run('mute', 'TOGGLE')).calls).toEqual([['toggleMute']]);
    expect((await run('key', 'KEY_OK')).calls).toEqual([['key', 352]]);
    expect((await run('refresh', 'anything')).calls).toEqual([['reload'], ['refresh']]);
  });

  it('records, adds and deletes timers, and hands back the list', async () => {
    expect(await run('record', 'now')).toEqual({ timers: [TIMER], calls: [['recordNow']] });
    expect(await run('record', 'STOP')).toEqual({ timers: [], calls: [['stopRecording']] });
    expect((await run('record', '4711')).calls).toEqual([['addTimer', { eventId: 4711 }]]);
    const add = await run('timer/add', JSON.stringify({ channel: 'ZDF HD', begin: '2099-06-01T20:15:00+02:00', end: 4_084_108_200, name: ' Film ' }));
    expect(add.problem).toBeUndefined();
    expect(add.calls).toEqual([['addTimer', {
      channel: ZDF.ref.ref, begin: new Date('2099-06-01T18:15:00Z'), end: new Date(4_084_108_200_000), name: 'Film',
    }]]);
    expect((await run('timer/add', '{"eventId":"123","channel":"Das Erste HD"}')).calls).toEqual([['addTimer', { eventId: 123, channel: ERSTE_HD.ref.ref }]]);
    // A name the select does not know goes to the receiver as it is (it knows references and names too).
    expect((await run('timer/add', '{"eventId":9,"channel":"1:0:19:1:1:1:C00000:0:0:0:"}')).calls).toEqual([['addTimer', { eventId: 9, channel: '1:0:19:1:1:1:C00000:0:0:0:' }]]);
    expect((await run('timer/delete', TIMER.id)).calls).toEqual([['deleteTimer', TIMER.id]]);
  });

  it('shows messages and hands back a question\'s answer', async () => {
    expect(await run('message', 'Dinner is ready')).toEqual({ calls: [['message', { text: 'Dinner is ready', type: 'info', timeoutS: 10 }]] });
    expect(await run('message', '{"text":"Record the match?","type":"yesno","timeout":20}')).toEqual({
      answer: { question: 'Record the match?', answer: 'yes' }, calls: [['message', { text: 'Record the match?', type: 'yesno', timeoutS: 20 }]],
    });
    expect((await run('message', '{"text":"Sure?","type":"yesno"}')).calls).toEqual([['message', { text: 'Sure?', type: 'yesno', timeoutS: 30 }]]);
  });

  it('refuses invalid payloads with a sentence, touching nothing', async () => {
    const cases: Array<[Parameters<typeof runCommand>[1], string | Buffer, RegExp]> = [
      ['power', Buffer.from([0xc3, 0x28]), /not text/],
      ['power', 'ON\u0000', /not text/],
      ['power', 'x'.repeat(2000), /at most/],
      ['power', 'OFF FORCE PLEASE', /is not one of ON, OFF, OFF_FORCE/],
      ['channel', 'Nope', /no channel "Nope" in the configured bouquets/],
      ['volume', '101', /from 0 to 100/],
      ['volume', '0x10', /from 0 to 100/],
      ['mute', 'yes please', /ON, OFF or TOGGLE/],
      ['key', 'LAUNCH', /unknown remote key/],
      ['record', 'LATER', /is not NOW, STOP or an EPG event id/],
      ['record', '-5', /is not NOW, STOP or an EPG event id/],
      ['timer/add', 'tomorrow', /not JSON/],
      ['timer/add', '[1,2]', /not a JSON object/],
      ['timer/add', '{"channel":"ZDF HD","start":1,"end":2}', /unknown key "start"; allowed are channel, begin, end, name, eventId/],
      ['timer/add', '{"channel":"ZDF HD","begin":"tonight","end":"2099-01-01T00:00:00Z"}', /"begin" is not a time/],
      ['timer/add', '{"channel":"ZDF HD","begin":1700000000000,"end":1700003600000}', /"begin" is not a time/],
      ['timer/add', '{"channel":"ZDF HD","begin":"2099-01-01T02:00:00Z","end":"2099-01-01T01:00:00Z"}', /"end" must be after "begin"/],
      ['timer/add', '{"channel":"ZDF HD","begin":"2001-01-01T01:00:00Z","end":"2001-01-01T02:00:00Z"}', /"end" is in the past/],
      ['timer/add', '{"begin":"2099-01-01T01:00:00Z","end":"2099-01-01T02:00:00Z"}', /"channel" must be/],
      ['timer/add', '{"channel":"ZDF HD"}', /needs "begin" and "end"/],
      ['timer/add', '{"eventId":0}', /"eventId" must be/],
      ['timer/add', '{"eventId":5,"name":"x"}', /takes its times and name from the event/],
      ['timer/delete', 'the first one', /is not a timer id/],
      ['message', '{"text":""}', /"text" must be/],
      ['message', '{"text":"Hi","type":"shout"}', /"type" must be one of info, warning, error, yesno/],
      ['message', '{"text":"Hi","timeout":0}', /"timeout" must be whole seconds from 1 to 600/],
      ['message', '{"text":"Hi","colour":"red"}', /unknown key "colour"/],
    ];
    for (const [command, payload, message] of cases) {
      const { problem, calls } = await run(command, payload);
      expect([command, payload, problem]).toEqual([command, payload, expect.stringMatching(new RegExp(`^${command.includes('/') ? command : `${command}/set`} ignored: `))]);
      expect([command, payload, problem]).toEqual([command, payload, expect.stringMatching(message)]);
      expect(calls).toEqual([]);
    }
    const empty = target(new ChannelOptions(list()));
    expect((await run('channel', 'ZDF HD', empty)).problem).toMatch(/not loaded yet/);
  });

  it('reports refusals with their own sentence, box refusals with the box\'s words, and failures, instead of throwing', async () => {
    const t = target();
    t.target.control.powerOn = async () => {
      throw new Error('Living Room (127.0.0.1:80) is not reachable');
    };
    expect(await runCommand(t.target, 'power', Buffer.from('ON'))).toEqual({ problem: 'power/set ignored: the receiver did not do it: Living Room (127.0.0.1:80) is not reachable' });
    t.target.control.powerOff = async () => {
      throw new CommandRefused('Living Room', 1, ['ZDF HD']);
    };
    expect((await runCommand(t.target, 'power', Buffer.from('OFF'))).problem).toMatch(/^power\/set refused: Living Room stays on: 1 viewer is watching ZDF HD through the proxy; send OFF_FORCE/);
    t.target.control.addTimer = async () => {
      throw rejectedError({ receiver: 'Living Room (127.0.0.1:80)', endpoint: '/api/timeradd' }, 'Conflicting Timer(s) detected! / heute');
    };
    expect(await runCommand(t.target, 'record', Buffer.from('42'))).toEqual({ problem: 'record/set refused by the receiver: Conflicting Timer(s) detected! / heute' });
  });
});

describe('Home Assistant discovery', () => {
  const device: DeviceInfo = {
    brand: 'Vu+', model: 'Uno 4K SE', boxtype: 'vuuno4kse', imageDistro: 'openatv', imageVersion: '7.4', webifVersion: 'OWIF 2.2',
    tuners: [], tunerCount: 2, mac: '00:1d:ec:01:02:03', identity: '00:1d:ec:01:02:03',
  };
  const t = receiverTopics('xg2g', 'living_room');
  const build = (picons: boolean, proxyEnabled = true): ReturnType<typeof buildDiscovery> => buildDiscovery({
    receiverName: 'Living Room', slug: 'living_room', receiver: { host: '192.168.1.100', port: 80, https: false }, device, topics: t,
    bridgeAvailability: 'xg2g/bridge/availability', channels: new ChannelOptions(list(ERSTE_HD, ZDF, ch('1:0:1:1:1:1:C00000:0:0:0:', 'None'))),
    proxyEnabled, picons, discoveryPrefix: 'homeassistant', version: '1.2.3',
  });

  it('writes every config as Home Assistant\'s schema has it: required keys, known keys, right types', () => {
    for (const picons of [true, false]) {
      for (const e of build(picons)) expect([e.topic, discoveryProblems(e.component, e.config)]).toEqual([e.topic, []]);
    }
    const entries = build(true);
    // Power, channel, volume, mute, programme + begin + end, recording, timers, box streaming, logo, 3 stream sensors, refresh and the buttons.
    expect(entries).toHaveLength(15 + KEY_BUTTONS.length + CONTROL_BUTTONS.length);
    expect(build(false, false)).toHaveLength(11 + KEY_BUTTONS.length + CONTROL_BUTTONS.length);
    const ids = entries.map((e) => e.config.default_entity_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['switch.xg2g_living_room_power', 'image.xg2g_living_room_picon', 'button.xg2g_living_room_record_now', 'sensor.xg2g_living_room_programme_begin']));
    const byId = new Map(entries.map((e) => [e.objectId, e.config]));
    expect(byId.get('power')).toMatchObject({ availability: [{ topic: 'xg2g/bridge/availability' }], availability_mode: 'all', object_id: 'xg2g_living_room_power' });
    expect(byId.get('volume')).toMatchObject({ availability: [{ topic: 'xg2g/bridge/availability' }, { topic: t.availability }], availability_mode: 'all' });
    expect(byId.get('channel')!.options).toEqual(['Das Erste HD', 'ZDF HD', 'None (channel)']);
    expect(byId.get('programme_end')).toMatchObject({ device_class: 'timestamp', state_topic: t.state });
    expect(byId.get('timers')).toMatchObject({ state_topic: t.timers, json_attributes_topic: t.timers });
    expect(byId.get('picon')).toMatchObject({ url_topic: t.picon });
    expect(byId.get('reboot')).toMatchObject({ command_topic: t.command('power'), payload_press: 'REBOOT', device_class: 'restart' });
    expect(byId.get('key_play_pause')).toMatchObject({ command_topic: t.command('key'), payload_press: 'PLAY_PAUSE' });
    expect(entries[0].config.origin).toEqual({ name: 'homebridge-xg2g', sw_version: '1.2.3', support_url: expect.stringMatching(/^https:\/\//) });
    expect(entries[0].config.device).toMatchObject({ connections: [['mac', '00:1d:ec:01:02:03']], identifiers: ['xg2g_00_1d_ec_01_02_03'] });
  });

  it('has a schema check that catches what Home Assistant would refuse or drop', () => {
    const power = build(false).find((e) => e.objectId === 'power')!.config;
    expect(discoveryProblems('switch', { ...power, command_topic: undefined })).toContain('lacks the required command_topic');
    expect(discoveryProblems('switch', { ...power, state_tpoic: 'x' })).toContain('has the unknown key state_tpoic');
    expect(discoveryProblems('switch', { ...power, availability_mode: 'both' })).toEqual(['availability_mode is not one of all, any, latest']);
    expect(discoveryProblems('switch', { ...power, default_entity_id: 'sensor.x' })).toEqual(['default_entity_id sensor.x is not switch.<object id>']);
    expect(discoveryProblems('switch', { ...power, device: { name: 'x' } })).toEqual(['device has neither identifiers nor connections']);
    expect(discoveryProblems('select', { command_topic: 'a', options: ['A', 'None'] })).toEqual(['options [1] is not a selectable option']);
    expect(discoveryProblems('sensor', { state_topic: 'a', device_class: 'timestamp', state_class: 'measurement' })).toEqual(['a timestamp sensor takes no state_class or unit']);
    expect(discoveryProblems('image', { url_topic: 'a', content_type: 'image/png' })).toEqual(['content_type cannot go with url_topic']);
    expect(discoveryProblems('button', { command_topic: 'a/+/set' })).toEqual(['command_topic is not a publish topic']);
    expect(discoveryProblems('number', { command_topic: 'a', min: 5, max: 5 })).toEqual(['min is not below max']);
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
    expect(JSON.parse(fields.programme_info!)).toMatchObject({ title: 'heute', begin: '1970-01-01T00:00:00+00:00', end: '1970-01-01T00:30:00+00:00', next_title: null });
    expect(statePayload(on, label).channel).toEqual({ name: 'ZDF HD', ref: ZDF.ref.ref, id: '2b66_3f3_1_c00000', listed: true });
    const standby = fieldPayloads(statePayload({ ...on, power: 'standby', channel: null, now: null }, label));
    expect(standby).toMatchObject({ power: 'OFF', channel: '', channel_ref: '', programme: '' });
    const long = fieldPayloads(statePayload({ ...on, now: { ...on.now!, title: 'x'.repeat(400) } }, label));
    expect(long.programme!.length).toBe(255);
    // A box that stops answering shows OFF (the power switch then offers to wake it).
    expect(fieldPayloads(statePayload({ ...on, reachable: false }, label))).toMatchObject({ reachable: 'false', power: 'OFF' });
  });

  it('lists timers in time order with times that carry their offset', () => {
    const timer = (id: string, begin: number): Timer => ({
      id, name: `t${id}`, channel: 'ZDF HD', ref: ZDF.ref.ref, begin: new Date(begin), end: new Date(begin + 60_000), state: 'waiting', eventId: 7,
    });
    expect(timersPayload([timer('b', 120_000), timer('a', 0)])).toEqual([
      { id: 'a', name: 'ta', channel: 'ZDF HD', begin: '1970-01-01T00:00:00+00:00', end: '1970-01-01T00:01:00+00:00', state: 'waiting' },
      { id: 'b', name: 'tb', channel: 'ZDF HD', begin: '1970-01-01T00:02:00+00:00', end: '1970-01-01T00:03:00+00:00', state: 'waiting' },
    ]);
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
