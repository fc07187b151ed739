import { loadNetwork, topics } from '@cityflow/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { insertSummaries, storeSequenced } from '../src/store/ingest-store.js';
import { upsertRoadLive } from '../src/store/traffic.js';
import { type BackendDb, describeEachBackend } from './backends.js';
import { agentClient, gridNetwork, summary, testHub, until } from './helpers.js';

const T0 = Date.UTC(2026, 2, 2, 7, 0);
const CONGESTED = 'R10-20';

// On every storage backend: ingest, history and the cycles read and write what the storage layout holds.
describeEachBackend('prediction and reroute cycle', (_backend, backendDb) => {
  let target: BackendDb;
  let hub: RunningHub;
  let token: string;
  beforeAll(async () => {
    target = await backendDb();
    hub = await testHub({ databaseUrl: target.url, clock: 'data' });
    // 60 minutes of data for every road: free flow at 45 km/h, except R10-20 crawling at 6 km/h.
    const roads = (gridNetwork().features as Array<{ properties: { kind: string; road_id?: string } }>)
      .filter((f) => f.properties.kind === 'road')
      .map((f) => f.properties.road_id!);
    let seq = 0;
    const items = [];
    for (let m = 0; m < 60; m++)
      for (const r of roads) {
        const v = r === CONGESTED ? 6 : 45;
        items.push(
          summary(++seq, r, new Date(T0 + m * 60_000).toISOString(), {
            speed_mean: v,
            speed_min: v,
            speed_max: v,
            null_speed_count: 0,
            flow_mean: 600,
          }),
        );
      }
    await storeSequenced(hub.db, {
      agentId: 'A1',
      stream: 'summary',
      items,
      skipped: [],
      check: () => null,
      insert: (tx, xs) => insertSummaries(tx, 'A1', xs),
    });
    const ts = new Date(T0 + 60 * 60_000).toISOString();
    await upsertRoadLive(
      hub.db,
      'A1',
      roads.map((r) => ({
        road_id: r,
        ts,
        speed_kmh: r === CONGESTED ? 6 : 45,
        flow_rate: 300, // per lane (the grid roads have 2)
        occupancy: 0.1,
        congestion_score: null,
        sensors: 1,
        samples: 10,
      })),
    );
    token = (
      await hub.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email: 'c@city.test', password: 'password123' },
      })
    ).json().token;
  });
  afterAll(async () => {
    await hub?.stop();
    await target?.drop();
  });

  it('forecasts every road at 15/30/60 with the network model and recommends a local detour', async () => {
    const agent = await agentClient(hub, await hub.addAgent('A1'));
    // the data were written behind ingest's back: move the data clock as ingest would
    hub.clock.observe(T0 + 64 * 60_000);
    expect(await hub.cycles.runOnce(T0 + 64 * 60_000)).toBe(true);
    const preds = await hub.app.inject({
      url: '/api/predictions?horizon=30&limit=200',
      headers: { authorization: `Bearer ${token}` },
    });
    const data = preds.json().data as Array<{
      road_id: string;
      model_version: string;
      speed_kmh: number;
      congestion_score: number;
      target_ts: string;
    }>;
    expect(data.length).toBe(14);
    expect(new Set(data.map((p) => p.model_version))).toEqual(new Set(['cityflow-network']));
    const jam = data.find((p) => p.road_id === CONGESTED)!;
    expect(jam.speed_kmh).toBeLessThan(15);
    expect(jam.congestion_score).toBeGreaterThanOrEqual(0.5);
    expect(jam.target_ts).toBe(new Date(T0 + 94 * 60_000).toISOString());

    const get = async (url: string) =>
      (await hub.app.inject({ url, headers: { authorization: `Bearer ${token}` } })).json();
    // congestion must hold two cycles before advice starts (no incident: the road was always slow)
    expect((await get('/api/reroutes/recommended')).data).toHaveLength(0);
    hub.clock.observe(T0 + 65 * 60_000);
    expect(await hub.cycles.runOnce(T0 + 65 * 60_000)).toBe(true);
    const reroutes = (await get('/api/reroutes/recommended')).data;
    expect(reroutes).toHaveLength(1);
    const r = reroutes[0];
    expect(r.route_id).toBe(CONGESTED);
    expect(r.path).not.toContain(CONGESTED);
    expect(r.incident_id).toBeNull();
    const grid = loadNetwork(gridNetwork());
    if (!grid.ok) throw new Error(grid.errors.join());
    expect(grid.value.roads.get(r.path[0])!.from_node).toBe(r.decision_node);
    expect(r.eta_gain_min).toBeGreaterThan(0.5);
    expect(r.diverted_share).toBeGreaterThan(0);
    expect(r.diverted_share).toBeLessThanOrEqual(1);
    // crawling at 6 km/h burns more than the 45 km/h detour: a positive CO2 gain
    expect(r.co2_gain_g_per_vehicle).toBeGreaterThan(0);
    expect(r.estimated_co2_gain).toBeGreaterThan(0);
    // advice reaches the agent whose road it is, retained
    const advice = await until(() =>
      agent.received.find(
        (m) => m.topic === topics.advice('A1') && (m.payload as { items: unknown[] }).items.length > 0,
      ),
    );
    expect((advice.payload as { items: Array<{ route_id: string }> }).items[0]!.route_id).toBe(CONGESTED);
    // the next cycle re-issues the advice: still one current recommendation for the road
    hub.clock.observe(T0 + 66 * 60_000);
    expect(await hub.cycles.runOnce(T0 + 66 * 60_000)).toBe(true);
    const again = await get('/api/reroutes/recommended');
    expect(again.data).toHaveLength(1);
    expect(again.data[0].ts).toBe(new Date(T0 + 66 * 60_000).toISOString());
    await agent.client.endAsync();
  });
});
