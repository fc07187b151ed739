import { topics } from '@cityflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { agentClient, summary, summaryBatch, testHub, until } from './helpers.js';

/**
 * Issue 9, "an agent speaks only for its own roads": black-box over real MQTT (embedded broker, a
 * real mqtt.js agent) against a real hub. In the grid, A1 covers the roads leaving x = 0, A2 the
 * roads leaving x >= 2 (R20-10, R21-11, ...).
 */
const minuteAgo = (n: number) =>
  new Date(Math.floor(Date.now() / 60_000) * 60_000 - n * 60_000).toISOString();

function forecast(seq: number, roadId: string, over: Record<string, unknown> = {}) {
  const ts = minuteAgo(1);
  return {
    seq,
    ts,
    target_ts: new Date(Date.parse(ts) + 30 * 60_000).toISOString(),
    road_id: roadId,
    horizon_min: 30,
    speed_kmh: 30,
    speed_lo_kmh: 20,
    speed_hi_kmh: 40,
    congestion_score: 0.2,
    confidence: 0.8,
    model_version: 'cityflow-edge',
    ...over,
  };
}

function liveSnapshot(agentId: string, roads: Array<{ road_id: string; ts: string; speed_kmh: number }>) {
  return {
    v: 1,
    agent_id: agentId,
    stream: 'live',
    ts: new Date().toISOString(),
    roads: roads.map((r) => ({
      ...r,
      flow_rate: 500,
      occupancy: 0.1,
      congestion_score: 0.1,
      sensors: 1,
      samples: 5,
    })),
  };
}

describe('ingest: an agent speaks only for its own roads (wall clock)', () => {
  let hub: RunningHub;
  let a1: Awaited<ReturnType<typeof agentClient>>;

  beforeAll(async () => {
    hub = await testHub();
    a1 = await agentClient(hub, await hub.addAgent('A1'));
  });
  afterAll(async () => {
    await a1?.client.endAsync();
    await hub?.stop();
  });

  const sendSummaries = (items: unknown[]) =>
    a1.client.publishAsync(topics.uplink('A1', 'summary'), JSON.stringify(summaryBatch('A1', items)), {
      qos: 1,
    });
  const ackOf = (stream: string, watermark: number) =>
    until(() => a1.acks.find((a) => a.stream === stream && a.watermark === watermark), 10_000);
  const quarantined = async (code: string) =>
    (await hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM quarantine WHERE code = $1', [code]))
      .rows[0]!.n;

  it("refuses a live snapshot of another agent's road and one dated 2099; a 2099 snapshot pins nothing", async () => {
    const now = new Date().toISOString();
    await a1.client.publishAsync(
      topics.uplink('A1', 'live'),
      JSON.stringify(
        liveSnapshot('A1', [
          { road_id: 'R20-10', ts: now, speed_kmh: 5 }, // A2's road
          { road_id: 'R00-10', ts: '2099-01-01T00:00:00Z', speed_kmh: 5 }, // forged future
        ]),
      ),
      { qos: 1 },
    );
    await until(
      async () => (await quarantined('CF_TS_FUTURE')) > 0 || (await quarantined('CF_NOT_AUTHORIZED')) > 0,
    );
    await hub.ingest.idle();
    const rows = await hub.db.query<{ road_id: string }>('SELECT road_id FROM road_live');
    expect(rows.rows).toEqual([]);
    // a current snapshot of A1's own road is taken (nothing pinned it)
    await a1.client.publishAsync(
      topics.uplink('A1', 'live'),
      JSON.stringify(liveSnapshot('A1', [{ road_id: 'R00-10', ts: now, speed_kmh: 42 }])),
      { qos: 1 },
    );
    const live = await until(async () => {
      const r = await hub.db.query<{ speed_kmh: number }>(
        "SELECT speed_kmh FROM road_live WHERE road_id = 'R00-10'",
      );
      return r.rows[0];
    });
    expect(live.speed_kmh).toBe(42);
  });

  it("keeps a live snapshot's per-loop detail only for the agent's own loops on that road", async () => {
    const ts = new Date().toISOString();
    const [road] = liveSnapshot('A1', [{ road_id: 'R00-10', ts, speed_kmh: 30 }]).roads;
    const loop = (sensor_id: string) => ({ sensor_id, speed_kmh: 30, flow_rate: 400, occupancy: 0.1 });
    const snap = {
      ...liveSnapshot('A1', []),
      // its own loop; A2's loop on A2's road; A1's loop but on another road
      roads: [{ ...road, by_sensor: [loop('S-R00-10'), loop('S-R20-10'), loop('S-R00-01')] }],
    };
    await a1.client.publishAsync(topics.uplink('A1', 'live'), JSON.stringify(snap), { qos: 1 });
    const row = await until(async () => {
      const r = await hub.db.query<{ by_sensor: Array<{ sensor_id: string }> | null; speed_kmh: number }>(
        "SELECT by_sensor, speed_kmh FROM road_live WHERE road_id = 'R00-10' AND speed_kmh = 30",
      );
      return r.rows[0];
    });
    expect(row.by_sensor?.map((l) => l.sensor_id)).toEqual(['S-R00-10']);
    const refused = await hub.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM quarantine WHERE message LIKE '%by_sensor: 2 loop(s) not of agent A1 on R00-10%'",
    );
    expect(refused.rows[0]!.n).toBe(1);
  });

  it('refuses a forecast labelled cityflow-network and one for a road outside the slice, item by item', async () => {
    const items = [
      forecast(1, 'R00-10', { model_version: 'cityflow-network', congestion_score: 1 }),
      forecast(2, 'R20-10'), // A2's road
      forecast(3, 'R00-10'),
    ];
    await a1.client.publishAsync(
      topics.uplink('A1', 'forecast'),
      JSON.stringify({ ...summaryBatch('A1', items), stream: 'forecast' }),
      { qos: 1 },
    );
    const ack = await ackOf('forecast', 3);
    expect(ack.rejected).toEqual([
      expect.objectContaining({
        seq: 1,
        code: 'CF_INVALID_MESSAGE',
        message: expect.stringMatching(/model_version/),
      }),
      expect.objectContaining({ seq: 2, code: 'CF_NOT_AUTHORIZED' }),
    ]);
    const p = await hub.db.query<{ road_id: string; model_version: string }>(
      'SELECT road_id, model_version FROM predictions WHERE agent_id = $1',
      ['A1'],
    );
    expect(p.rows).toEqual([{ road_id: 'R00-10', model_version: 'cityflow-edge' }]);
  });

  it('a speed_mean of 1.7e308 or a count of 2^31 is refused on its own; the stream moves on; cycles run', async () => {
    const items = [
      summary(1, 'R00-10', minuteAgo(10), { speed_mean: 1.7e308, speed_max: 1.7e308 }),
      summary(2, 'R00-10', minuteAgo(9), { count: 2 ** 31 }),
      summary(3, 'R00-10', minuteAgo(8)),
    ];
    await sendSummaries(items);
    const ack = await ackOf('summary', 3);
    expect(ack.rejected?.map((r) => [r.seq, r.code])).toEqual([
      [1, 'CF_INVALID_MESSAGE'],
      [2, 'CF_INVALID_MESSAGE'],
    ]);
    const rows = await hub.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM traffic_minute WHERE agent_id = 'A1'",
    );
    expect(rows.rows[0]!.n).toBe(1);
    expect(await hub.cycles.runOnce()).toBe(true);
    await sendSummaries([summary(4, 'R00-10', minuteAgo(7))]);
    await ackOf('summary', 4);
  });

  it('refuses a summary minute that is not minute-aligned, a sensor outside the network, one on the wrong road', async () => {
    const aligned = minuteAgo(20);
    const items = [
      summary(5, 'R00-10', new Date(Date.parse(aligned) + 30_000).toISOString()),
      summary(6, 'R00-10', aligned, { sensor_id: 'S-NOWHERE' }),
      summary(7, 'R01-11', aligned, { sensor_id: 'S-R00-10' }), // S-R00-10 is on R00-10
      summary(8, 'R00-10', aligned),
    ];
    await sendSummaries(items);
    const ack = await ackOf('summary', 8);
    expect(ack.rejected?.map((r) => [r.seq, r.code])).toEqual([
      [5, 'CF_INVALID_MESSAGE'],
      [6, 'CF_UNKNOWN_SENSOR'],
      [7, 'CF_REJECTED_BY_HUB'],
    ]);
    expect(ack.rejected?.[0]?.message).toMatch(/start of a minute/);
  });

  it('refuses a health message whose backlog overflows int4; the agent row is untouched', async () => {
    await a1.client.publishAsync(
      topics.uplink('A1', 'health'),
      JSON.stringify({
        v: 1,
        agent_id: 'A1',
        stream: 'health',
        ts: new Date().toISOString(),
        version: 'x',
        uptime_s: 1,
        rss_bytes: 1,
        backlog: 2 ** 31,
        oldest_unsent_age_s: null,
        readings_total: 0,
        quarantined_total: 0,
        dropped: {},
        clock: { mode: 'wall', synced: true, skew_s: 0 },
      }),
      { qos: 1 },
    );
    await until(async () => {
      const r = await hub.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM quarantine WHERE stream = 'health' AND message LIKE '%backlog%'",
      );
      return r.rows[0]!.n > 0;
    });
    const a = await hub.db.query<{ backlog: number | null }>(
      "SELECT backlog FROM agents WHERE agent_id = 'A1'",
    );
    expect(a.rows[0]!.backlog).toBeNull();
  });
});

describe('ingest on the data clock: bounded ahead of it, and one forged item cannot move it', () => {
  let hub: RunningHub;
  let a1: Awaited<ReturnType<typeof agentClient>>;
  beforeAll(async () => {
    hub = await testHub({ clock: 'data' });
    a1 = await agentClient(hub, await hub.addAgent('A1'));
  });
  afterAll(async () => {
    await a1?.client.endAsync();
    await hub?.stop();
  });

  it('a replay drives the clock; a 2099 item is refused; one forged item inside the margin does not move it', async () => {
    const T = Date.UTC(2026, 2, 2, 8, 0);
    const at = (m: number) => new Date(T + m * 60_000).toISOString();
    const send = (items: unknown[]) =>
      a1.client.publishAsync(topics.uplink('A1', 'summary'), JSON.stringify(summaryBatch('A1', items)), {
        qos: 1,
      });
    await send([summary(1, 'R00-10', at(0)), summary(2, 'R00-10', at(1)), summary(3, 'R00-10', at(2))]);
    await until(() => a1.acks.some((a) => a.watermark === 3));
    await until(() => hub.clock.now() >= T + 2 * 60_000);
    const before = hub.clock.now();
    expect(before).toBeLessThan(T + 4 * 60_000); // the replay's time, not the wall clock
    // seq 4: forged 2099 (refused); seq 5: forged 3 h ahead (inside the 6 h margin, accepted alone)
    await send([summary(4, 'R00-10', '2099-01-01T00:00:00Z'), summary(5, 'R00-10', at(180))]);
    const ack = await until(() => a1.acks.find((a) => a.watermark === 5));
    expect(ack.rejected).toEqual([expect.objectContaining({ seq: 4, code: 'CF_TS_FUTURE' })]);
    await hub.ingest.idle();
    expect(hub.clock.now()).toBeLessThan(T + 10 * 60_000); // one item did not move the clock 3 h
  });
});
