// The HomeKit mappings without Homebridge: name cleaning, remote keys, input identifiers across
// bouquet reorders, the caps, the setup code lookup, persisted input choices and the settings form.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeLeftOut, displayOrder, identifierOf, planChannels, shareBudget } from '../../src/homekit/inputs';
import { escapeForLog, escapingLogger, sentences } from '../../src/logger';
import { InputStore } from '../../src/homekit/input-store';
import { cleanName, isValidName } from '../../src/homekit/names';
import { enigma2KeyFor, HOMEKIT_REMOTE_KEYS } from '../../src/homekit/remote-keys';
import { setupCode } from '../../src/homekit/setup-code';
import { channelIsOn } from '../../src/homekit/channel-accessories';
import { asleep, refusalSentence, showable } from '../../src/homekit/commands';
import { controlAccessoryCount, controlRoles } from '../../src/homekit/control-accessories';
import { anyViewers, chosenSensors } from '../../src/homekit/sensors';
import { loadConfig } from '../../src/config';
import { CommandRefused } from '../../src/receiver/errors';
import { INITIAL_STATE } from '../../src/receiver/monitor';
import { KEY_CODES } from '../../src/receiver/keys';
import { channelNumber, parseServiceRef } from '../../src/receiver/service-ref';
import { HOMEKIT_NAME_MAX_LENGTH, HOMEKIT_TV_MAX_INPUTS } from '../../src/settings';
import { silentLogger } from '../../src/logger';

const ch = (ref: string, name: string) => ({ ref: parseServiceRef(ref), name });
const ARD = ch('1:0:19:283D:3FB:1:C00000:0:0:0:', 'Das Erste HD');
const ZDF = ch('1:0:19:2B66:3F3:1:C00000:0:0:0:', 'ZDF HD');
const ARTE = ch('1:0:19:283E:3FB:1:C00000:0:0:0:', 'arte HD');
const IPTV = ch('4097:0:1:0:0:0:0:0:0:0:http%3a//iptv.example.net/live/euronews.m3u8:Euronews (IPTV)', 'Euronews (IPTV)');

/** n distinct broadcast channels. */
function many(n: number) {
  return Array.from({ length: n }, (_, i) => ch(`1:0:19:${(i + 1).toString(16)}:3FB:1:C00000:0:0:0:`, `Channel ${i + 1}`));
}

describe('cleanName', () => {
  it.each([
    ['Fix & Foxi', 'Fix and Foxi'],
    ['Euronews (IPTV)', 'Euronews IPTV'],
    ['ProSieben MAXX+1', 'ProSieben MAXX plus 1'],
    ['  -- Sky Sport News HD --  ', 'Sky Sport News HD'],
    ['Das Erste HD', 'Das Erste HD'],
    ['ServusTV: Österreich', 'ServusTV Österreich'],
    ['RTL ★ Crime', 'RTL Crime'],
    ['Kabel Eins Doku 📺', 'Kabel Eins Doku'],
    ["Children's TV", "Children's TV"],
    ['TV5, Monde.', 'TV5, Monde'],
    ['a\u0000b\tc', 'a b c'],
  ])('%j → %j', (input, expected) => {
    expect(cleanName(input)).toBe(expected);
    expect(isValidName(cleanName(input))).toBe(true);
  });

  it('falls back when nothing usable is left', () => {
    expect(cleanName('★★★', 'Channel 7')).toBe('Channel 7');
    expect(cleanName('', '')).toBe('Channel');
  });

  it('cuts to 64 characters and still ends on a letter or digit', () => {
    const long = `${'Abc '.repeat(15)}-- more words here`;
    const name = cleanName(long);
    expect(Array.from(name).length).toBeLessThanOrEqual(HOMEKIT_NAME_MAX_LENGTH);
    expect(isValidName(name)).toBe(true);
    expect(isValidName('(bad')).toBe(false);
  });
});

describe('remote keys', () => {
  it('maps the iOS Remote to Enigma2 key codes', () => {
    const k = HOMEKIT_REMOTE_KEYS;
    expect(enigma2KeyFor(k.ARROW_UP, 'MENU')).toBe(KEY_CODES.UP);
    expect(enigma2KeyFor(k.ARROW_DOWN, 'MENU')).toBe(KEY_CODES.DOWN);
    expect(enigma2KeyFor(k.ARROW_LEFT, 'MENU')).toBe(KEY_CODES.LEFT);
    expect(enigma2KeyFor(k.ARROW_RIGHT, 'MENU')).toBe(KEY_CODES.RIGHT);
    expect(enigma2KeyFor(k.SELECT, 'MENU')).toBe(KEY_CODES.OK);
    expect(enigma2KeyFor(k.BACK, 'MENU')).toBe(KEY_CODES.EXIT);
    expect(enigma2KeyFor(k.EXIT, 'MENU')).toBe(KEY_CODES.EXIT);
    expect(enigma2KeyFor(k.PLAY_PAUSE, 'MENU')).toBe(KEY_CODES.PLAY_PAUSE);
    expect(enigma2KeyFor(k.REWIND, 'MENU')).toBe(KEY_CODES.REWIND);
    expect(enigma2KeyFor(k.FAST_FORWARD, 'MENU')).toBe(KEY_CODES.FAST_FORWARD);
    expect(enigma2KeyFor(k.NEXT_TRACK, 'MENU')).toBe(KEY_CODES.NEXT);
    expect(enigma2KeyFor(k.PREVIOUS_TRACK, 'MENU')).toBe(KEY_CODES.PREVIOUS);
  });

  it('sends the configured info key', () => {
    expect(enigma2KeyFor(HOMEKIT_REMOTE_KEYS.INFORMATION, 'MENU')).toBe(KEY_CODES.MENU);
    expect(enigma2KeyFor(HOMEKIT_REMOTE_KEYS.INFORMATION, 'EPG')).toBe(KEY_CODES.EPG);
    expect(enigma2KeyFor(HOMEKIT_REMOTE_KEYS.INFORMATION, '358')).toBe(KEY_CODES.INFO);
  });

  it('ignores keys the box has no use for', () => {
    expect(enigma2KeyFor(12, 'MENU')).toBeUndefined();
    expect(enigma2KeyFor(99, 'MENU')).toBeUndefined();
  });
});

describe('inputs', () => {
  it('keeps every identifier when the bouquet is reordered or a channel added', () => {
    const before = planChannels([ARD, ZDF, ARTE, IPTV], 90).kept;
    const after = planChannels([ch('1:0:19:2B8E:3F2:1:C00000:0:0:0:', '3sat HD'), IPTV, ARTE, ARD, ZDF], 90).kept;
    const ids = (plan: typeof before) => new Map(plan.map((p) => [p.ref.ref, p.identifier]));
    for (const [ref, id] of ids(before)) expect(ids(after).get(ref)).toBe(id);
    expect(after.map((p) => p.name)).toEqual(['3sat HD', 'Euronews IPTV', 'arte HD', 'Das Erste HD', 'ZDF HD']);
    for (const p of after) expect(p.identifier).toBeGreaterThan(0);
  });

  it('uses the same identifier for a service listed with another service type', () => {
    const sd = ch('1:0:1:283D:3FB:1:C00000:0:0:0:', 'Das Erste (other list)');
    expect(planChannels([sd], 90).kept[0].identifier).toBe(planChannels([ARD], 90).kept[0].identifier);
    expect(identifierOf('1:0:1:283D:3FB:1:C00000:0:0:0:')).toBe(channelNumber(ARD.ref));
    expect(identifierOf(null)).toBe(0);
    expect(identifierOf('garbage')).toBe(0);
  });

  it('lists a channel found in two bouquets once', () => {
    expect(planChannels([ARD, ZDF, ARD], 90).kept.map((p) => p.name)).toEqual(['Das Erste HD', 'ZDF HD']);
  });

  it('caps at 90 inputs and names what was left out', () => {
    const plan = planChannels(many(100), HOMEKIT_TV_MAX_INPUTS);
    expect(plan.kept).toHaveLength(90);
    expect(plan.left.map((p) => p.name)).toEqual(Array.from({ length: 10 }, (_, i) => `Channel ${91 + i}`));
    expect(describeLeftOut(plan.left, 3)).toBe('"Channel 91", "Channel 92", "Channel 93" and 7 more');
    expect(describeLeftOut(plan.left.slice(0, 2))).toBe('"Channel 91", "Channel 92"');
  });

  it('shares the bridge budget in config order', () => {
    expect(shareBudget([100, 100], 140)).toEqual([100, 40]);
    expect(shareBudget([0, 100], 140)).toEqual([0, 100]);
    expect(shareBudget([200, 5], 140)).toEqual([140, 0]);
  });
});

describe('channel switch state', () => {
  const on = { ...INITIAL_STATE, reachable: true, power: 'on' as const, channel: { ref: ZDF.ref.ref, name: 'ZDF HD' } };
  it('is on only when the box is on and tuned to the channel', () => {
    expect(channelIsOn(on, ZDF.ref)).toBe(true);
    expect(channelIsOn(on, ARD.ref)).toBe(false);
    expect(channelIsOn({ ...on, power: 'standby' }, ZDF.ref)).toBe(false);
    expect(channelIsOn({ ...on, channel: null }, ZDF.ref)).toBe(false);
  });
});

describe('home control', () => {
  const on = { ...INITIAL_STATE, reachable: true, power: 'on' as const };
  it('shows a box that vanished in standby as asleep (off), one that vanished while on as Not Responding', () => {
    expect(showable(on)).toBe(true);
    expect(asleep({ ...on, reachable: false, power: 'standby' })).toBe(true);
    expect(showable({ ...on, reachable: false, power: 'standby' })).toBe(true);
    expect(showable({ ...on, reachable: false })).toBe(false);
    expect(showable({ ...on, reachable: false, waking: true })).toBe(true);
    expect(showable(INITIAL_STATE)).toBe(false);
  });

  it('makes one accessory per switch and one for all sensors, only for what is turned on', () => {
    const receiver = (extra: Record<string, unknown>) => loadConfig({
      env: {}, block: { platform: 'XG2G', receivers: [{ host: '192.168.1.2', ...extra }] },
    }).receivers[0];
    expect(controlRoles(receiver({}))).toEqual([]);
    const all = receiver({ recordSwitch: true, deepStandbySwitch: true, rebootSwitch: true, sensors: { streaming: true, power: true } });
    expect(controlRoles(all)).toEqual(['record', 'sensors', 'deepStandby', 'reboot']);
    expect(chosenSensors(all.sensors)).toEqual(['streaming', 'power']);
    expect(controlAccessoryCount([all, receiver({ sensors: { recording: true } })])).toBe(5);
  });

  it('counts proxy viewers over all sessions of a receiver', () => {
    expect(anyViewers(undefined)).toBe(false);
    expect(anyViewers({ list: () => [] })).toBe(false);
    const sessions = (...counts: number[]) => ({ list: () => counts.map((clientCount) => ({ clientCount })) as never[] });
    expect(anyViewers(sessions(0, 0))).toBe(false);
    expect(anyViewers(sessions(0, 2))).toBe(true);
  });

  it('words a refusal for Home app users (no MQTT command in it)', () => {
    const line = refusalSentence(new CommandRefused('Living Room', 2, ['ZDF HD', 'arte HD']));
    expect(line).toMatch(/^Living Room stays on: 2 viewers are watching ZDF HD, arte HD through the stream proxy\. Stop those streams first/);
    expect(line).toContain('standbyGuard');
    expect(line).not.toContain('OFF_FORCE');
  });
});

describe('storage and configuration glue', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'xg2g-homekit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('persists renamed and hidden inputs by service reference', () => {
    const store = new InputStore(dir, 'aa:bb:cc:dd:ee:ff', silentLogger);
    store.setInputName(ZDF.ref.ref, 'Zweites (HD)');
    store.setHidden(ARD.ref.ref, true);
    store.setTvName('Wohnzimmer');
    const again = new InputStore(dir, 'aa:bb:cc:dd:ee:ff', silentLogger);
    expect(again.input(ZDF.ref.ref)).toEqual({ name: 'Zweites HD' });
    expect(again.input(ARD.ref.ref)).toEqual({ hidden: true });
    expect(again.input(ARTE.ref.ref)).toEqual({});
    expect(again.tvName).toBe('Wohnzimmer');
    expect(new InputStore(dir, 'other-box', silentLogger).input(ZDF.ref.ref)).toEqual({});
  });

  it('starts empty from a damaged file, with a warning', () => {
    const warnings: string[] = [];
    const store = new InputStore(dir, 'box', { ...silentLogger, warn: (m) => void warnings.push(m) });
    store.setHidden(ARD.ref.ref, true);
    const file = join(dir, 'homebridge-xg2g', 'tv-box.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).inputs[ARD.ref.ref]).toEqual({ hidden: true });
    writeFileSync(file, '{not json');
    expect(new InputStore(dir, 'box', { ...silentLogger, warn: (m) => void warnings.push(m) }).input(ARD.ref.ref)).toEqual({});
    expect(warnings.join('\n')).toMatch(/not valid JSON/);
  });

  it('finds the setup code of the bridge the TV is published on', () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ bridge: { pin: '123-45-679' } }));
    expect(setupCode({ platform: 'XG2G' }, config)).toBe('123-45-679');
    expect(setupCode({ platform: 'XG2G', _bridge: { pin: '987-65-432' } }, config)).toBe('987-65-432');
    expect(setupCode({}, join(dir, 'missing.json'))).toBeUndefined();
  });

});

describe('displayOrder', () => {
  it('lists identifiers as tag-1 items of four little-endian bytes, separated by empty tag-0 items', () => {
    const tlv = Buffer.from(displayOrder([1, 0xDEADBEEF, 7]), 'base64');
    expect([...tlv]).toEqual([1, 4, 1, 0, 0, 0, 0, 0, 1, 4, 0xEF, 0xBE, 0xAD, 0xDE, 0, 0, 1, 4, 7, 0, 0, 0]);
    expect(displayOrder([])).toBe('');
  });
});

describe('sentences', () => {
  it('ends every part with exactly one full stop, whether or not it had one', () => {
    expect(sentences('Box refused the login.', 'Will keep trying')).toBe('Box refused the login. Will keep trying.');
    expect(sentences('Box is down', 'Retrying.')).toBe('Box is down. Retrying.');
    expect(sentences('Really?', '', ' spaced. ')).toBe('Really? spaced.');
  });
});

describe('escapeForLog', () => {
  it('writes control, line-separator and bidi characters as escapes and leaves the rest', () => {
    expect(escapeForLog('a\nb\u2028c\u0085d\u202Ee\u2066f\u001b[31m')).toBe('a\\u{000a}b\\u{2028}c\\u{0085}d\\u{202e}e\\u{2066}f\\u{001b}[31m');
    expect(escapeForLog('Das Erste HD · ZDF — ü')).toBe('Das Erste HD · ZDF — ü');
    const lines: string[] = [];
    escapingLogger({ debug: () => undefined, info: (m) => lines.push(m), warn: () => undefined, error: () => undefined }).info('x\u202Ey');
    expect(lines).toEqual(['x\\u{202e}y']);
  });
});
