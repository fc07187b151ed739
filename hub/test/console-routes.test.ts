import { KPI_WINDOW_MIN, congestionScore, topics } from '@cityflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { agentClient, gridNetwork, summary, summaryBatch, testHub, until } from './helpers.js';

/** GET /api/kpis and GET /api/traffic/history/network, fed by a real MQTT agent client. */
describe('console endpoints: city KPIs and network-wide history', () => {
  let hub: RunningHub;
  let token: string;
  let agent: Awaited<ReturnType<typeof agentClient>>;
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  const at = (minsAgo: number) => new Date(minute - minsAgo * 60_000).toISOString();

  beforeAll(async () => {
    hub = await testHub({ openRegistration: true });
    agent = await agentClient(hub, await hub.addAgent('A1'));
    await hub.addAgent('A2');
    await hub.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: 'v@c.test', password: 'password123' },
    });
    const reg = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'v@c.test', password: 'password123' },
    });
    token = reg.json().token;
  });
  afterAll(async () => {
    await agent?.client.endAsync();
    await hub?.stop();
  });
  const get = (url: string) =>
    hub.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('needs a token', async () => {
    expect((await hub.app.inject({ method: 'GET', url: '/api/kpis' })).statusCode).toBe(401);
    expect(
      (
        await hub.app.inject({
          method: 'GET',
          url: `/api/traffic/history/network?from=${at(60)}&to=${at(0)}`,
        })
      ).statusCode,
    ).toBe(401);
  });

  it('computes the KPIs from the database: readings/s over settled minutes, error rate, agents online', async () => {
    // Inside the window [now-2-KPI_WINDOW_MIN, now-2 min): two sensor-minutes of 10 and 20 readings.
    // Closed 20, 30 and 40 s before sending, and one by a clock a month behind: the median ignores it.
    const closed = (sAgo: number) => new Date(Date.now() - sAgo * 1000).toISOString();
    await agent.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(
        summaryBatch('A1', [
          summary(1, 'R00-10', at(3), { count: 10, closed_at: closed(20) }),
          summary(2, 'R10-00', at(4), { count: 20, closed_at: closed(30) }),
          // Too recent (not settled) and too old: outside the rate window.
          summary(3, 'R00-10', at(0), { count: 500, closed_at: closed(40) }),
          summary(4, 'R00-10', at(30), { count: 700, closed_at: closed(30 * 86_400) }),
          // An older agent's summary (no closed_at) is not part of the latency.
          summary(5, 'R10-00', at(30), { count: 3 }),
        ]),
      ),
      { qos: 1 },
    );
    await until(() => agent.acks.some((a) => a.watermark === 5));
    await agent.client.publishAsync(
      topics.status('A1'),
      JSON.stringify({
        v: 1,
        agent_id: 'A1',
        state: 'online',
        ts: new Date().toISOString(),
        version: '1.0.0',
      }),
      { qos: 1, retain: true },
    );
    // A broken uplink message: quarantined, and counted in the error rate.
    await agent.client.publishAsync(topics.uplink('A1', 'summary'), '{not json', { qos: 1 });
    const k = await until(async () => {
      const body = (await get('/api/kpis')).json();
      return body.error_rate > 0 && body.agents_online === 1 ? body : null;
    });
    expect(k.window_min).toBe(KPI_WINDOW_MIN);
    expect(k.clock).toBe('wall');
    expect(k.messages_per_s).toBeCloseTo(30 / (KPI_WINDOW_MIN * 60), 9);
    expect(k.error_rate).toBeCloseTo(1 / 6, 9);
    // median of ~30 and ~40 s (+ the time to store them), where the mean would be ~7.5 days
    expect(k.ingest_latency_s).toBeGreaterThanOrEqual(35);
    expect(k.ingest_latency_s).toBeLessThan(65);
    expect(k.agents_total).toBe(2);
    expect(k.agents_online).toBe(1);
    expect(k.mean_forecast_congestion).toBeNull();
    expect(k.co2_gain_kg_per_h).toBe(0);
  });

  it('serves every road of the network with aligned speed and protocol-score arrays in one answer', async () => {
    const from = new Date(minute - 60 * 60_000).toISOString();
    const to = new Date(minute).toISOString();
    const r = await get(`/api/traffic/history/network?from=${from}&to=${to}&bucket=15m`);
    expect(r.statusCode).toBe(200);
    const h = r.json();
    expect(h.bucket).toBe('15m');
    expect(h.ts.length).toBeGreaterThanOrEqual(4);
    expect(h.ts.length).toBeLessThanOrEqual(5);
    // Every road of the network appears, with or without data.
    const roadIds = gridNetwork()
      .features.map((f) => (f as { properties: { kind: string; road_id?: string } }).properties)
      .filter((p) => p.kind === 'road')
      .map((p) => p.road_id);
    expect(Object.keys(h.roads).sort()).toEqual(roadIds.sort());
    const i = h.ts.findIndex(
      (t: string) => Date.parse(t) <= Date.parse(at(30)) && Date.parse(at(30)) < Date.parse(t) + 900_000,
    );
    expect(h.roads['R00-10'].speed_kmh[i]).toBe(40);
    expect(h.roads['R00-10'].congestion_score[i]).toBeCloseTo(
      congestionScore({ speedKmh: 40, occupancy: 0.1, freeFlowKmh: 50 })!,
      3,
    );
    expect(h.roads['R01-11'].speed_kmh.every((v: number | null) => v === null)).toBe(true);
  });

  it('refuses bad windows: to before from, and more than the bucket limit', async () => {
    expect((await get(`/api/traffic/history/network?from=${at(0)}&to=${at(10)}`)).statusCode).toBe(400);
    expect(
      (await get(`/api/traffic/history/network?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=1m`))
        .statusCode,
    ).toBe(400);
    expect((await get('/api/traffic/history/network?from=yesterday&to=now')).statusCode).toBe(400);
  });
});

describe('KPIs under --clock data', () => {
  let hub: RunningHub;
  afterAll(async () => {
    await hub?.stop();
  });

  it("measures the ingest latency in wall seconds from the agent's closed_at, whatever the data time", async () => {
    hub = await testHub({ clock: 'data' });
    const agent = await agentClient(hub, await hub.addAgent('A1'));
    // A replay of 2019: minutes are data time; the agent closed them 12 s (wall) before sending.
    const closedAt = new Date(Date.now() - 12_000).toISOString();
    await agent.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(
        summaryBatch('A1', [
          summary(1, 'R00-10', '2019-05-06T08:00:00Z', { closed_at: closedAt }),
          summary(2, 'R10-00', '2019-05-06T08:00:00Z', { closed_at: closedAt }),
        ]),
      ),
      { qos: 1 },
    );
    await until(() => agent.acks.some((a) => a.watermark === 2));
    // A minute first stored without a close time keeps none when a late summary brings one: that close
    // is later than the row's storage time and would count as a negative latency.
    const late = new Date(Date.now() + 60_000).toISOString();
    for (const [seq, over] of [
      [3, {}],
      [4, { closed_at: late, count: 4 }],
    ] as const) {
      await agent.client.publishAsync(
        topics.uplink('A1', 'summary'),
        JSON.stringify(summaryBatch('A1', [summary(seq, 'R00-10', '2019-05-06T08:01:00Z', over)])),
        { qos: 1 },
      );
      await until(() => agent.acks.some((a) => a.watermark === seq));
    }
    const merged = await hub.db.query<{ count: number; closed_at: Date | null }>(
      "SELECT count, closed_at FROM traffic_minute WHERE minute = '2019-05-06T08:01:00Z'",
    );
    expect(merged.rows).toEqual([{ count: 14, closed_at: null }]);
    const credentials = { email: 'd@c.test', password: 'password123' };
    await hub.app.inject({ method: 'POST', url: '/api/auth/register', payload: credentials });
    const login = await hub.app.inject({ method: 'POST', url: '/api/auth/login', payload: credentials });
    const headers = { authorization: `Bearer ${login.json().token}` };
    const k = (await hub.app.inject({ method: 'GET', url: '/api/kpis', headers })).json();
    expect(k.clock).toBe('data');
    expect(k.ingest_latency_s).toBeGreaterThanOrEqual(12);
    expect(k.ingest_latency_s).toBeLessThan(40);
    await agent.client.endAsync();
  });
});
