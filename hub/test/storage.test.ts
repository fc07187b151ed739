import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithService } from '../../test-support/services.js';
import { type Db, openDb } from '../src/db/db.js';
import { MIGRATIONS, migrate } from '../src/db/migrations.js';
import { applyStoragePolicy, describeStorage, runRetention } from '../src/db/storage-policy.js';
import {
  ensureMonthPartition,
  listMonthPartitions,
  maintainPartitions,
  partitionTrafficMinute,
} from '../src/db/partitions.js';
import { insertSummaries, storeSequenced } from '../src/store/ingest-store.js';
import { history } from '../src/store/traffic.js';
import { type BackendDb, describeEachBackend, runJobs, silentLog } from './backends.js';
import { freshSchemaUrl } from './pg-schema.js';
import { summary } from './helpers.js';

/**
 * The storage suite, on every backend. On pglite+timescaledb the start-up storage policy runs first
 * (hypertable, compression, retention, continuous aggregate), so the same ingest, late-merge, history
 * and retention SQL runs against a hypertable; the plain backends convert to month partitions in a test.
 */
function storageSuite(timescale: boolean, backend: () => Promise<BackendDb>) {
  let db: Db;
  let target: BackendDb;
  beforeAll(async () => {
    target = await backend();
    db = await openDb(target.url);
    await migrate(db);
    if (timescale) expect(await applyStoragePolicy(db, silentLog, 'wall')).toBe('timescaledb');
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  const write = (agentId: string, seqs: number[], skipped: Array<[number, number]> = []) =>
    storeSequenced(db, {
      agentId,
      stream: 'summary',
      items: seqs.map((s) =>
        summary(s, 'R1', new Date(Date.UTC(2026, 2, 2, 8, 0) + s * 60_000).toISOString()),
      ),
      skipped,
      check: (it) =>
        it.seq % 100 === 13 ? { seq: it.seq, code: 'CF_REJECTED_BY_HUB', message: 'unlucky' } : null,
      insert: (tx, xs) => insertSummaries(tx, agentId, xs),
    });

  it('migrations apply once and record their versions', async () => {
    expect(await migrate(db)).toEqual([]);
    const r = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(r.rows.map((x) => x.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('stores idempotently and keeps a contiguous watermark under concurrent, out-of-order batches', async () => {
    // 40 batches of 5 seqs (1..200), sent concurrently in a shuffled order, each twice.
    const batches = Array.from({ length: 40 }, (_, i) => [1, 2, 3, 4, 5].map((k) => i * 5 + k));
    const order = [...batches, ...batches].sort(() => Math.random() - 0.5);
    const outcomes = await Promise.all(order.map((b) => write('AG', b)));
    const stored = outcomes.reduce((s, o) => s + o.stored, 0);
    const rejected = outcomes.reduce((s, o) => s + o.rejected.length, 0);
    expect(stored + rejected).toBe(200);
    expect(rejected).toBe(2); // seqs 13 and 113
    const n = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM traffic_minute WHERE agent_id = 'AG'",
    );
    expect(n.rows[0]!.n).toBe(198);
    const w = await db.query<{ watermark: string }>(
      "SELECT watermark::text FROM ingest_watermarks WHERE agent_id = 'AG'",
    );
    expect(w.rows[0]!.watermark).toBe('200');
    const pending = await db.query("SELECT * FROM ingest_pending WHERE agent_id = 'AG'");
    expect(pending.rows).toHaveLength(0);
  });

  it('a gap holds the watermark; a skipped range releases it', async () => {
    expect((await write('AH', [1, 2])).watermark).toBe(2);
    expect((await write('AH', [6, 7])).watermark).toBe(2);
    expect((await write('AH', [], [[3, 5]])).watermark).toBe(7);
    expect((await write('AH', [2, 7])).duplicates).toBe(2);
  });

  if (!timescale)
    it('plain engines: traffic_minute is partitioned by month; rows move out of DEFAULT; old months are dropped', async () => {
      expect(await partitionTrafficMinute(db)).toBe(true);
      expect(await partitionTrafficMinute(db)).toBe(false); // idempotent
      const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM traffic_minute');
      const { created } = await maintainPartitions(db);
      expect(created).toEqual(['traffic_minute_y2026m03', 'traffic_minute_y2026m04']);
      const inMarch = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM traffic_minute_y2026m03');
      expect(inMarch.rows[0]!.n).toBe(before.rows[0]!.n); // moved from DEFAULT, nothing lost
      // a row far in the past lands in DEFAULT, gets its own month, which retention drops whole
      await db.query(
        `INSERT INTO traffic_minute (minute, sensor_id, road_id, agent_id, seq, count, null_speed_count, flow_mean, occupancy_mean)
       VALUES ('2025-10-01T00:00:00Z', 'S-OLD', 'R1', 'OLD', 1, 5, 0, 100, 0.1)`,
      );
      expect(
        (await db.query("SELECT 1 FROM traffic_minute_default WHERE agent_id = 'OLD'")).rows,
      ).toHaveLength(1);
      await ensureMonthPartition(db, Date.UTC(2025, 9, 1));
      expect(
        (await db.query("SELECT 1 FROM traffic_minute_y2025m10 WHERE agent_id = 'OLD'")).rows,
      ).toHaveLength(1);
      expect((await listMonthPartitions(db)).map((p) => p.name)).toContain('traffic_minute_y2025m10');
      const { dropped } = await maintainPartitions(db);
      expect(dropped).toEqual(['traffic_minute_y2025m10']);
      expect((await db.query("SELECT 1 FROM traffic_minute WHERE agent_id = 'OLD'")).rows).toHaveLength(0);
      expect(
        (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM traffic_minute')).rows[0]!.n,
      ).toBe(before.rows[0]!.n);
    });

  if (timescale)
    it('timescaledb: traffic_minute is a hypertable in 1-day chunks that partitioning and a restart leave alone', async () => {
      const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM traffic_minute');
      expect(await partitionTrafficMinute(db)).toBe(false); // never copies a hypertable into partitions
      expect(await applyStoragePolicy(db, silentLog, 'wall')).toBe('timescaledb'); // a restart: idempotent
      expect(
        (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM traffic_minute')).rows[0]!.n,
      ).toBe(before.rows[0]!.n);
      const chunks = await db.query<{ start: Date; end: Date }>(
        `SELECT range_start AS start, range_end AS end FROM timescaledb_information.chunks
         WHERE hypertable_schema = current_schema() AND hypertable_name = 'traffic_minute'`,
      );
      expect(chunks.rows.length).toBeGreaterThan(0);
      for (const c of chunks.rows) expect(c.end.getTime() - c.start.getTime()).toBe(86_400_000);
      expect((await describeStorage(db)).timescaledb).toMatchObject({
        active: true,
        hypertables: true,
        compression: true,
        continuous_aggregates: true,
        retention: true,
      });
    });

  it('a late summary of a stored sensor-minute is merged: counts added, means weighted', async () => {
    const late = (seqs: number[], over: Record<string, unknown>) =>
      storeSequenced(db, {
        agentId: 'AL',
        stream: 'summary',
        items: seqs.map((s) => summary(s, 'R9', '2026-03-05T10:00:00Z', over)),
        skipped: [],
        check: () => null,
        insert: (tx, xs) => insertSummaries(tx, 'AL', xs),
      });
    const q = { roadId: 'R9', from: '2026-03-05T10:00:00Z', to: '2026-03-05T10:01:00Z', limit: 5 };
    const hist = () => history(db, { ...q, bucket: '1m', before: null });
    expect((await late([1], {})).stored).toBe(1); // count 10, 2 null speeds, mean 40 over 8
    const one = { count: 1, null_speed_count: 0, speed_mean: 62, speed_min: 62, speed_max: 62 };
    expect((await late([2], { ...one, flow_mean: 0, occupancy_mean: 1 })).stored).toBe(1);
    let [b] = await hist();
    expect(b!.samples).toBe(11);
    expect(b!.speed_kmh).toBeCloseTo((40 * 8 + 62) / 9, 9);
    expect(b!.flow_rate).toBeCloseTo((600 * 10) / 11, 9);
    expect(b!.occupancy).toBeCloseTo((0.1 * 10 + 1) / 11, 9);
    // two late summaries of the same minute in one batch, and a replay that adds nothing
    expect((await late([3, 4], { ...one, speed_mean: null, null_speed_count: 1 })).stored).toBe(2);
    expect((await late([2, 3], one)).duplicates).toBe(2);
    [b] = await hist();
    expect(b!.samples).toBe(13);
    expect(b!.speed_kmh).toBeCloseTo((40 * 8 + 62) / 9, 9);
    const row = await db.query<{ n: number; smin: number; smax: number; seq: string }>(
      "SELECT null_speed_count AS n, speed_min AS smin, speed_max AS smax, seq::text FROM traffic_minute WHERE sensor_id = 'S-R9'",
    );
    expect(row.rows).toEqual([{ n: 4, smin: 30, smax: 62, seq: '4' }]);
  });

  it('history buckets with date_bin', async () => {
    const rows = await history(db, {
      roadId: 'R1',
      from: '2026-03-02T08:00:00Z',
      to: '2026-03-02T09:00:00Z',
      bucket: '15m',
      limit: 10,
      before: null,
    });
    expect(rows.map((r) => r.ts)).toEqual([
      '2026-03-02T08:45:00.000Z',
      '2026-03-02T08:30:00.000Z',
      '2026-03-02T08:15:00.000Z',
      '2026-03-02T08:00:00.000Z',
    ]);
    // 08:00-08:15 holds minutes 1..14 of AG (seq s at 08:00 + s min) minus the rejected seq 13; AH's
    // minutes 1, 2, 6, 7 are the same sensor and minute: new seqs, so merged as late summaries.
    expect(rows.at(-1)!.samples).toBe(13 * 10 + 4 * 10);
  });

  it('retention: one future row does not age out the history; wall mode counts from now', async () => {
    const n = async (where = 'TRUE') =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM traffic_minute WHERE ${where}`)).rows[0]!
        .n;
    const put = (sensor: string, minute: string) =>
      db.query(
        `INSERT INTO traffic_minute (minute, sensor_id, road_id, agent_id, seq, count, null_speed_count, flow_mean, occupancy_mean)
         VALUES ($1, $2, 'R1', 'RT', 1, 5, 0, 100, 0.1)`,
        [minute, sensor],
      );
    const march = "minute >= '2026-03-01' AND minute < '2026-04-01'";
    const inMarch = await n(march);
    expect(inMarch).toBeGreaterThan(0);
    // On a hypertable in wall mode the retention policy job drops old chunks; PGlite has no background
    // workers, so it is run here as the hub's cycle runs it.
    const retire = async (mode: 'wall' | 'data') => {
      await runRetention(db, mode);
      if (timescale && mode === 'wall') expect(await runJobs(db, 'policy_retention')).toBe(1);
    };
    await put('S-FUTURE', '2099-01-01T00:00:00Z');
    await put('S-ANCIENT', '2025-11-01T00:00:00Z'); // > 90 days before the newest real row (March 2026)
    await retire('data');
    expect(await n(march)).toBe(inMarch);
    expect(await n("sensor_id = 'S-ANCIENT'")).toBe(0);
    if (!timescale)
      expect((await listMonthPartitions(db)).map((p) => p.name)).toContain('traffic_minute_y2026m03');
    const day = 86_400_000;
    await put('S-RECENT', new Date(Date.now() - day).toISOString());
    await put('S-OLD', new Date(Date.now() - 100 * day).toISOString());
    await retire('wall');
    expect(await n("sensor_id = 'S-RECENT'")).toBe(1);
    expect(await n("sensor_id = 'S-OLD'")).toBe(0);
  });
}

describeEachBackend('storage', (backend, db) => storageSuite(backend === 'pglite+timescaledb', db));

describeWithService('PG', 'PostgreSQL advisory lock', (url) => {
  it('the advisory lock admits one holder at a time and passes on release', async () => {
    const s = await freshSchemaUrl(url);
    const a = await openDb(s.url);
    const b = await openDb(s.url);
    try {
      const la = await a.tryAdvisoryLock(987654);
      expect(la).not.toBeNull();
      expect(await b.tryAdvisoryLock(987654)).toBeNull();
      await la!.release();
      const lb = await b.tryAdvisoryLock(987654);
      expect(lb).not.toBeNull();
      await lb!.release();
    } finally {
      await a.close();
      await b.close();
      await s.drop();
    }
  });
});
