// Test helper: the Homebridge UI in Chromium, driven as a user would (log in, Plugins, the plugin's
// settings, Save), plus what the tests read from it: the form's tabs and fields, the bouquet
// panel in the plugin's iframe, the form's own validation verdict and its console errors.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { ADMIN } from './homebridge-ui';
import { ROOT } from './packed-plugin';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOMEBRIDGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'homebridge', 'package.json'), 'utf8')) as { version: string }).version;
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** Reads until `ok` holds (the UI updates in steps: events, redraws); throws with the last reading. */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Chromium with a fresh profile in `profileDir`; headless, nothing downloaded. */
export async function launchBrowser(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    locale: 'en-GB',
    viewport: { width: 1280, height: 1000 },
  });
}

export class SettingsScreen {
  /** console.error lines of the page; the form reports each validation error as one (`/path must …`). */
  readonly consoleErrors: string[] = [];
  readonly modal: Locator;
  /** The plugin's own page (homebridge-ui/public/index.html) inside the settings dialog. */
  readonly panel: FrameLocator;

  constructor(readonly page: Page, readonly baseUrl: string, readonly shotsDir: string) {
    mkdirSync(shotsDir, { recursive: true });
    page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(m.text());
    });
    this.modal = page.locator('ngb-modal-window', { has: page.locator('iframe') });
    this.panel = this.modal.frameLocator('iframe');
  }

  validationErrors(): string[] {
    return this.consoleErrors.filter((line) => /\bmust\b/.test(line));
  }

  async login(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/login`);
    await this.page.getByPlaceholder('Username').fill(ADMIN.username);
    await this.page.getByPlaceholder('Password').fill(ADMIN.password);
    await this.page.getByRole('button', { name: /continue/i }).click();
    await this.page.waitForURL(`${this.baseUrl}/`);
    await this.dashboardReady();
  }

  /**
   * The dashboard shows the Homebridge version once it has learnt it; until then the plugin cards
   * stay a spinner, so after each page load the plugins are opened from here, not by URL.
   */
  async dashboardReady(): Promise<void> {
    await this.page.getByText(`v${HOMEBRIDGE_VERSION}`, { exact: false }).first().waitFor();
  }

  /** Dashboard → Plugins → the plugin's card → Plugin Config; resolves when form and panel are both shown. */
  async open(): Promise<void> {
    // A dialog left open (by a failed test) blocks the menu: start again from the dashboard.
    if (await this.page.locator('ngb-modal-window').count()) {
      await this.page.goto(`${this.baseUrl}/`);
      await this.dashboardReady();
    }
    await this.page.getByRole('menuitem', { name: 'Plugins' }).click();
    // The sidebar opens over the page while the pointer rests on it: move the pointer away.
    await this.page.mouse.move(900, 700);
    const card = this.page.locator('app-plugin-card', { hasText: 'homebridge-xg2g' });
    await card.getByLabel('Plugin Actions Dropdown').click();
    await card.getByRole('button', { name: 'Plugin Config' }).click();
    await this.panel.locator('#xg2g-load').waitFor();
    await this.field('host').waitFor();
  }

  /** The receiver tabs' labels, "Add …" included. */
  tabs(): Promise<string[]> {
    return this.modal.locator('.schema-form-tabarray .nav-tabs .nav-link').allInnerTexts();
  }

  /** The open receiver tab's content. */
  receiverTab(): Locator {
    return this.modal.locator('.schema-form-tabarray .tab-pane.active');
  }

  /** A receiver field (the MQTT section has a username and password too). */
  field(name: string): Locator {
    return this.receiverTab().locator(`[name="${name}"]`);
  }

  /** Opens the collapsed fieldsets (Advanced, Stream proxy, MQTT) so every widget is drawn. */
  async expand(...titles: string[]): Promise<void> {
    for (const title of titles) await this.modal.locator('legend', { hasText: title }).click();
  }

  /** The text a select shows (its chosen option), or '' when it shows nothing. */
  // (The page's objects are typed by hand here: this project compiles without the DOM's types.)
  shownChoice(select: Locator): Promise<string> {
    return select.evaluate((element: unknown) => {
      const s = element as { selectedIndex: number; options: Array<{ text: string }> };
      return s.selectedIndex >= 0 ? s.options[s.selectedIndex].text.trim() : '';
    });
  }

  /** The colour of an element's top border, as the page draws it. */
  borderColour(element: Locator): Promise<string> {
    return element.evaluate((el: unknown) => {
      const view = globalThis as unknown as { getComputedStyle(e: unknown): { borderTopColor: string } };
      return view.getComputedStyle(el).borderTopColor;
    });
  }

  message(): Locator {
    return this.panel.locator('#xg2g-message');
  }

  /** Presses "Load bouquets" and waits for the answer (the "Connecting…" message to be replaced). */
  async loadBouquets(): Promise<{ look: string; text: string }> {
    await this.panel.locator('#xg2g-load').click();
    await this.panel.locator('#xg2g-message:not([data-look="progress"])').waitFor();
    return { look: (await this.message().getAttribute('data-look')) ?? '', text: (await this.message().innerText()).trim() };
  }

  /** The form's verdict beside Save: a green check when the config is valid, an orange "!" if not. */
  formIsValid(): Locator {
    return this.modal.locator('.modal-footer .fa-circle-check.green-text');
  }

  /** Save, then close the "Restart Required" dialog that confirms config.json was written. */
  async save(shot?: string): Promise<void> {
    await this.modal.locator('.modal-footer').getByRole('button', { name: /^save$/i }).click();
    const restart = this.page.locator('ngb-modal-window', { hasText: 'Restart Required' });
    await restart.waitFor();
    if (shot) await this.page.screenshot({ path: join(this.shotsDir, `${shot}.png`) });
    await restart.locator('.modal-footer').getByRole('button', { name: /^close$/i }).click();
    await restart.waitFor({ state: 'detached' });
  }

  /**
   * The whole settings dialog: the window is made tall enough for all of it while the picture is
   * taken (the dialog scrolls inside the window, and what is scrolled out is not drawn).
   */
  async shot(name: string): Promise<void> {
    const dialog = this.modal.locator('.modal-content').first();
    const height = await dialog.evaluate((el: unknown) => (el as { scrollHeight: number }).scrollHeight);
    const before = this.page.viewportSize()!;
    await this.page.setViewportSize({ width: before.width, height: Math.max(before.height, height + 100) });
    try {
      await dialog.screenshot({ path: join(this.shotsDir, `${name}.png`) });
    } finally {
      await this.page.setViewportSize(before);
    }
  }
}
