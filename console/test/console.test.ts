/**
 * The console in a real Chromium, served by a real hub, fed by a real agent over MQTT: log in, see
 * the roads drawn grey, then coloured when live data arrives over the WebSocket.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '@cityflow/edge-agent';
import { startHub } from '@cityflow/hub';
import { topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = { email: 'ops@console.test', password: 'console-password-1' };

/** Two intersections A, B (agent-1), two directed roads between them, one sensor each. */
function network() {
  const A = [2.35, 48.85];
  const B = [2.353, 48.851];
  const road = (id: string, from: string, to: string, coords: number[][]) => ({
    type: 'Feature',
    geometry: { type: 'LineString', coordinates: coords },
    properties: {
      kind: 'road',
      road_id: id,
      from_node: from,
      to_node: to,
      length_m: 240,
      lanes: 2,
      speed_limit_kmh: 50,
      name: `Rue ${id}`,
    },
  });
  const point = (props: Record<string, unknown>, c: number[]) => ({
    type: 'Feature',
    geometry: { type: 'Point', coordinates: c },
    properties: props,
  });
  return {
    type: 'FeatureCollection',
    features: [
      road('AB', 'A', 'B', [A, B]),
      road('BA', 'B', 'A', [B, A]),
      point({ kind: 'intersection', node_id: 'A', agent_id: 'agent-1' }, A),
      point({ kind: 'intersection', node_id: 'B', agent_id: 'agent-1' }, B),
      point({ kind: 'sensor', sensor_id: 's-AB', road_id: 'AB', agent_id: 'agent-1' }, B),
      point({ kind: 'sensor', sensor_id: 's-BA', road_id: 'BA', agent_id: 'agent-1' }, A),
    ],
  };
}

// CI sets CITYFLOW_REQUIRE_SERVICES=1: there a missing browser fails the run instead of skipping it.
if (!existsSync(CHROMIUM) && process.env.CITYFLOW_REQUIRE_SERVICES === '1')
  throw new Error(`${CHROMIUM} is missing but CITYFLOW_REQUIRE_SERVICES=1: install Debian's chromium`);

describe.skipIf(!existsSync(CHROMIUM))('console in Chromium (needs /usr/bin/chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-console-'));
  let hub: Awaited<ReturnType<typeof startHub>>;
  let agent: Awaited<ReturnType<typeof startAgent>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const networkFile = join(dir, 'network.geojson');
    writeFileSync(networkFile, JSON.stringify(network()));
    hub = await startHub({
      databaseUrl: 'pglite://memory',
      port: 0,
      mqttPort: 0,
      jwtSecret: 'console-secret-console-secret-0123456',
      networkFile,
      clock: 'wall',
      adminEmail: ADMIN.email,
      adminPassword: ADMIN.password,
      logLevel: 'warn',
    });
    const cred = await hub.addAgent('agent-1');
    agent = await startAgent({
      agentId: 'agent-1',
      dataDir: join(dir, 'agent'),
      hubUrl: hub.mqttUrl,
      hubUsername: cred.username,
      hubPassword: cred.password,
      clock: 'wall',
      liveIntervalS: 1,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password with a readable message', async () => {
    await page.goto(hub.apiUrl);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#login-error').textContent()).toBe('Wrong email or password.');
    expect(await page.locator('#app-view').isHidden()).toBe(true);
  });

  it('logs in, draws every road grey, then colours them from live data over the WebSocket', async () => {
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#app-view').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.getItem('cityflow.token'))).toMatch(/^ey/);
    const roads = page.locator('svg#map path.road');
    await expect.poll(() => roads.count()).toBe(2);
    expect(await page.locator('path.road.none').count()).toBe(2);
    await expect.poll(() => page.locator('#conn').textContent()).toBe('Live');
    await expect
      .poll(() => page.locator('#agents-summary').textContent(), { timeout: 20_000 })
      .toBe('1 of 1 online.');

    const sensor = await mqtt.connectAsync(agent.mqttUrl);
    const ts = new Date().toISOString();
    // A reading two minutes old: its minute is already closed, so it reaches the history at once.
    const oldMinute = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    await sensor.publishAsync(
      topics.sensor('s-AB'),
      JSON.stringify({
        ts: new Date(oldMinute + 5000).toISOString(),
        sensor_id: 's-AB',
        road_id: 'AB',
        speed_kmh: 21,
        flow_rate: 600,
        occupancy: 0.2,
      }),
      { qos: 1 },
    );
    // AB: 8 km/h on a 50 km/h road, loop 60 % occupied -> congested. BA: near free flow -> fluid.
    await sensor.publishAsync(
      topics.sensor('s-AB'),
      JSON.stringify({ ts, sensor_id: 's-AB', road_id: 'AB', speed_kmh: 8, flow_rate: 300, occupancy: 0.6 }),
      { qos: 1 },
    );
    await sensor.publishAsync(
      topics.sensor('s-BA'),
      JSON.stringify({
        ts,
        sensor_id: 's-BA',
        road_id: 'BA',
        speed_kmh: 46,
        flow_rate: 200,
        occupancy: 0.04,
      }),
      { qos: 1 },
    );
    await sensor.endAsync();

    const levelOf = (id: string) =>
      page.locator(`path.road[data-road-id="${id}"]`).getAttribute('data-level');
    await expect.poll(() => levelOf('AB'), { timeout: 20_000 }).toBe('jam');
    await expect.poll(() => levelOf('BA'), { timeout: 20_000 }).toBe('free');
    expect(await page.locator('path.road[data-road-id="AB"]').getAttribute('aria-label')).toMatch(
      /^Rue AB \(AB\): congested, score/,
    );

    const token = await page.evaluate(() => sessionStorage.getItem('cityflow.token'));
    const historyUrl = `${hub.apiUrl}/api/traffic/history?road_id=AB&bucket=1m&from=${new Date(oldMinute).toISOString()}&to=${new Date(oldMinute + 60_000).toISOString()}`;
    await expect
      .poll(
        async () =>
          (await (await fetch(historyUrl, { headers: { authorization: `Bearer ${token}` } })).json()).data
            ?.length,
        { timeout: 30_000 },
      )
      .toBe(1);

    // Keyboard selection opens the side panel with the road's live values and its last hour.
    await page.locator('path.road[data-road-id="AB"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#v-speed').textContent()).toBe('8.0 km/h');
    expect(await page.locator('#road-panel').textContent()).toContain('congested');
    await expect
      .poll(() => page.locator('#road-detail-summary').textContent())
      .toMatch(/^1 minute\(s\) with speed in the last hour, latest 21\.0 km\/h; /);
    expect(await page.locator('#road-detail svg circle.speed-dot').count()).toBe(1);
    expect(await page.locator('#busiest li').first().textContent()).toContain('Rue AB');
  });

  it('signs out: the token is dropped and the login form is back', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#login-view').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.getItem('cityflow.token'))).toBeNull();
  });

  it('ends the session when the token is revoked elsewhere (WebSocket closed 4001), without retrying', async () => {
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#app-view').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('#conn').textContent()).toBe('Live');
    const token = await page.evaluate(() => sessionStorage.getItem('cityflow.token'));
    const res = await fetch(`${hub.apiUrl}/api/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(204);
    await page.locator('#login-view').waitFor({ state: 'visible' });
    expect(await page.locator('#login-error').textContent()).toBe('Your session has ended, sign in again.');
    expect(await page.evaluate(() => sessionStorage.getItem('cityflow.token'))).toBeNull();
  });
});
