/**
 * How the map starts (map-view.ts): no style, so no frame of an empty map, while /api/roads is on its
 * way; then the style with the roads inside, at the camera fitted to them; a style all the same when
 * /api/roads fails; a live frame that arrives while the map loads shown once it is complete (not lost
 * to a map not ready for feature states); and a network that changes after the start (the sources'
 * `setData` path); and, beside them, the keyboard focus kept on a road while live frames re-rank
 * the "most congested" list. The built console (console/public) in Chromium against a stand-in API that holds
 * or fails /api/roads on demand, which the real hub cannot be made to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { consolePublicDir } from '../src/index.js';
import { CHROMIUM, consolePage, launchChromium, probe, state } from './browser.js';
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

const json = (res: ServerResponse, body: unknown) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/**
 * Static console files, empty API lists, /api/roads answered by `roads` (held until it answers), and
 * `/ws/live` handing each connection to `socket`.
 */
async function standIn(
  roads: (res: ServerResponse) => void,
  socket: (ws: WebSocket) => void = () => {},
): Promise<{ url: string; server: Server }> {
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
  new WebSocketServer({ server, path: '/ws/live' }).on('connection', socket);
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

  it('shows a live frame that arrived while the map was loading, once the map is complete', async () => {
    const road = 'N00-N01';
    const { url, server } = await standIn(
      (res) => json(res, gridNetwork()),
      // The socket opens once the roads are in, before the map has drawn them: this frame comes while
      // the map loads, and no other follows to make up for it if it were lost.
      (ws) => {
        const data = {
          ts: new Date().toISOString(),
          road_id: road,
          speed_kmh: 5,
          flow_rate: 300,
          occupancy: 0.6,
          congestion_score: 0.9,
          sensors: 1,
        };
        ws.send(JSON.stringify({ type: 'traffic', data }));
      },
    );
    servers.push(server);
    const { page, errors } = await signedInPage(browser);
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.mapComplete === 'true', null, { timeout: 30_000 });
    await expect.poll(() => probe<string>(page, 'roadLevel', road), { timeout: 10_000 }).toBe('jam');
    expect(await state<number>(page, 's.live.size')).toBe(1);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('fits the reroute table into the side panel at 1280×720, in English and in French', async () => {
    // The widest advice: an incident flag, a three-road path, the validity line.
    const reroute = {
      ts: new Date().toISOString(),
      route_id: 'N01-N11',
      alt_route_id: 'N01-N02',
      reason: 'incident',
      estimated_co2_gain: 62.6,
      eta_gain_min: 1.9,
      path: ['N01-N02', 'N02-N12', 'N12-N11'],
      decision_node: 'N01',
      diverted_share: 0.5,
      valid_until: new Date(Date.now() + 3_600_000).toISOString(),
      co2_gain_g_per_vehicle: 120,
      incident_id: 'inc-1',
    };
    const { url, server } = await standIn(
      (res) => json(res, gridNetwork()),
      (ws) => ws.send(JSON.stringify({ type: 'reroute', data: reroute })),
    );
    servers.push(server);
    for (const lang of ['en', 'fr']) {
      const { page, errors } = await signedInPage(browser);
      await page.addInitScript((l) => localStorage.setItem('cityflow.lang', l), lang);
      await page.goto(url);
      await page.locator('#reroutes table').waitFor({ timeout: 30_000 });
      const overflow = await page
        .locator('#reroutes .table-wrap')
        .evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
      expect(overflow.scroll, `${lang}: the table is wider than its panel`).toBeLessThanOrEqual(
        overflow.client,
      );
      // The path toggle keeps its label and says whether it is on with aria-pressed.
      const toggle = page.locator('#reroutes button.show-path');
      const label = await toggle.textContent();
      await toggle.click();
      await expect.poll(() => toggle.getAttribute('aria-pressed')).toBe('true');
      expect(await toggle.textContent()).toBe(label);
      expect(errors).toEqual([]);
      await page.context().close();
    }
  }, 90_000);

  it('keeps the keyboard focus on its road when live frames re-rank the "most congested" list', async () => {
    let socket: WebSocket | null = null;
    const { url, server } = await standIn(
      (res) => json(res, gridNetwork()),
      (ws) => {
        socket = ws;
      },
    );
    servers.push(server);
    const send = (road_id: string, congestion_score: number) =>
      socket!.send(
        JSON.stringify({
          type: 'traffic',
          data: {
            ts: new Date().toISOString(),
            road_id,
            speed_kmh: 5,
            flow_rate: 300,
            occupancy: 0.6,
            congestion_score,
            sensors: 1,
          },
        }),
      );
    const { page, errors } = await signedInPage(browser);
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.mapComplete === 'true', null, { timeout: 30_000 });
    await expect.poll(() => socket !== null, { timeout: 10_000 }).toBe(true);
    const ranking = () =>
      page.locator('#busiest button').evaluateAll((b) => b.map((e) => e.getAttribute('data-road-id')));
    send('N00-N01', 0.9);
    send('N01-N02', 0.8);
    await expect.poll(ranking, { timeout: 10_000 }).toEqual(['N00-N01', 'N01-N02']);
    await page.locator('#busiest button[data-road-id="N01-N02"]').focus();
    // The focused road goes to the top: the list is rebuilt, the focus stays on that road's button.
    send('N01-N02', 0.95);
    await expect.poll(ranking, { timeout: 10_000 }).toEqual(['N01-N02', 'N00-N01']);
    expect(
      await page.evaluate(() => {
        const el = document.activeElement;
        return el?.closest('#busiest') ? el.getAttribute('data-road-id') : (el?.tagName ?? null);
      }),
    ).toBe('N01-N02');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('draws a network that changes after the start: new roads drawn and coloured, removed ones gone', async () => {
    const { url, server } = await standIn((res) => json(res, gridNetwork()));
    servers.push(server);
    const { page, errors } = await signedInPage(browser);
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.mapComplete === 'true', null, { timeout: 30_000 });
    const before = (await probe<string[]>(page, 'renderedRoads'))!;
    expect(before).toHaveLength(24);
    // A road that stays, coloured before the change: it must keep its colour through it.
    const kept = 'N11-N12';
    await page.evaluate((id) => {
      const store = (
        window as unknown as { __cityflow: { store: { setLive(r: unknown[], a: boolean): void } } }
      ).__cityflow.store;
      const live = { ts: new Date().toISOString(), speed_kmh: 5, flow_rate: 300, occupancy: 0.6, sensors: 1 };
      store.setLive([{ ...live, road_id: id, congestion_score: 0.9 }], true);
    }, kept);
    await expect.poll(() => probe<string>(page, 'roadLevel', kept), { timeout: 10_000 }).toBe('jam');
    // The roads at N00 go, two diagonals come, one of them jammed; then the network event, as a
    // re-fetch of the roads would send it.
    const removed = before.filter((id) => id.startsWith('N00-') || id.endsWith('-N00'));
    expect(removed).toHaveLength(4);
    await page.evaluate(() => {
      type Road = { road_id: string; from_node: string; to_node: string; coordinates: number[][] };
      const store = (
        window as unknown as {
          __cityflow: {
            store: {
              state: { roads: Map<string, Road> };
              setLive(rows: unknown[], arrived: boolean): void;
              emit(topic: string): void;
            };
          };
        }
      ).__cityflow.store;
      const roads = new Map(
        [...store.state.roads].filter(([, r]) => r.from_node !== 'N00' && r.to_node !== 'N00'),
      );
      const diagonal = (id: string, from: string, to: string, a: number[], b: number[]) =>
        roads.set(id, {
          road_id: id,
          from_node: from,
          to_node: to,
          coordinates: [a, b],
          name: id,
          speed_limit_kmh: 50,
        } as Road);
      diagonal('D11-N22', 'N11', 'N22', [2.351, 48.857], [2.357, 48.861]);
      diagonal('D22-N11', 'N22', 'N11', [2.357, 48.861], [2.351, 48.857]);
      store.state.roads = roads;
      const live = { ts: new Date().toISOString(), speed_kmh: 5, flow_rate: 300, occupancy: 0.6, sensors: 1 };
      store.setLive([{ ...live, road_id: 'D11-N22', congestion_score: 0.9 }], true);
      store.emit('network');
    });
    const drawn = () => probe<string[]>(page, 'renderedRoads').then((r) => [...(r ?? [])].sort());
    const expected = [...before.filter((id) => !removed.includes(id)), 'D11-N22', 'D22-N11'].sort();
    await expect.poll(drawn, { timeout: 15_000 }).toEqual(expected);
    expect(await probe<string>(page, 'roadLevel', 'D11-N22')).toBe('jam');
    expect(await probe<string>(page, 'roadLevel', kept)).toBe('jam');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
