import { topics } from '@cityflow/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningHub } from '../src/hub.js';
import { type BackendDb, describeEachBackend } from './backends.js';
import { agentClient, summary, summaryBatch, testHub, until } from './helpers.js';

// On every storage backend: ingest, history and the cycles read and write what the storage layout holds.
describeEachBackend('data API and WebSocket, fed by a real MQTT agent', (_backend, backendDb) => {
  let target: BackendDb;
  let hub: RunningHub;
  let token: string;
  let agent: Awaited<ReturnType<typeof agentClient>>;
  const logs: string[] = [];

  beforeAll(async () => {
    target = await backendDb();
    hub = await testHub({
      databaseUrl: target.url,
      logLevel: 'info',
      logStream: { write: (l: string) => void logs.push(l) },
    });
    agent = await agentClient(hub, await hub.addAgent('A1'));
    const r = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: 'v@city.test', password: 'password123' },
    });
    token = r.json().token;
  });
  afterAll(async () => {
    await agent?.client.endAsync();
    await hub?.stop();
    await target?.drop();
  });
  const get = (url: string) =>
    hub.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('history: buckets with count-weighted speeds over non-null speeds, samples incl. null speeds, [from, to)', async () => {
    // Two sensors-minutes in 08:00-08:05 on R00-10 and one on 08:05 (excluded by to=08:05).
    const items = [
      summary(1, 'R00-10', '2026-03-02T08:00:00Z', { count: 10, null_speed_count: 2, speed_mean: 40 }),
      summary(2, 'R00-10', '2026-03-02T08:01:00Z', {
        count: 5,
        null_speed_count: 1,
        speed_mean: 20,
        flow_mean: 300,
      }),
      summary(3, 'R00-10', '2026-03-02T08:02:00Z', {
        count: 4,
        null_speed_count: 4,
        speed_mean: null,
        speed_min: null,
        speed_max: null,
      }),
      summary(4, 'R00-10', '2026-03-02T08:05:00Z', { count: 7 }),
    ];
    await agent.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(summaryBatch('A1', items)),
      { qos: 1 },
    );
    await until(() => agent.acks.some((a) => a.watermark === 4));
    const r = await get(
      '/api/traffic/history?road_id=R00-10&from=2026-03-02T08:00:00Z&to=2026-03-02T08:05:00Z&bucket=5m',
    );
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.data).toHaveLength(1);
    const b = body.data[0];
    expect(b.ts).toBe('2026-03-02T08:00:00.000Z');
    expect(b.samples).toBe(19);
    // (40*8 + 20*4) / 12
    expect(b.speed_kmh).toBeCloseTo(400 / 12, 6);
    expect(b.flow_rate).toBeCloseTo((600 + 300 + 600) / 3, 6);
    const m1 = await get(
      '/api/traffic/history?road_id=R00-10&from=2026-03-02T08:00:00Z&to=2026-03-02T08:10:00Z&bucket=1m&limit=2',
    );
    const p1 = m1.json();
    expect(p1.data.map((x: { ts: string }) => x.ts)).toEqual([
      '2026-03-02T08:05:00.000Z',
      '2026-03-02T08:02:00.000Z',
    ]);
    expect(p1.has_more).toBe(true);
    expect(p1.data[1].speed_kmh).toBeNull();
    const p2 = (
      await get(
        `/api/traffic/history?road_id=R00-10&from=2026-03-02T08:00:00Z&to=2026-03-02T08:10:00Z&bucket=1m&limit=2&before=${p1.next_cursor}`,
      )
    ).json();
    expect(p2.data.map((x: { ts: string }) => x.ts)).toEqual([
      '2026-03-02T08:01:00.000Z',
      '2026-03-02T08:00:00.000Z',
    ]);
    expect(p2.has_more).toBe(false);
    expect(p2.next_cursor).toBeNull();
    expect(
      (await get('/api/traffic/history?from=2026-03-02T08:00:00Z&to=2026-03-02T08:10:00Z&bucket=7m'))
        .statusCode,
    ).toBe(400);
    expect(
      (await get('/api/traffic/history?from=2026-03-02T09:00:00Z&to=2026-03-02T08:10:00Z')).statusCode,
    ).toBe(400);
  });

  it('live snapshots reach /api/traffic/live (paginated), /api/roads and a WebSocket client', async () => {
    const ws = new WebSocket(`${hub.apiUrl.replace('http', 'ws')}/ws/live?token=${token}`);
    const msgs: Array<{ type: string; data: { road_id?: string; speed_kmh?: number; roads?: unknown } }> = [];
    ws.on('message', (m) => msgs.push(JSON.parse(m.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'subscribe', roads: ['R00-10', 'R10-00'] }));
    // the server acknowledges the subscription once it applies: no sleep needed
    const ack = await until(() => msgs.find((m) => m.type === 'subscribed'));
    expect(ack.data.roads).toEqual(['R00-10', 'R10-00']);
    const ts = new Date().toISOString();
    const road = (id: string, speed: number) => ({
      road_id: id,
      ts,
      speed_kmh: speed,
      flow_rate: 500,
      occupancy: 0.1,
      congestion_score: 0.2,
      sensors: 1,
      samples: 3,
    });
    const snap = {
      v: 1,
      agent_id: 'A1',
      stream: 'live',
      ts,
      roads: [road('R00-10', 33), road('R10-00', 44), road('R00-01', 22)],
    };
    await agent.client.publishAsync(topics.uplink('A1', 'live'), JSON.stringify(snap), { qos: 0 });
    // A later snapshot is a sentinel: messages on one socket keep their order, so once it is here,
    // anything the first snapshot would have sent (R00-01 if not filtered) is here too.
    await agent.client.publishAsync(
      topics.uplink('A1', 'live'),
      JSON.stringify({
        ...snap,
        roads: [{ ...road('R00-10', 34), ts: new Date(Date.parse(ts) + 1).toISOString() }],
      }),
      { qos: 0 },
    );
    await until(() => msgs.some((m) => m.type === 'traffic' && m.data.speed_kmh === 34));
    const traffic = msgs.filter((m) => m.type === 'traffic').map((m) => m.data.road_id);
    expect(traffic.sort()).toEqual(['R00-10', 'R00-10', 'R10-00']); // R00-01 filtered by the subscription
    ws.close();

    const page1 = (await get('/api/traffic/live?limit=2')).json();
    expect(page1.data).toHaveLength(2);
    expect(page1.has_more).toBe(true);
    const page2 = (await get(`/api/traffic/live?limit=2&before=${page1.next_cursor}`)).json();
    expect(page2.data).toHaveLength(1);
    const all = [...page1.data, ...page2.data].map((x: { road_id: string }) => x.road_id).sort();
    expect(all).toEqual(['R00-01', 'R00-10', 'R10-00']);
    expect((await get('/api/traffic/live?road_id=R10-00')).json().data[0]).toMatchObject({
      speed_kmh: 44,
      sensors: 1,
    });
    expect((await get('/api/traffic/live?before=garbage')).statusCode).toBe(400);

    const roads = (await get('/api/roads')).json();
    const f = roads.features.find(
      (x: { properties: { road_id?: string } }) => x.properties.road_id === 'R00-10',
    );
    expect(f.properties.live.speed_kmh).toBe(34);
    // the WebSocket token never reaches the logs
    expect(logs.join('')).not.toContain(token);
    expect(logs.join('')).toContain('[REDACTED]');
  });

  it('a WebSocket without a valid token is refused', async () => {
    const ws = new WebSocket(`${hub.apiUrl.replace('http', 'ws')}/ws/live?token=nope`);
    const status = await new Promise<number>((r) =>
      ws.on('unexpected-response', (_req, res) => r(res.statusCode ?? 0)),
    );
    expect(status).toBe(401);
  });

  it('agents list online state and health; /health and /metrics answer', async () => {
    const now = new Date().toISOString();
    await agent.client.publishAsync(
      topics.status('A1'),
      JSON.stringify({ v: 1, agent_id: 'A1', state: 'online', ts: now, version: '0.9.0' }),
      { qos: 1, retain: true },
    );
    const health = {
      v: 1,
      agent_id: 'A1',
      stream: 'health',
      ts: now,
      version: '0.9.1',
      uptime_s: 5,
      rss_bytes: 1,
      backlog: 17,
      oldest_unsent_age_s: 3,
      readings_total: 1,
      quarantined_total: 0,
      dropped: {},
      clock: { mode: 'wall', synced: true, skew_s: 0.25 },
    };
    await agent.client.publishAsync(topics.uplink('A1', 'health'), JSON.stringify(health), { qos: 0 });
    const a = await until(async () => {
      const x = (await get('/api/agents')).json().data.find((r: { agent_id: string }) => r.agent_id === 'A1');
      // status and health are separate streams, handled concurrently on PostgreSQL: wait for both
      return x?.backlog === 17 && x.online && x;
    });
    expect(a).toMatchObject({ online: true, backlog: 17, clock_skew_s: 0.25, version: '0.9.1' });
    expect(a.last_seen).not.toBeNull();
    // `before` may be an RFC 3339 time on every list: for agents, those last seen before it
    const later = await get(`/api/agents?before=${new Date(Date.now() + 60_000).toISOString()}&limit=1`);
    expect(later.statusCode).toBe(200);
    expect(later.json().data.map((r: { agent_id: string }) => r.agent_id)).toEqual(['A1']);
    const earlier = await get('/api/agents?before=2000-01-01T00:00:00Z');
    expect(earlier.statusCode).toBe(200);
    expect(earlier.json()).toEqual({ data: [], next_cursor: null, has_more: false });
    expect((await get('/api/agents?before=garbage')).statusCode).toBe(400);
    expect((await hub.app.inject({ url: '/health' })).json().status).toBe('ok');
    const metrics = (await hub.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/cityflow_hub_ingest_items_total\{stream="summary",outcome="stored"\} 4/);
    // the agent's last will marks it offline
    agent.client.stream.destroy();
    await until(
      async () =>
        (await get('/api/agents')).json().data.find((r: { agent_id: string }) => r.agent_id === 'A1')
          ?.online === false,
    );
  });

  it('serves the OpenAPI document at /docs', async () => {
    const r = await hub.app.inject({ url: '/docs/json' });
    expect(r.statusCode).toBe(200);
    expect(Object.keys(r.json().paths)).toEqual(
      expect.arrayContaining(['/api/traffic/live', '/api/predictions', '/api/auth/login']),
    );
  });
});
