// The plugin's settings screen in the real Homebridge UI: Homebridge 1.11 and homebridge-config-ui-x
// with the packed plugin installed from its tarball, driven in Chromium. One receiver is edited on
// one tab, its bouquets are loaded from the simulator and picked, and Save writes exactly the block
// expected; an unchanged config comes back unchanged; the form reports no validation errors.
// Screenshots are kept in test-artifacts/ui/ (git-ignored).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { loadConfigWithWarnings } from '../../src/config';
import { startSimulator, type Simulator } from '../../src/simulator';
import { freePort, HomebridgeUi } from './homebridge-ui';
import { installPlugin, packPlugin, ROOT } from './packed-plugin';
import { CHROMIUM, launchBrowser, SettingsScreen, until } from './settings-page';

const SHOTS = join(ROOT, 'test-artifacts', 'ui');
const PASSWORD = 'box-pw-2231';

let dir: string;
let sim: Simulator;
let simPort: number;
let hb: HomebridgeUi;
let browser: BrowserContext;
let ui: SettingsScreen;

beforeAll(async () => {
  rmSync(SHOTS, { recursive: true, force: true });
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (Debian: apt-get install chromium; elsewhere set CHROMIUM_PATH)`);
  dir = mkdtempSync(join(tmpdir(), 'xg2g-ui-'));
  const pluginPath = installPlugin(packPlugin(dir), dir);
  sim = await startSimulator({ auth: { username: 'root', password: PASSWORD } });
  simPort = Number(new URL(sim.webUrl).port);
  hb = new HomebridgeUi(pluginPath, dir, await freePort());
  await hb.ready();
  browser = await launchBrowser(join(dir, 'chromium-profile'));
  ui = new SettingsScreen(browser.pages()[0] ?? (await browser.newPage()), hb.url, SHOTS);
  await ui.login();
}, 150_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await hb?.stop();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** The XG2G block of config.json, as the UI saved it. */
function savedBlock(): Record<string, unknown> | undefined {
  return hb.platforms().find((p) => p.platform === 'XG2G');
}

it('sets up a fresh install: one receiver on one tab, bouquets picked from the receiver, one receiver saved', async () => {
  await ui.open();
  await ui.expand('Advanced', 'Stream proxy', 'MQTT and Home Assistant');

  // One receiver, all of its fields on its one tab.
  expect(await ui.tabs()).toEqual(['New receiver', expect.stringMatching(/^Add /)]);
  expect(await ui.modal.locator('.schema-form-tabarray .tab-pane').count()).toBe(1);
  for (const name of ['name', 'host', 'username', 'password', 'port', 'https', 'streamTarget', 'infoKey', 'refreshInterval']) {
    await expect(ui.field(name).count()).resolves.toBe(1);
  }
  await expect(ui.receiverTab().getByPlaceholder('Favourites (TV)').count()).resolves.toBe(1);

  // Number boxes, not sliders; dropdowns show their defaults.
  expect(await ui.modal.locator('input[type="range"]').count()).toBe(0);
  for (const name of ['port', 'maxSessions', 'maxClients']) {
    expect(await ui.modal.locator(`input[name="${name}"]`).first().getAttribute('type')).toBe('number');
  }
  expect(await ui.modal.locator('input[name="port"][type="number"]').count()).toBe(2); // receiver and embedded broker
  expect(await ui.shownChoice(ui.field('streamTarget'))).toBe('Stream server, port 8001 (default)');
  expect(await ui.shownChoice(ui.field('infoKey'))).toBe('MENU (default)');
  expect(await ui.shownChoice(ui.modal.locator('select[name="mode"]'))).toMatch(/^Auto.*\(default\)$/);
  expect(await ui.shownChoice(ui.modal.locator('select[name="channels"]'))).toBe('2 (stereo, default)');
  await ui.shot('01-fresh-install');

  // The picker works before anything is typed, and says what it needs.
  expect(await ui.panel.locator('#xg2g-load').isEnabled()).toBe(true);
  expect(await ui.loadBouquets()).toEqual({ look: 'warning', text: 'Enter the receiver\'s IP address or host name first.' });

  await ui.field('name').fill('Living Room');
  await ui.field('host').fill('127.0.0.1');
  await ui.field('port').fill(String(simPort));
  await ui.field('username').fill('root');
  await ui.field('password').fill('not-the-password');
  const refused = await ui.loadBouquets();
  expect(refused).toEqual({ look: 'error', text: 'The receiver refused the username or password: enter the OpenWebIF login set on the box.' });
  // The UI's own error style (a red border), not the grey of a plain alert.
  expect(await ui.borderColour(ui.message())).toBe('rgb(211, 47, 47)');
  await ui.shot('02-wrong-login');

  await ui.field('password').fill(PASSWORD);
  const connected = await ui.loadBouquets();
  expect(connected.look).toBe('success');
  expect(connected.text).toMatch(/^Connected to .+: 2 TV bouquets and 1 radio bouquet\./);
  // The empty form was invalid (no address), and said so on the console: the check below can see errors.
  expect(ui.validationErrors()).toContain("/receivers/0 must have required property 'host'");
  ui.consoleErrors.length = 0; // from here on the config is complete and valid
  await ui.panel.getByLabel('Favourites (TV)').uncheck();
  await ui.panel.getByLabel('Sport (TV)').check();
  await ui.panel.getByLabel('Favourites (Radio)').check();
  await ui.shot('03-bouquets-loaded');
  await ui.panel.locator('#xg2g-apply').click();
  await ui.panel.locator('#xg2g-message', { hasText: 'Bouquets set to Sport (TV), Favourites (Radio). Press Save to keep them.' }).waitFor();
  // The form is redrawn with the pick, on the same receiver tab.
  const bouquetBoxes = ui.receiverTab().getByPlaceholder('Favourites (TV)');
  await until(() => bouquetBoxes.first().inputValue(), (v) => v === 'Sport (TV)', 'the form to show the picked bouquets');
  expect(await bouquetBoxes.nth(1).inputValue()).toBe('Favourites (Radio)');
  expect(await ui.tabs()).toEqual(['Living Room', expect.stringMatching(/^Add /)]);
  await ui.formIsValid().waitFor();
  await ui.shot('04-bouquets-applied');

  await ui.save('05-saved');
  expect(savedBlock()).toEqual({
    platform: 'XG2G',
    name: 'xg2g',
    receivers: [{
      name: 'Living Room', host: '127.0.0.1', port: simPort, https: false, allowSelfSigned: false, username: 'root', password: PASSWORD,
      bouquets: ['Sport (TV)', 'Favourites (Radio)'], streamTarget: '8001', tvAccessory: true, channelAccessories: true, infoKey: 'MENU',
      wakeOnLan: true, offMode: 'standby', standbyGuard: true, recordSwitch: false, deepStandbySwitch: false, rebootSwitch: false,
      sensors: { recording: false, streaming: false, power: false, type: 'contact' }, cameraAccessory: false,
    }],
    proxy: { enabled: true, audio: { mode: 'auto', engine: 'splice', channels: 2 }, hls: { appleRedirect: true, transcodeVideo: false, videoEncoder: 'libx264' } },
    mqtt: { enabled: false, discovery: true, embeddedBroker: { enabled: false } },
    epg: { enabled: true },
    hdhr: { enabled: false, discovery: true },
    camera: { videoEncoder: 'libx264' },
  });
  expect(loadConfigWithWarnings({ block: savedBlock(), env: {} }).warnings).toEqual([]);
  expect(ui.validationErrors()).toEqual([]);
}, 90_000);

// A block as the form writes it, and one written by hand with every field away from its default
// (a streaming URL and a key code the dropdowns do not list): opened and saved, both come back as
// they were. Empty values are left out: the UI drops "" and null on save (they mean the default).
const FORM_WRITTEN = {
  platform: 'XG2G', name: 'xg2g',
  receivers: [{
    name: 'Living Room', host: '127.0.0.1', port: 8080, https: false, allowSelfSigned: false, username: 'root', password: 'pw',
    bouquets: ['Favourites (TV)'], streamTarget: '8001', tvAccessory: true, channelAccessories: true, infoKey: 'MENU',
    wakeOnLan: true, offMode: 'standby', standbyGuard: true, recordSwitch: false, deepStandbySwitch: false, rebootSwitch: false,
    sensors: { recording: false, streaming: false, power: false, type: 'contact' }, cameraAccessory: false,
  }],
  proxy: { enabled: true, audio: { mode: 'auto', engine: 'splice', channels: 2 }, hls: { appleRedirect: true, transcodeVideo: false, videoEncoder: 'libx264' } },
  mqtt: { enabled: false, discovery: true, embeddedBroker: { enabled: false } },
  epg: { enabled: true },
  hdhr: { enabled: false, discovery: true },
  camera: { videoEncoder: 'libx264' },
};
const HAND_WRITTEN = {
  platform: 'XG2G', name: 'Satellite',
  receivers: [{
    name: 'Bedroom', host: 'vuplus.local', port: 8443, https: true, allowSelfSigned: true, username: 'admin', password: 's3cret pass',
    bouquets: ['Sport (TV)', 'Favourites (TV)'], streamTarget: 'https://vuplus.local:17999', tvAccessory: false, channelAccessories: false,
    infoKey: '358', refreshInterval: 2.5, mac: '00:1d:ec:0e:12:34', wakeOnLan: false, wakeBroadcast: ['192.168.1.255', '10.0.0.255:7'],
    offMode: 'deepStandby', standbyGuard: false, recordSwitch: true, deepStandbySwitch: true, rebootSwitch: true,
    sensors: { recording: true, streaming: true, power: true, type: 'occupancy' }, cameraAccessory: true,
  }],
  proxy: {
    enabled: true, listen: '127.0.0.1:18500', publicUrl: 'http://192.168.1.10:18500', maxSessions: 4, maxClients: 3, token: 'tok3n',
    audio: { mode: 'always', engine: 'ffmpeg', codec: 'aac', bitrate: '128k', channels: 6 }, ffmpegPath: '/usr/bin/ffmpeg',
    hls: { appleRedirect: false, transcodeVideo: true, videoEncoder: 'h264_vaapi' },
  },
  api: { listen: '127.0.0.1:18501' },
  mqtt: {
    enabled: true, url: 'mqtt://192.168.1.5:1884', username: 'ha', password: 'mqtt-pw', clientId: 'xg2g-bedroom', prefix: 'tv/xg2g',
    discovery: false, discoveryPrefix: 'ha', embeddedBroker: { enabled: true, port: 1884 },
  },
  epg: { enabled: false, days: 3, refreshHours: 12 },
  hdhr: { enabled: true, friendlyName: 'Bedroom tuner', discovery: false },
  camera: { maxStreams: 1, videoEncoder: 'h264_vaapi' },
};

it.each([
  ['written by the form', FORM_WRITTEN, ''],
  ['written by hand', HAND_WRITTEN, 'Bedroom, streaming backend: https://vuplus.local:17999; Bedroom, info button: 358.'],
])('saves an unchanged config %s unchanged, with no validation errors', async (label, block, unlisted) => {
  expect(loadConfigWithWarnings({ block, env: {} }).warnings).toEqual([]);
  hb.setPlatforms([block]);
  ui.consoleErrors.length = 0;
  await ui.open();
  await until(() => ui.field('host').inputValue(), (v) => v === block.receivers[0].host, 'the form to show the config');
  expect(await ui.tabs()).toEqual([block.receivers[0].name, expect.stringMatching(/^Add /)]);
  await ui.expand('Advanced', 'Power, recording and sensors', 'Stream proxy', 'Players, guide and media servers', 'MQTT and Home Assistant');
  await ui.formIsValid().waitFor();
  // Values the dropdowns do not list are kept, and the panel says what they are.
  const note = ui.panel.locator('#xg2g-unlisted');
  if (unlisted) {
    await note.waitFor();
    expect(await note.innerText()).toContain(`pick another: ${unlisted}`);
  } else {
    expect(await note.isHidden()).toBe(true);
  }
  await ui.shot(`06-unchanged-${label.split(' ').pop()}`);
  await ui.save();
  expect(savedBlock()).toEqual(block);
  expect(ui.validationErrors()).toEqual([]);
}, 60_000);
