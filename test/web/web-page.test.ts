// The page at `/` in Debian's Chromium (headless, nothing downloaded) against the simulator, opened
// with an access token as `/?token=…`: the channels by bouquet with logos, numbers and names (a
// hostile name shown as text), Play on an H.264 channel plays it through hls.js until the video's
// clock runs, the active streams show it with one viewer and a bitrate, a second channel past the
// session limit shows the proxy's own 503 sentence next to the player, and a phone-sized window
// fits without scrolling sideways. No request leaves the proxy and nothing breaks the page's CSP.
// Screenshots are kept in test-artifacts/web/ (git-ignored).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SAMPLES } from '../helpers/samples';
import { channelsLoaded, DAS_ERSTE_HD, fetchBytes, Stack, startStack, until } from '../helpers/stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];
const SHOTS = join(__dirname, '..', '..', 'test-artifacts', 'web');
const TOKEN = 'page-token-7';
const Q = `?token=${TOKEN}`;
const HOSTILE = 'Evil",\n#EXTINF:-1,x <script>alert(1)</script> <img src=x> & more';

let stack: Stack;
let browser: Browser;
let page: Page;
/** Console errors (a CSP violation is one), failed requests and requests to anywhere but the proxy, per page. */
const problems: string[] = [];
const fragments: string[] = [];

function watch(target: Page, origin: string): void {
  target.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[34]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  target.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  target.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  target.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:')) problems.push(`outside request: ${url}`);
  });
  target.on('response', (r) => {
    if (/\/hls\/.+\.ts(\?|$)/.test(r.url()) && r.status() === 200) fragments.push(r.url());
    // A channel the box has no picon for is a 404 the page expects (its logo is hidden).
    if (r.status() >= 400 && !(r.status() === 404 && r.url().includes('/picon/'))) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
}

/**
 * Polls an expression in the page until it is truthy. Not page.waitForFunction: that evaluates its
 * predicate with eval, which the page's CSP forbids (as it should).
 */
async function pageUntil(target: Page, expression: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await target.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shot(target: Page, name: string): Promise<void> {
  await target.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is needed at ${CHROMIUM} (Debian: apt-get install chromium; elsewhere set CHROMIUM_PATH)`);
  stack = await startStack({
    // One session at a time, so a second channel is refused while the first plays.
    proxy: { token: TOKEN, maxSessions: 1 },
    receiver: { bouquets: ['Favourites (TV)', 'Captures (TV)', 'Favourites (Radio)'] },
    sim: { captures: [{ file: join(SAMPLES, 'dvbs2-h264-ac3-cnews-tsduck009.ts'), name: HOSTILE }] },
    // A stopped player's HLS session ends soon, so the radio channel gets the one session.
    app: { hlsIdleMs: 3_000, guideTiming: { firstFetchMs: 0 } },
  });
  await channelsLoaded(stack);
  // The page shows what is on now from the guide: wait for its first fetch.
  await until(async () => (await fetchBytes(`${stack.url}/xmltv.xml${Q}`, 1)).status === 200, 20_000, 'the guide');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
  watch(page, new URL(stack.url).origin);
}, 60_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
}, 30_000);

it('lists the channels by bouquet with logos, numbers and names as text', async () => {
  await page.goto(`${stack.url}/${Q}`);
  await page.locator('li.channel').first().waitFor();
  expect(await page.locator('.bouquet h3').allTextContents()).toEqual(['Favourites (TV)', 'Captures (TV)', 'Favourites (Radio)']);
  const count = await page.locator('li.channel').count();
  expect(count).toBe(stack.app.receivers[0].channels().size);
  await expect(page.locator('#channels-message').textContent()).resolves.toBe(`${count} channels.`);

  const first = page.locator('li.channel').first();
  expect(await first.locator('.number').textContent()).toBe('1');
  expect(await first.locator('.name').textContent()).toBe('Das Erste HD');
  // What is on now, from the guide (the simulator's ARD programmes).
  expect(await first.locator('.now').textContent()).toMatch(/^\d\d:\d\d–\d\d:\d\d · (Tagesschau|Tatort: Borowski & die Angst|Tagesthemen)$/);
  expect(await first.locator('img.logo').getAttribute('src')).toBe(`picon/${encodeURIComponent(DAS_ERSTE_HD)}.png${Q}`);
  expect(await first.getByRole('link', { name: 'Open Das Erste HD in VLC' }).getAttribute('href')).toBe(`vlc://${stack.url}/${DAS_ERSTE_HD}${Q}`);
  expect(await first.getByRole('link', { name: 'Stream URL of Das Erste HD' }).getAttribute('href')).toBe(`${stack.url}/${DAS_ERSTE_HD}${Q}`);

  // Logos: every image either shows a picon or, where the box has none, keeps its place empty.
  await pageUntil(page, "[...document.querySelectorAll('img.logo')].every((i) => i.complete)", 15_000);
  type Image = { naturalWidth: number; classList: { contains(name: string): boolean } };
  const logos = await page.locator('img.logo').evaluateAll((images: unknown[]) =>
    (images as Image[]).map((i) => ({ loaded: i.naturalWidth > 0, hidden: i.classList.contains('missing') })));
  expect(logos.every((l) => l.loaded !== l.hidden)).toBe(true);
  expect(logos[0]).toEqual({ loaded: true, hidden: false });
  expect(logos.filter((l) => l.loaded).length).toBeGreaterThan(count / 2);

  // Copy URL puts the TS URL (with the token) on the clipboard, and says so.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(stack.url).origin });
  await first.getByRole('button', { name: 'Copy the stream URL of Das Erste HD' }).click();
  await page.locator('#notice', { hasText: 'Copied the stream URL of Das Erste HD.' }).waitFor();
  expect(await page.evaluate('navigator.clipboard.readText()')).toBe(`${stack.url}/${DAS_ERSTE_HD}${Q}`);

  // Radio channels are listened to.
  await expect(page.getByRole('button', { name: /^Listen to / }).count()).resolves.toBeGreaterThan(0);

  // The hostile name is text: no script ran, no element came from it.
  const evil = page.locator('li.channel', { hasText: 'Evil' });
  expect(await evil.locator('.name').textContent()).toBe(HOSTILE);
  expect(await page.locator('script').count()).toBe(2);
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  await shot(page, '01-channels');
});

it('plays an H.264 channel with hls.js and shows it among the active streams', async () => {
  // Debian's Chromium has the proprietary codecs: H.264 and AAC play through Media Source Extensions.
  expect(await page.evaluate(`MediaSource.isTypeSupported('video/mp4; codecs="avc1.42c01f,mp4a.40.2"')`)).toBe(true);
  await page.getByRole('button', { name: 'Play Das Erste HD' }).click();
  await expect(page.locator('#player-title').textContent()).resolves.toBe('Watching Das Erste HD');
  await pageUntil(page, "document.getElementById('video').currentTime > 1", 45_000);
  expect(fragments.length).toBeGreaterThan(0);
  expect(fragments.every((url) => url.includes(`token=${TOKEN}`))).toBe(true);
  await expect(page.locator('#player-message').textContent()).resolves.toBe('Playing Das Erste HD.');
  expect(await page.locator('li.channel.playing .name').textContent()).toBe('Das Erste HD');

  // The status poll shows the stream: the HLS segmenter is its one viewer, at a live bitrate.
  const stream = page.locator('#streams li.stream', { hasText: 'Das Erste HD' });
  await stream.waitFor({ timeout: 10_000 });
  await expect(stream.locator('.viewers').textContent()).resolves.toBe('1 viewer');
  await pageUntil(page, "/^\\d+(\\.\\d)? (Mbit|kbit)\\/s$/.test(document.querySelector('#streams .bitrate')?.textContent ?? '')", 10_000);
  await expect(stream.locator('.badge').textContent()).resolves.toBe('HLS');
  expect(await page.locator('#streams li').count()).toBe(1);
  await expect(page.locator('#streams-announce').textContent()).resolves.toBe('1 active stream');
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(SHOTS, '02-playing.png') });
});

it("shows the proxy's sentence next to the player when a channel is refused", async () => {
  // A phone-sized window; the session limit (1) is taken by the channel playing in the first page.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-GB' });
  watch(phone, new URL(stack.url).origin);
  try {
    await phone.goto(`${stack.url}/${Q}`);
    await phone.locator('li.channel').first().waitFor();
    expect(await phone.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    // Without the Clipboard API (a LAN address over plain http), copying still works.
    await phone.evaluate("Object.defineProperty(navigator, 'clipboard', { value: undefined })");
    await phone.getByRole('button', { name: 'Copy the stream URL of ZDF HD' }).click();
    await phone.locator('#notice', { hasText: 'Copied the stream URL of ZDF HD.' }).waitFor();
    expect(await phone.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe('Copy the stream URL of ZDF HD');
    await phone.getByRole('button', { name: 'Play ZDF HD' }).click();
    const message = phone.locator('#player-message.error');
    await message.waitFor({ timeout: 20_000 });
    // No spinner left on an empty player, and the refused channel is not marked as playing.
    expect(await phone.locator('#video').isHidden()).toBe(true);
    expect(await phone.locator('li.channel.playing').count()).toBe(0);
    const sentence = (await message.textContent()) ?? '';
    expect(sentence).toMatch(/\(HTTP 503\)$/);
    // The server's own words, not a generic one.
    const direct = await fetch(`${stack.url}/hls/${encodeURIComponent('1:0:19:2B66:3F3:1:C00000:0:0:0:')}/index.m3u8${Q}`);
    expect(direct.status).toBe(503);
    expect(sentence).toBe(`${(await direct.text()).trim()} (HTTP 503)`);
    await phone.screenshot({ path: join(SHOTS, '03-phone-refused.png') });
    await shot(phone, '04-phone-full');
  } finally {
    // The refusal is not counted as a page problem; everything else is.
    problems.splice(0, problems.length, ...problems.filter((p) => !/503/.test(p)));
    await phone.close();
  }
});

it('stops, plays a radio channel audio-only, keeps the keyboard in place, and broke no rule of the page', async () => {
  await page.getByRole('button', { name: 'Stop' }).click();
  expect(await page.locator('#player').isHidden()).toBe(true);
  expect(await page.evaluate("document.activeElement?.getAttribute('aria-label')")).toBe('Play Das Erste HD');
  // The stream ends once its HLS session idles out; the page's poll shows it gone.
  await page.locator('#streams-message', { hasText: 'None.' }).waitFor({ timeout: 20_000 });
  await expect(page.locator('#streams-announce').textContent()).resolves.toBe('0 active streams');

  await page.getByRole('button', { name: 'Listen to Bayern 3' }).click();
  await expect(page.locator('#player-title').textContent()).resolves.toBe('Listening to Bayern 3');
  expect(await page.locator('#player').getAttribute('class')).toContain('radio');
  // In an <audio> element, whose controls stay in view; the video element stays hidden.
  expect(await page.locator('#video').isHidden()).toBe(true);
  await pageUntil(page, "document.getElementById('audio').currentTime > 1", 45_000);
  await page.locator('#player').screenshot({ path: join(SHOTS, '05-radio.png') });
  await page.getByRole('button', { name: 'Stop' }).click();
  // Keyboard: from the top, Tab reaches the skip link first, then the links, with a visible outline.
  await page.reload();
  await page.locator('li.channel').first().waitFor();
  await page.keyboard.press('Tab');
  expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to the channels');
  await page.keyboard.press('Tab');
  expect(await page.evaluate('document.activeElement?.textContent')).toBe('Playlist (M3U)');
  expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
  expect(await page.locator('[onclick], [onload], [onerror]').count()).toBe(0);
  expect(problems).toEqual([]);
});
