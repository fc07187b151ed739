import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningHub } from '../src/hub.js';
import { upsertIncident } from '../src/store/incidents.js';
import { upsertRoadLive } from '../src/store/traffic.js';
import { gridNetwork, testHub, until } from './helpers.js';

const T0 = Date.UTC(2026, 2, 2, 7, 0);
const ROAD = 'R10-20';
const FEEDER = 'R00-10';
const roads = (gridNetwork().features as Array<{ properties: { kind: string; road_id?: string } }>)
  .filter((f) => f.properties.kind === 'road')
  .map((f) => f.properties.road_id!);

describe('incidents: detected by the cycle, served by the API and the WebSocket, named on advice', () => {
  let hub: RunningHub;
  let token: string;
  const get = async (url: string, auth = true) =>
    hub.app.inject({ url, headers: auth ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    hub = await testHub({ clock: 'data' });
    token = (
      await hub.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email: 'i@city.test', password: 'password123' },
      })
    ).json().token;
  });
  afterAll(async () => hub?.stop());

  /** One cycle at minute m with every road at 42 km/h, except `over`. */
  const cycle = async (
    m: number,
    over: Record<string, { speed: number | null; flow: number; occ: number }> = {},
  ) => {
    const ts = new Date(T0 + m * 60_000).toISOString();
    await upsertRoadLive(
      hub.db,
      'A1',
      roads.map((r) => ({
        road_id: r,
        ts,
        speed_kmh: over[r] ? over[r]!.speed : 42,
        flow_rate: over[r]?.flow ?? 400,
        occupancy: over[r]?.occ ?? 0.05,
        congestion_score: null,
        sensors: 1,
        samples: 10,
      })),
    );
    hub.clock.observe(T0 + m * 60_000);
    expect(await hub.cycles.runOnce(T0 + m * 60_000)).toBe(true);
  };

  it('a road that stops passing vehicles while its feeder fills: incident, WS frame, advice with its id, cleared', async () => {
    const ws = new WebSocket(`${hub.apiUrl.replace('http', 'ws')}/ws/live?token=${token}`);
    const frames: Array<{ type: string; data: Record<string, unknown> }> = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    for (let m = 0; m < 12; m++) await cycle(m);
    expect((await get('/api/incidents?active=true')).json().data).toHaveLength(0);
    const blocked = { [ROAD]: { speed: null, flow: 0, occ: 0 }, [FEEDER]: { speed: 5, flow: 200, occ: 0.6 } };
    await cycle(12, blocked);
    await cycle(13, blocked);
    const active = (await get('/api/incidents?active=true')).json();
    expect(active.data).toHaveLength(1);
    const inc = active.data[0];
    expect(inc).toMatchObject({ road_id: ROAD, cleared_at: null });
    expect(inc.detected_at).toBe(new Date(T0 + 13 * 60_000).toISOString());
    expect(inc.confidence).toBeGreaterThanOrEqual(0.9);
    expect(inc.reason).toMatch(/upstream/);
    await until(() => frames.some((f) => f.type === 'incident' && f.data.incident_id === inc.incident_id));
    const advice = (await get('/api/reroutes/recommended')).json().data;
    const mine = advice.find((r: { route_id: string }) => r.route_id === ROAD);
    expect(mine?.incident_id).toBe(inc.incident_id);
    // traffic flows again: cleared after two cycles of recovery, advice ends at once
    await cycle(14);
    await cycle(15);
    expect((await get('/api/incidents?active=true')).json().data).toHaveLength(0);
    const all = (await get('/api/incidents')).json().data;
    expect(all[0].cleared_at).toBe(new Date(T0 + 15 * 60_000).toISOString());
    await until(() => frames.some((f) => f.type === 'incident' && f.data.cleared_at !== null));
    const after = (await get('/api/reroutes/recommended')).json().data;
    expect(after.find((r: { route_id: string }) => r.route_id === ROAD)).toBeUndefined();
    ws.close();
  });

  it('paginates newest first with a cursor, needs a token, rejects a bad cursor', async () => {
    for (let i = 0; i < 5; i++)
      await upsertIncident(hub.db, {
        incident_id: `inc-p${i}`,
        road_id: 'R00-01',
        detected_at: new Date(T0 - (i + 1) * 3600_000).toISOString(),
        cleared_at: new Date(T0 - i * 3600_000).toISOString(),
        confidence: 0.6,
        reason: 'test',
      });
    const first = (await get('/api/incidents?limit=2')).json();
    expect(first.data).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const second = (await get(`/api/incidents?limit=2&before=${first.next_cursor}`)).json();
    expect(Date.parse(second.data[0].detected_at)).toBeLessThan(Date.parse(first.data[1].detected_at));
    expect((await get('/api/incidents', false)).statusCode).toBe(401);
    expect((await get('/api/incidents?before=garbage!')).statusCode).toBe(400);
  });
});
