import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import { applyStoragePolicy, runRetention } from '../src/db/storage-policy.js';
import { TimescaleJobRunner } from '../src/db/timescale-jobs.js';
import { insertSummaries, storeSequenced } from '../src/store/ingest-store.js';
import { weightedSpeed } from '../src/store/speed-weighting.js';
import { history } from '../src/store/traffic.js';
import { runJobs, silentLog } from './backends.js';
import { summary } from './helpers.js';

/**
 * What only TimescaleDB does, executed for real on pglite+timescaledb: the compression, continuous
 * aggregate and retention policies, run as jobs (PGlite has no background workers), and the hub's SQL
 * on what they leave behind (compressed chunks, a materialized aggregate).
 */
describe('TimescaleDB policies on pglite+timescaledb', () => {
  let db: Db;
  let seq = 0;
  beforeAll(async () => {
    db = await openDb('pglite+timescaledb://memory');
    await migrate(db);
    expect(await applyStoragePolicy(db, silentLog, 'wall')).toBe('timescaledb');
  });
  afterAll(async () => db?.close());

  const store = (items: Array<ReturnType<typeof summary>>) =>
    storeSequenced(db, {
      agentId: 'TS',
      stream: 'summary',
      items,
      skipped: [],
      check: () => null,
      insert: (tx, xs) => insertSummaries(tx, 'TS', xs),
    });
  const minutes = (road: string, fromMs: number, n: number, over: Record<string, unknown> = {}) =>
    Array.from({ length: n }, (_, i) =>
      summary(++seq, road, new Date(fromMs + i * 60_000).toISOString(), over),
    );
  const bucketsOf = (road: string, fromMs: number, toMs: number, bucket = '1h') =>
    history(db, {
      roadId: road,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      bucket,
      limit: 200,
      before: null,
    });
  const chunkStates = async () =>
    (
      await db.query<{ c: boolean }>(
        "SELECT is_compressed AS c FROM timescaledb_information.chunks WHERE hypertable_name = 'traffic_minute'",
      )
    ).rows.map((r) => r.c);

  const OLD = Date.UTC(2026, 2, 2, 8, 0); // far older than the 7-day compression threshold
  it('compression job: old chunks are compressed; history, late merges and replays stay exact on them', async () => {
    expect((await store(minutes('RC', OLD, 120))).stored).toBe(120);
    const before = await bucketsOf('RC', OLD, OLD + 2 * 3600_000);
    expect(await chunkStates()).toEqual([false]);
    expect(await runJobs(db, 'policy_compression')).toBe(1);
    expect(await chunkStates()).toEqual([true]);
    expect(await bucketsOf('RC', OLD, OLD + 2 * 3600_000)).toEqual(before);
    // a late summary of a sensor-minute that now lives in a compressed chunk is merged, not duplicated
    const late = summary(++seq, 'RC', new Date(OLD).toISOString(), {
      count: 1,
      null_speed_count: 0,
      speed_mean: 62,
      speed_min: 62,
      speed_max: 62,
    });
    expect((await store([late])).stored).toBe(1);
    const row = await db.query<{ count: number; speed_mean: number; speed_max: number }>(
      "SELECT count, speed_mean, speed_max FROM traffic_minute WHERE sensor_id = 'S-RC' AND minute = $1",
      [new Date(OLD).toISOString()],
    );
    expect(row.rows).toHaveLength(1);
    expect(row.rows[0]!.count).toBe(11);
    expect(row.rows[0]!.speed_mean).toBeCloseTo((40 * 8 + 62) / 9, 9);
    expect(row.rows[0]!.speed_max).toBe(62);
    const [, first] = await bucketsOf('RC', OLD, OLD + 2 * 3600_000);
    expect(first!.samples).toBe(before[1]!.samples + 1);
    // a replay (same seqs) is filtered by seq before it reaches the compressed chunk
    expect((await store([late])).duplicates).toBe(1);
    expect((await db.query("SELECT 1 FROM traffic_minute WHERE sensor_id = 'S-RC'")).rows).toHaveLength(120);
  });

  it('continuous aggregate: the refresh job materializes traffic_hourly, equal to history 1h; later data shows after the next run', async () => {
    const hourAgo = Math.floor((Date.now() - 5 * 3600_000) / 3600_000) * 3600_000; // inside the 3-day window
    await store(minutes('RH', hourAgo, 120, { speed_mean: 30, null_speed_count: 1 }));
    const mat = await db.query<{ s: string; t: string }>(
      `SELECT materialization_hypertable_schema AS s, materialization_hypertable_name AS t
       FROM timescaledb_information.continuous_aggregates WHERE view_name = 'traffic_hourly'`,
    );
    const materialized = async () =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${mat.rows[0]!.s}.${mat.rows[0]!.t}`))
        .rows[0]!.n;
    expect(await materialized()).toBe(0);
    expect(await runJobs(db, 'policy_refresh_continuous_aggregate')).toBe(1);
    expect(await materialized()).toBe(2); // two whole hours of RH
    const hourly = async () =>
      (
        await db.query<{ ts: Date; speed: number; samples: number }>(
          `SELECT bucket AS ts, ${weightedSpeed('speed_weighted_sum', 'speed_samples')} AS speed, samples::int AS samples
           FROM traffic_hourly WHERE road_id = 'RH' ORDER BY bucket DESC`,
        )
      ).rows.map((r) => ({ ts: r.ts.toISOString(), speed: r.speed, samples: r.samples }));
    const fromHistory = async () =>
      (await bucketsOf('RH', hourAgo, hourAgo + 2 * 3600_000)).map((b) => ({
        ts: b.ts,
        speed: b.speed_kmh,
        samples: b.samples,
      }));
    expect(await hourly()).toEqual(await fromHistory());
    // a late summary into a materialized hour: stale until the job runs again (why the hub runs it)
    await store([summary(++seq, 'RH', new Date(hourAgo).toISOString(), { count: 4, null_speed_count: 0 })]);
    expect((await hourly()).at(-1)!.samples).toBe(60 * 10);
    await runJobs(db, 'policy_refresh_continuous_aggregate');
    expect(await hourly()).toEqual(await fromHistory());
    expect((await hourly()).at(-1)!.samples).toBe(60 * 10 + 4);
  });

  it('data clock: the retention policy is paused (it would drop a replay) and chunks go from the newest row', async () => {
    const retentionScheduled = async () =>
      (
        await db.query<{ s: boolean }>(
          "SELECT scheduled AS s FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention'",
        )
      ).rows[0]!.s;
    expect(await retentionScheduled()).toBe(true);
    await applyStoragePolicy(db, silentLog, 'data');
    expect(await retentionScheduled()).toBe(false);
    const runner = new TimescaleJobRunner(db, silentLog);
    await runner.runDue(); // a paused job is not run: the March replay survives
    expect((await db.query("SELECT 1 FROM traffic_minute WHERE sensor_id = 'S-RC'")).rows).toHaveLength(120);
    // the hub's own step: 90 days back from the newest row (RH, hours ago) drops March, keeps RH
    await runRetention(db, 'data');
    expect((await db.query("SELECT 1 FROM traffic_minute WHERE sensor_id = 'S-RC'")).rows).toHaveLength(0);
    expect((await db.query("SELECT 1 FROM traffic_minute WHERE sensor_id = 'S-RH'")).rows).toHaveLength(120);
    await applyStoragePolicy(db, silentLog, 'wall');
    expect(await retentionScheduled()).toBe(true);
  });
  it('the hub job runner runs every scheduled job at first, then each only once its interval has passed', async () => {
    let now = Date.now();
    const runner = new TimescaleJobRunner(db, silentLog, () => now);
    const all = await runner.runDue();
    const procs = await db.query<{ job_id: number; proc_name: string }>(
      'SELECT job_id, proc_name FROM timescaledb_information.jobs WHERE scheduled',
    );
    expect(all.sort()).toEqual(procs.rows.map((r) => r.job_id).sort());
    expect(await runner.runDue()).toEqual([]);
    now += 16 * 60_000; // the aggregate refreshes every 15 min, compression every 12 h, retention daily
    const refresh = procs.rows.find((r) => r.proc_name === 'policy_refresh_continuous_aggregate')!.job_id;
    expect(await runner.runDue()).toEqual([refresh]);
  });
});
