import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of the main views (gitignored), for people to look at. */
export const ARTIFACTS = fileURLToPath(new URL('./artifacts', import.meta.url));

/**
 * Debian's Chromium, headless, never talking to anything but localhost. WebGL runs on SwiftShader
 * (CPU rendering): with --disable-gpu MapLibre needs --enable-unsafe-swiftshader.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A page that records console errors and uncaught exceptions (the console must have none), with the
 * basemap switched off: these machines reach no tile server, and tests send no traffic off the host.
 */
export async function consolePage(
  browser: Browser,
  opts: { width: number; height: number; locale?: string },
): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: { width: opts.width, height: opts.height },
    locale: opts.locale ?? 'en-GB',
  });
  await context.addInitScript(() => localStorage.setItem('cityflow.tileUrl', ''));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs every failed HTTP answer as a console error; two are expected and handled: the
    // wrong-password test's 401, and /api/incidents answering 404 until the rerouting issue serves it.
    const url = m.location().url;
    const expected =
      m.text().startsWith('Failed to load resource') &&
      ((/status of 401/.test(m.text()) && url.endsWith('/api/auth/login')) ||
        (/status of 404/.test(m.text()) && url.includes('/api/incidents')));
    if (!expected) errors.push(`${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** Calls one of the map's read-only probes (console/web/src/map/map-view.ts `probe()`) in the page. */
export const probe = <T>(page: Page, name: string, arg?: string) =>
  page.evaluate(
    `(() => { const p = window.__cityflow.probe(); return p ? p[${JSON.stringify(name)}](${JSON.stringify(arg ?? null)}) : null; })()`,
  ) as Promise<T | null>;
/** Reads an expression over the store's state (`s`) in the page. */
export const state = <T>(page: Page, expr: string) =>
  page.evaluate(
    (e) =>
      new Function('s', `return ${e}`)(
        (window as unknown as { __cityflow: { store: { state: unknown } } }).__cityflow.store.state,
      ),
    expr,
  ) as Promise<T>;

/**
 * A name for the focused control, to list what Tab reaches: its id, else what it does (`action:…`),
 * else its kind (sort header, show-path, road button, forecast mode), else its tag.
 */
export const focusedControl = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return '';
    return (
      el.id ||
      (el.dataset.action ? `action:${el.dataset.action}` : '') ||
      (el.dataset.sort ? 'sort' : '') ||
      (el.classList.contains('show-path') ? 'show-path' : '') ||
      (el.dataset.roadId ? 'road-button' : '') ||
      (el.getAttribute('name') === 'mode' ? 'mode' : '') ||
      el.tagName
    );
  });

export async function signIn(page: Page, url: string, who: { email: string; password: string }) {
  await page.goto(url);
  await page.locator('#email').fill(who.email);
  await page.locator('#password').fill(who.password);
  await page.locator('#login-submit').click();
  await page.locator('#app-view').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.body.dataset.mapComplete === 'true', null, { timeout: 30_000 });
}

/**
 * Presses Enter on the first element matching `selector` with the keyboard focus on it, and returns
 * its `attr`: the value of the element that got the key. Live lists re-rank and rebuild under the
 * keyboard (CI once saw the first road change between reading it and pressing Enter), so a try whose
 * element was rebuilt meanwhile is made again; null after three.
 */
export async function enterOnFirst(page: Page, selector: string, attr: string): Promise<string | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const el = (await page.locator(selector).first().elementHandle())!;
    await el.focus();
    const value = await el.getAttribute(attr);
    await page.keyboard.press('Enter');
    if (await el.evaluate((e) => e.isConnected)) return value;
  }
  return null;
}
