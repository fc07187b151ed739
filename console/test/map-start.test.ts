/**
 * How the map starts (map-view.ts): no style, so no frame of an empty map, while /api/roads is on its
 * way; then the style with the roads inside, at the camera fitted to them; and a style all the same
 * when /api/roads fails. The built console (console/public) in Chromium against a stand-in API that
 * holds or fails /api/roads on demand, which the real hub cannot be made to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { consolePublicDir } from '../src/index.js';
import { CHROMIUM, consolePage, launchChromium, probe } from './browser.js';
import { gridNetwork } from './city-harness.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
};
type Status = { ready: boolean; style: boolean };
const KPIS = {
  as_of: new Date().toISOString(),
  clock: 'wall',
  window_min: 5,
  ingest_latency_s: 1,
  messages_per_s: 0,
  error_rate: 0,
  mean_forecast_congestion: 0,
  co2_gain_kg_per_h: 0,
  agents_online: 0,
  agents_total: 0,
};

/** Static console files, empty API lists, and /api/roads answered by `roads` (held until it answers). */
async function standIn(roads: (res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/api/roads') return roads(res);
    if (path.startsWith('/api/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify(path === '/api/kpis' ? KPIS : { data: [], next_cursor: null, has_more: false }),
      );
    }
    const file = normalize(join(consolePublicDir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(consolePublicDir) || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  new WebSocketServer({ server, path: '/ws/live' });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, server };
}

/** Signed in before the page loads (the stand-in accepts any token), so the map starts at once. */
async function signedInPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const out = await consolePage(browser, { width: 1280, height: 720 });
  await out.page.addInitScript(() => {
    const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '');
    const exp = Math.floor(Date.now() / 1000) + 3600;
    sessionStorage.setItem('cityflow.token', `${b64({ alg: 'none' })}.${b64({ exp })}.x`);
    const user = { id: 1, email: 'v@cityflow.local', role: 'viewer', created_at: new Date().toISOString() };
    sessionStorage.setItem('cityflow.user', JSON.stringify(user));
  });
  return out;
}

describe.skipIf(!existsSync(CHROMIUM))('map start in Chromium (needs /usr/bin/chromium)', () => {
  let browser: Browser;
  const servers: Server[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
  });

  it('has no style while the roads download, then draws every road at the fitted view', async () => {
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const { url, server } = await standIn((res) => {
      void held.then(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(gridNetwork()));
      });
    });
    servers.push(server);
    const { page, errors } = await signedInPage(browser);
    await page.goto(url);
    await expect.poll(() => probe<Status>(page, 'status')).toMatchObject({ ready: false });
    // Long enough for a styled map to have drawn several frames; this one has nothing to draw.
    await page.waitForTimeout(500);
    expect(await probe<Status>(page, 'status')).toMatchObject({ ready: false, style: false });
    release();
    await page.waitForFunction(() => document.body.dataset.mapComplete === 'true', null, { timeout: 30_000 });
    // Every road inside the viewport: the camera was fitted to the network.
    expect((await probe<string[]>(page, 'renderedRoads'))?.length).toBe(24);
    expect(await probe<Status>(page, 'status')).toMatchObject({ ready: true, style: true });
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('sets the style all the same when /api/roads fails, so the map is not blank', async () => {
    const { url, server } = await standIn((res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'CF_INTERNAL', message: 'internal error' } }));
    });
    servers.push(server);
    const { page, errors } = await signedInPage(browser);
    await page.goto(url);
    await expect
      .poll(() => probe<Status>(page, 'status'), { timeout: 30_000 })
      .toMatchObject({ ready: true, style: true });
    expect(await probe<string[]>(page, 'renderedRoads')).toEqual([]);
    // Chromium's own line for the failed answer; nothing else went wrong.
    expect(errors.filter((e) => !/status of 500.*\/api\/roads/.test(e))).toEqual([]);
    await page.context().close();
  }, 60_000);
});
