/**
 * The console in a real Chromium against a real city (console/test/city-harness.ts): hub, three agents
 * (one a separate process), the simulator on the data clock with its incident control endpoint.
 * Screenshots of the main views go to console/test/artifacts/.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { congestionLevel } from '@cityflow/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM,
  artifact,
  consolePage,
  enterOnFirst,
  focusedControl,
  launchChromium,
  probe,
  signIn,
  state,
} from './browser.js';
import { upsertUser } from '../../hub/src/store/users.js';
import { ADMIN, type City, OPERATOR, VIEWER, simIncident, startCity } from './city-harness.js';

/** The centre column's eastbound street: feeders on three sides, detours around it. */
const INCIDENT_ROAD = 'N11-N12';

if (!existsSync(CHROMIUM) && process.env.CITYFLOW_REQUIRE_SERVICES === '1')
  throw new Error(`${CHROMIUM} is missing but CITYFLOW_REQUIRE_SERVICES=1: install Debian's chromium`);

describe.skipIf(!existsSync(CHROMIUM))('operator console in Chromium (needs /usr/bin/chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-console-'));
  let city: City;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    city = await startCity(dir);
    browser = await launchChromium();
    ({ page, errors } = await consolePage(browser, { width: 1280, height: 720 }));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await city?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password with a readable message', async () => {
    await page.goto(city.hub.apiUrl);
    await page.locator('#email').fill(ADMIN.email);
    await page.locator('#password').fill('not-the-password');
    await page.locator('#login-submit').click();
    await expect.poll(() => page.locator('#login-error').textContent()).toBe('Wrong email or password.');
    expect(await page.locator('#app-view').isHidden()).toBe(true);
  });

  it('signs in and draws every road of /api/roads, with a performance mark when the map is complete', {
    timeout: 60_000,
  }, async () => {
    await signIn(page, city.hub.apiUrl, ADMIN);
    expect(await page.evaluate(() => sessionStorage.getItem('cityflow.token'))).toMatch(/^ey/);
    const marks = await page.evaluate(() => performance.getEntriesByName('cityflow:map-complete').length);
    expect(marks).toBe(1);
    await expect.poll(async () => (await probe<string[]>(page, 'renderedRoads'))?.length).toBe(24);
    await expect.poll(() => page.locator('#conn').textContent()).toBe('Live');
    expect(await page.locator('#basemap-note').isVisible()).toBe(true);
  });

  it("follows the data's clock (the simulation's time, hours behind the browser); KPIs keep wall-second latency", async () => {
    await expect.poll(() => state<number | null>(page, 's.dataNowMs'), { timeout: 30_000 }).not.toBeNull();
    const dataNow = await state<number>(page, 's.dataNowMs');
    expect(Math.abs(dataNow - city.sim.clock.now())).toBeLessThan(10 * 60_000);
    expect(Date.now() - dataNow).toBeGreaterThan(30 * 60_000);
    // The top bar shows that time (24-hour UTC), refreshed every second.
    await expect
      .poll(() => page.locator('#clock').textContent())
      .toContain(`${new Date(dataNow).toISOString().slice(11, 13)}:`);
    // The ingest latency is measured from the agents' wall close times, so the data clock still has one.
    await expect
      .poll(() => page.locator('#kpi-latency').textContent(), { timeout: 30_000 })
      .toMatch(/^(\d+ ms|\d+(\.\d)? s)$/);
    await expect.poll(() => page.locator('#kpi-agents').textContent(), { timeout: 30_000 }).toBe('3 / 3');
  });

  it('the road panel shows live values, sensors, agent, model, and a D3 chart with actual speed and forecast', async () => {
    // Enough simulated history for the chart and the hub's first forecasts.
    await expect
      .poll(() => state<number>(page, `s.predictions.get('${INCIDENT_ROAD}')?.size ?? 0`), {
        timeout: 60_000,
      })
      .toBe(3);
    await page.locator('#road-search').fill(`Rue 11 est (${INCIDENT_ROAD})`);
    await page.locator('#road-search').press('Enter');
    await expect.poll(() => page.locator('#road-name').textContent()).toBe(`Rue 11 est (${INCIDENT_ROAD})`);
    expect(await page.locator('#v-sensors').textContent()).toBe(`S-${INCIDENT_ROAD}`);
    expect(await page.locator('#v-agent').textContent()).toBe('agent-e');
    expect(await page.locator('#v-model').textContent()).toMatch(/cityflow-(network|edge)/);
    // A minute in which no vehicle crossed the loop has no speed ('–'): the next one does.
    await expect.poll(() => page.locator('#v-speed').textContent(), { timeout: 30_000 }).toMatch(/km\/h$/);
    await expect.poll(() => page.locator('#road-chart svg path.actual').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.locator('#road-chart svg circle.forecast-dot').count()).toBe(3);
    expect(await page.locator('#road-chart svg path.band').count()).toBe(1);
    await page.screenshot({ path: artifact('1280x720-road-panel.png') });
  }, 90_000);

  it('turns the road congested on the map when the simulator starts an incident on demand (CLI verb)', async () => {
    expect(await probe(page, 'roadLevel', INCIDENT_ROAD)).not.toBe('jam');
    const stdout = await simIncident(city, 'start', INCIDENT_ROAD);
    expect(stdout).toMatch(/^incident on N11-N12 since /);
    await expect.poll(() => probe(page, 'roadLevel', INCIDENT_ROAD), { timeout: 30_000 }).toBe('jam');
    await expect.poll(() => page.locator('#road-level').getAttribute('class')).toBe('level-badge jam');
  }, 45_000);

  it("lists the hub planner's reroute around the jam and draws its alternative path when selected", async () => {
    // The planner reroutes around the jam the incident causes: the incident road or a feeder queueing behind it.
    const row = page.locator('#reroutes tbody tr').first();
    await row.waitFor({ timeout: 90_000 });
    const routeId = (await row.getAttribute('data-route-id'))!;
    const path = await state<string[]>(page, `s.reroutes.get(${JSON.stringify(routeId)}).path`);
    expect(path.length).toBeGreaterThan(1);
    expect(path).not.toContain(routeId);
    await row.locator('button.show-path').focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(async () => (await probe<string[]>(page, 'renderedPath'))?.sort(), { timeout: 10_000 })
      .toEqual([...path].sort());
    expect(await row.locator('td').nth(2).textContent()).toMatch(/min$/);
    await page.screenshot({ path: artifact('1280x720-incident-reroute.png') });
  }, 120_000);

  it('reaches every action with Tab and works it with Enter/Space', async () => {
    // Runs while the incident's advice is in force, so its "show path" button is in the Tab order.
    await page.locator('#reroutes tbody tr').first().waitFor({ timeout: 60_000 });
    await page.locator('#lang').focus();
    const seen = new Set<string>();
    for (let i = 0; i < 120; i++) {
      await page.keyboard.press('Tab');
      const id = await focusedControl(page);
      seen.add(id);
    }
    for (const want of [
      'logout',
      'mode',
      'road-search',
      'road-button',
      'show-path',
      'sort',
      'action:diag',
      'action:rotate',
      'new-agent-id',
    ])
      expect(seen, want).toContain(want);
    // Enter on a road of the "most congested" list selects it.
    const id = await enterOnFirst(page, '#busiest button', 'data-road-id');
    expect(id).not.toBeNull();
    await expect.poll(() => state<string>(page, 's.selectedRoad')).toBe(id);
    // Enter on the sorted column's header reverses the order.
    await page.locator('button[data-sort="agentId"]').focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('#agents-table tbody tr').first().getAttribute('data-agent-id'))
      .toBe('agent-w');
    expect(await page.locator('th[aria-sort="descending"]').count()).toBe(1);
  });

  it('marks the incident the hub detects on the map, in the list and in the road panel, and removes them when it clears', async () => {
    // The hub's detector opens an incident from what the loops see around the road the simulator
    // blocked (a few one-minute cycles). It may name the blocked road or one next to it (both ends of
    // a blockage look stopped), so the incident followed is the blocked road's if any, else its
    // neighbour's; a night-time false alarm elsewhere in the grid is not the one followed.
    const [from, to] = INCIDENT_ROAD.split('-');
    const near = (id: string) => id === INCIDENT_ROAD || id.split('-').some((n) => n === from || n === to);
    await expect
      .poll(
        () =>
          state<string[]>(page, '[...s.incidents.values()].map((i) => i.road_id)').then((ids) =>
            ids.some(near),
          ),
        { timeout: 120_000, interval: 1000 },
      )
      .toBe(true);
    const active = await state<{ incident_id: string; road_id: string }[]>(page, '[...s.incidents.values()]');
    const inc = active.find((i) => i.road_id === INCIDENT_ROAD) ?? active.find((i) => near(i.road_id))!;
    const roadName = await state<string>(page, `s.roads.get(${JSON.stringify(inc.road_id)}).name`);
    const label = `${roadName} (${inc.road_id})`;
    const marker = page.locator(`#map .incident-marker[data-incident-id="${inc.incident_id}"]`);
    await marker.waitFor({ state: 'visible' });
    const aria = (await marker.getAttribute('aria-label'))!;
    expect(aria.startsWith(`Incident on ${label} since `)).toBe(true);
    expect(aria).toMatch(/ since \d\d:\d\d:\d\d UTC: \S/);
    // Drawn where the road is: the button's centre on the road's midpoint in the map's pixels.
    const box = (await marker.boundingBox())!;
    const canvas = (await page.locator('#map canvas').boundingBox())!;
    const at = (await probe<{ x: number; y: number }>(page, 'roadPoint', inc.road_id))!;
    expect(Math.abs(box.x + box.width / 2 - canvas.x - at.x)).toBeLessThan(2);
    expect(Math.abs(box.y + box.height / 2 - canvas.y - at.y)).toBeLessThan(2);
    expect(
      (await probe<{ incident_id: string }[]>(page, 'incidentMarkers'))?.map((m) => m.incident_id),
    ).toContain(inc.incident_id);
    const listed = page.locator(`#incidents li[data-incident-id="${inc.incident_id}"] button`);
    expect(await listed.count()).toBe(1);
    // The marker is in the Tab order right after the map itself, and Enter on it opens the road panel.
    if (await page.locator('#road-close').count()) await page.locator('#road-close').click();
    await expect.poll(() => state<string | null>(page, 's.selectedRoad')).toBeNull();
    await page.locator('#map canvas').focus();
    for (let i = 0; i < 5 && !(await marker.evaluate((el) => el === document.activeElement)); i++)
      await page.keyboard.press('Tab');
    expect(await marker.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#road-name').textContent()).toBe(label);
    expect(await page.locator('#road-incident').textContent()).toMatch(
      /^Incident since \d\d:\d\d:\d\d UTC \(\d+ % confidence\): \S/,
    );
    await page.screenshot({ path: artifact('1280x720-incident-marker.png') });

    const stdout = await simIncident(city, 'end', INCIDENT_ROAD);
    expect(stdout).toMatch(/^incident on N11-N12 ended at /);
    // The queue drains, the detector sees traffic back on two cycles and clears it: the hub's frame
    // removes the marker, the list row and the panel's note.
    await marker.waitFor({ state: 'detached', timeout: 150_000 });
    expect(await listed.count()).toBe(0);
    await expect.poll(() => page.locator('#road-incident').count()).toBe(0);
    // The hub agrees: no active incident on that road.
    const token = await page.evaluate(() => sessionStorage.getItem('cityflow.token'));
    const res = await fetch(`${city.hub.apiUrl}/api/incidents?active=true`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.json()) as { data: { incident_id: string }[] };
    expect(body.data.map((i) => i.incident_id)).not.toContain(inc.incident_id);
    await page.screenshot({ path: artifact('1280x720-incident-cleared.png') });
  }, 240_000);

  it('reaches the roads on the map by keyboard: Tab to the map, a focus ring moved by the arrows and Page Down, Enter opens the road', async () => {
    const canvas = page.locator('#map canvas');
    const onCanvas = () => canvas.evaluate((el) => el === document.activeElement);
    await page.locator('#logout').focus();
    for (let i = 0; i < 10 && !(await onCanvas()); i++) await page.keyboard.press('Tab');
    expect(await onCanvas()).toBe(true);
    expect(await canvas.getAttribute('aria-label')).toMatch(/arrow keys move between roads/);
    const first = await probe<string>(page, 'focusedRoad');
    expect(first).toMatch(/^N\d\d-N\d\d$/);
    // The ring is drawn on that road alone, and the label names it.
    await expect.poll(() => probe<string[]>(page, 'renderedFocus')).toEqual([first]);
    expect(await page.locator('#map-focus').textContent()).toContain(`(${first})`);
    // Page Down visits every road on screen, then wraps round.
    const visited = new Set<string>();
    for (let i = 0; i < 24; i++) {
      await page.keyboard.press('PageDown');
      visited.add((await probe<string>(page, 'focusedRoad'))!);
    }
    expect(visited.size).toBe(24);
    // The arrows follow the network: straight on along the middle row, then across to the street's
    // other direction, drawn above the eastbound one.
    for (let i = 0; i < 24 && (await probe<string>(page, 'focusedRoad')) !== 'N10-N11'; i++)
      await page.keyboard.press('PageDown');
    await page.keyboard.press('ArrowRight');
    expect(await probe<string>(page, 'focusedRoad')).toBe('N11-N12');
    const east = (await probe<{ x: number; y: number }>(page, 'roadAnchor', 'N11-N12'))!;
    await page.keyboard.press('ArrowUp');
    expect(await probe<string>(page, 'focusedRoad')).toBe('N12-N11');
    expect((await probe<{ x: number; y: number }>(page, 'roadAnchor', 'N12-N11'))!.y).toBeLessThan(east.y);
    await expect.poll(() => probe<string[]>(page, 'renderedFocus')).toEqual(['N12-N11']);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#road-name').textContent()).toBe('Rue 11 ouest (N12-N11)');
    expect(await page.locator('#map-focus').textContent()).toMatch(/^Rue 11 ouest \(N12-N11\), /);
    await page.screenshot({ path: artifact('1280x720-keyboard-road.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => state<string | null>(page, 's.selectedRoad')).toBeNull();
    // Tab leaves the map (no trap); the ring and the label go with the focus.
    await page.keyboard.press('Tab');
    expect(await onCanvas()).toBe(false);
    await expect.poll(() => probe<string[]>(page, 'renderedFocus')).toEqual([]);
    expect(await page.locator('#map-focus').isHidden()).toBe(true);
  });

  it('switches the map to the T+60 forecast, then steps back through the history', async () => {
    await page.locator('#mode input[value="60"]').check();
    expect(await page.evaluate(() => document.body.dataset.mode)).toBe('t60');
    const roads = ['N00-N01', 'N21-N22', 'N10-N11'];
    for (const id of roads) {
      const score = await state<number | null>(
        page,
        `s.predictions.get('${id}')?.get(60)?.congestion_score ?? null`,
      );
      await expect.poll(() => probe(page, 'roadLevel', id)).toBe(congestionLevel(score));
    }
    await page.locator('#mode input[value="history"]').check();
    await page.locator('#timebar').waitFor({ state: 'visible' });
    const before = await page.locator('#history-label').textContent();
    await page.locator('#history-range').focus();
    for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.locator('#history-label').textContent()).not.toBe(before);
    const idx = await state<number>(page, 's.historyIndex');
    const hist = await state<number | null>(page, `s.history.roads['N00-N01'].congestion_score[${idx}]`);
    await expect.poll(() => probe(page, 'roadLevel', 'N00-N01')).toBe(congestionLevel(hist));
    await page.screenshot({ path: artifact('1280x720-history.png') });
    await page.locator('#back-live').click();
    expect(await page.evaluate(() => document.body.dataset.mode)).toBe('live');
  });

  it('marks an agent offline within seconds when its process is killed (MQTT last will)', async () => {
    await expect.poll(() => page.locator('tr[data-agent-id="agent-e"]').getAttribute('class')).toBe('online');
    expect(await probe(page, 'agentMarker', 'N02')).toBe(true);
    city.agentE.kill('SIGKILL');
    await expect
      .poll(() => page.locator('tr[data-agent-id="agent-e"]').getAttribute('class'), { timeout: 30_000 })
      .toBe('offline');
    expect(await probe(page, 'agentMarker', 'N02')).toBe(false);
    expect(await page.locator('#agents-summary').textContent()).toBe('2 of 3 online');
    // The KPI agrees with the table and the markers at once (not at the next 10 s KPI refresh).
    expect(await page.locator('#kpi-agents').textContent()).toBe('2 / 3');
  }, 45_000);

  it('switches to French and back', async () => {
    await page.locator('#lang').selectOption('fr');
    try {
      expect(await page.locator('#logout').textContent()).toBe('Se déconnecter');
      expect(await page.locator('#legend').textContent()).toContain('fluide (score < 0,3)');
      expect(await page.locator('#agents-summary').textContent()).toBe('2 sur 3 en ligne');
      expect(await page.locator('#mode legend').textContent()).toBe('La carte montre');
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('fr');
      await page.screenshot({ path: artifact('1280x720-fr.png') });
    } finally {
      await page.locator('#lang').selectOption('en');
    }
    expect(await page.locator('#logout').textContent()).toBe('Sign out');
  });

  it('gives a viewer no admin or operator action, an operator diagnostics only', async () => {
    // Registration gives viewers; operators are made by an admin (here: the user store).
    await upsertUser(city.hub.db, OPERATOR.email, OPERATOR.password, 'operator');
    const operator = await consolePage(browser, { width: 1280, height: 720 });
    await signIn(operator.page, city.hub.apiUrl, OPERATOR);
    await operator.page.locator('#agents-table tbody tr').first().waitFor();
    expect(await operator.page.locator('#add-agent').isHidden()).toBe(true);
    expect(await operator.page.locator('[data-action="diag"]').count()).toBe(3);
    expect(await operator.page.locator('[data-action="rotate"]').count()).toBe(0);
    await operator.page.context().close();
    await upsertUser(city.hub.db, VIEWER.email, VIEWER.password, 'viewer');
    const viewer = await consolePage(browser, { width: 1280, height: 720 });
    await signIn(viewer.page, city.hub.apiUrl, VIEWER);
    await viewer.page.locator('#agents-table tbody tr').first().waitFor();
    expect(await viewer.page.locator('#add-agent').isHidden()).toBe(true);
    expect(await viewer.page.locator('[data-action]').count()).toBe(0);
    // The admin's page has them: the check above is not vacuous.
    expect(await page.locator('[data-action="rotate"]').count()).toBe(3);
    await viewer.page.screenshot({ path: artifact('1280x720-viewer.png') });
    expect(viewer.errors).toEqual([]);
    await viewer.page.context().close();
  }, 60_000);

  it('is legible on a 3840×2160 wall screen', async () => {
    const wall = await consolePage(browser, { width: 3840, height: 2160 });
    await signIn(wall.page, city.hub.apiUrl, ADMIN);
    await wall.page.locator(`#busiest button`).first().click();
    await wall.page.locator('#road-chart svg').waitFor();
    const px = await wall.page.evaluate(() =>
      Number.parseFloat(getComputedStyle(document.querySelector('#legend')!).fontSize),
    );
    expect(px).toBeGreaterThanOrEqual(24);
    await wall.page.screenshot({ path: artifact('3840x2160-wall.png') });
    expect(wall.errors).toEqual([]);
    await wall.page.context().close();
  }, 60_000);

  it('shows a visible "stale" state when the data stops', async () => {
    expect(await page.locator('#stale').isHidden()).toBe(true);
    await city.stopSensors();
    await expect.poll(() => page.locator('#stale').isVisible(), { timeout: 60_000 }).toBe(true);
    expect(await page.locator('#stale').textContent()).toMatch(/^Stale: no new data for \d+ s$/);
    expect(await page.evaluate(() => document.body.classList.contains('is-stale'))).toBe(true);
    await page.screenshot({ path: artifact('1280x720-stale.png') });
  }, 75_000);

  it('signs out: timers and socket released, token dropped, login form back; no console errors all along', async () => {
    await page.locator('#logout').click();
    await page.locator('#login-view').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.getItem('cityflow.token'))).toBeNull();
    expect(await state<number>(page, 's.roads.size')).toBe(0);
    expect(errors).toEqual([]);
  });

  it('ends the session when the token is revoked elsewhere (WebSocket closed 4001), without retrying', async () => {
    await signIn(page, city.hub.apiUrl, ADMIN);
    await expect.poll(() => page.locator('#conn').textContent()).toBe('Live');
    const token = await page.evaluate(() => sessionStorage.getItem('cityflow.token'));
    const res = await fetch(`${city.hub.apiUrl}/api/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(204);
    await page.locator('#login-view').waitFor({ state: 'visible' });
    expect(await page.locator('#login-error').textContent()).toBe('Your session has ended, sign in again.');
    expect(errors).toEqual([]);
  });
});
