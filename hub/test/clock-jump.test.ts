import { loadNetwork } from '@cityflow/protocol';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HubClock } from '../src/clock.js';
import { resolveConfig } from '../src/config.js';
import { Cycles } from '../src/cycles/cycles.js';
import { type Db, openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import { listMonthPartitions } from '../src/db/partitions.js';
import { applyStoragePolicy } from '../src/db/storage-policy.js';
import { LiveBus } from '../src/live/bus.js';
import { ResponseCache } from '../src/live/cache.js';
import { createMetrics } from '../src/metrics.js';
import { insertQuarantine } from '../src/store/quarantine-store.js';
import { gridNetwork, writeNetwork } from './helpers.js';

const DAY = 86_400_000;

/**
 * Issue 10, fault 7: the hub's wall clock jumps a year ahead (an injected clock; libfaketime would do
 * the same to the process). Retention must delete nothing whose data lies within retention of the
 * newest stored data: partitions, predictions, reroutes, quarantine.
 */
describe('a hub clock jump in wall mode deletes nothing within retention of the newest data', () => {
  let db: Db;
  afterEach(async () => db?.close());

  it('a cycle on a clock one year ahead keeps the data of the last 90 days and still ages out older rows', async () => {
    db = await openDb('pglite://memory');
    await migrate(db);
    const log = pino({ level: 'silent' });
    await applyStoragePolicy(db, log);
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const minute = (ms: number) => iso(Math.floor(ms / 60_000) * 60_000);
    for (const [sensor, at] of [
      ['S-NEW', now - 3_600_000],
      ['S-10D', now - 10 * DAY],
      ['S-100D', now - 100 * DAY],
    ] as const)
      await db.query(
        `INSERT INTO traffic_minute (minute, sensor_id, road_id, agent_id, seq, count, null_speed_count, flow_mean, occupancy_mean)
         VALUES ($1, $2, 'R00-10', 'A1', 1, 5, 0, 100, 0.1)`,
        [minute(at), sensor],
      );
    await db.query(
      `INSERT INTO predictions (ts, target_ts, road_id, horizon_min, congestion_score, confidence, model_version)
       VALUES ($1, $2, 'R00-10', 30, 0.2, 0.5, 'cityflow-edge')`,
      [iso(now - 3_600_000), iso(now + 1_800_000)],
    );
    await db.query(
      `INSERT INTO reroutes (ts, route_id, alt_route_id, reason, estimated_co2_gain, eta_gain_min, path, decision_node,
         diverted_share, valid_until, co2_gain_g_per_vehicle)
       VALUES ($1, 'R00-10', 'alt', 'test', 1, 1, '[]', 'N00', 0.1, $2, 1)`,
      [iso(now - 3_600_000), iso(now)],
    );
    await insertQuarantine(db, [
      { agentId: 'A1', stream: 'summary', code: 'CF_TS_FUTURE', message: 'm', payload: {} },
    ]);
    const partitionsBefore = (await listMonthPartitions(db)).map((p) => p.name);

    const r = loadNetwork(gridNetwork());
    if (!r.ok) throw new Error(r.errors.join());
    const clock = new HubClock('wall', () => Date.now() + 365 * DAY);
    const metrics = createMetrics();
    const bus = new LiveBus(undefined, log);
    const cycles = new Cycles({
      db,
      net: r.value,
      clock,
      metrics,
      bus,
      cache: new ResponseCache(true, undefined, 'cityflow:', bus, metrics, log),
      config: resolveConfig({ clock: 'wall', cycleIntervalS: 3600, networkFile: writeNetwork() }),
      log,
      publish: async () => undefined,
    });
    expect(await cycles.runOnce()).toBe(true); // predictions, reroutes, then retention on the jumped clock
    const count = async (sql: string) => (await db.query<{ n: number }>(sql)).rows[0]!.n;
    const sensors = await db.query<{ sensor_id: string }>(
      'SELECT sensor_id FROM traffic_minute ORDER BY minute',
    );
    expect(sensors.rows.map((x) => x.sensor_id)).toEqual(['S-10D', 'S-NEW']); // 100 days before the newest: gone
    expect(
      await count("SELECT count(*)::int AS n FROM predictions WHERE model_version = 'cityflow-edge'"),
    ).toBe(1);
    expect(await count("SELECT count(*)::int AS n FROM reroutes WHERE alt_route_id = 'alt'")).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM quarantine')).toBe(1);
    const after = (await listMonthPartitions(db)).map((p) => p.name);
    const month = (ms: number) => {
      const d = new Date(ms);
      return `traffic_minute_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    };
    // no month partition within retention of the newest data was dropped
    expect(partitionsBefore.filter((p) => p > month(now - 90 * DAY))).toEqual(
      after.filter((p) => p > month(now - 90 * DAY) && partitionsBefore.includes(p)),
    );
    expect(after).toContain(month(now));
    await cycles.stop();
  });
});
