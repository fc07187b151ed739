#!/usr/bin/env node
/**
 * The hub's three storage backends side by side (issue 11: should pglite+timescaledb be the embedded
 * default?). Each backend runs in its own process (so WASM loading counts and memory does not mix):
 * hub start on a new directory and again on the filled one (startHub, API up), bulk load of N
 * sensor-minutes through the hub's own insert (rows/s), table size and PGlite directory size (before and
 * after TimescaleDB's jobs: compression of chunks older than 7 days, aggregate refresh), and the median
 * of the hub's own queries: history 1h buckets over 24 h (one road, all roads), 5m over 1 h, 1h over an
 * old (compressed) day, live.
 *   BENCH_SENSORS=32 BENCH_DAYS=14 BENCH_REPS=15 BENCH_BACKENDS=pglite,pglite+timescaledb,postgres
 *   BENCH_PG_URL (default $CITYFLOW_TEST_PG_URL or postgres://postgres@127.0.0.1:5432/test)
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHub } from '@cityflow/hub';
import pg from 'pg';

const env = (k, d) => Number(process.env[k] ?? d);
const SENSORS = env('BENCH_SENSORS', 32);
const DAYS = env('BENCH_DAYS', 14);
const REPS = env('BENCH_REPS', 15);
const PG_URL =
  process.env.BENCH_PG_URL ?? process.env.CITYFLOW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'pglite,pglite+timescaledb,postgres').split(',');
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const hubDist = (p) => new URL(`../hub/dist/${p}`, import.meta.url).href;

function network(file) {
  const features = [];
  for (let s = 0; s < SENSORS; s++) {
    const road = `R${s}`;
    const c = [2.3 + s * 0.001, 48.8];
    features.push(
      {
        type: 'Feature',
        geometry: { type: 'LineString', coordinates: [c, [c[0] + 0.001, c[1]]] },
        properties: {
          kind: 'road',
          road_id: road,
          from_node: `N${s}`,
          to_node: `N${s + 1}`,
          length_m: 100,
          lanes: 2,
          speed_limit_kmh: 50,
        },
      },
      {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: c },
        properties: { kind: 'sensor', sensor_id: `S-${road}`, road_id: road, agent_id: 'A1' },
      },
    );
  }
  writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features }));
}

function duMb(dir) {
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) bytes += statSync(join(e.parentPath ?? e.path, e.name)).size;
  return +(bytes / 2 ** 20).toFixed(1);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeMs(fn) {
  await fn(); // warm-up (plans, caches)
  const xs = [];
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return +median(xs).toFixed(2);
}

async function measure(backend) {
  const { insertSummaries } = await import(hubDist('store/ingest-store.js'));
  const { history, listLive, upsertRoadLive } = await import(hubDist('store/traffic.js'));
  const { TimescaleJobRunner } = await import(hubDist('db/timescale-jobs.js'));
  const pino = (await import('pino')).default;
  const work = mkdtempSync(join(tmpdir(), 'cf-bench-storage-'));
  const networkFile = join(work, 'network.geojson');
  network(networkFile);
  let url = `${backend}://${join(work, 'db')}`;
  let dropSchema = async () => {};
  if (backend === 'postgres') {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.end();
    const u = new URL(PG_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    url = u.toString();
    dropSchema = async () => {
      const d = new pg.Client({ connectionString: PG_URL });
      await d.connect();
      await d.query(`DROP SCHEMA ${schema} CASCADE`);
      await d.end();
    };
  }
  const opts = {
    databaseUrl: url,
    port: 0,
    mqttPort: 0,
    host: '127.0.0.1',
    networkFile,
    logLevel: 'silent',
    jwtSecret: 'bench-secret-0123456789',
    cycleIntervalS: 3600,
  };
  const m = { rows: SENSORS * DAYS * 1440 };
  try {
    let t = performance.now();
    let hub = await startHub(opts);
    m.start_new_s = +((performance.now() - t) / 1000).toFixed(2);
    const db = () => hub.db;
    // Load: DAYS of per-minute summaries for every sensor, ending now, through the hub's own insert.
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    const start = end - DAYS * 86_400_000;
    t = performance.now();
    let seq = 0;
    for (let day = 0; day < DAYS; day++) {
      const items = [];
      for (let min = 0; min < 1440; min++)
        for (let s = 0; s < SENSORS; s++) {
          const v = 20 + ((s * 7 + min) % 30);
          items.push({
            seq: ++seq,
            sensor_id: `S-R${s}`,
            road_id: `R${s}`,
            minute: new Date(start + (day * 1440 + min) * 60_000).toISOString(),
            count: 10,
            null_speed_count: 1,
            speed_mean: v,
            speed_min: v - 5,
            speed_max: v + 5,
            flow_mean: 600,
            occupancy_mean: 0.1,
          });
        }
      for (let i = 0; i < items.length; i += 4608)
        await db().transaction((tx) => insertSummaries(tx, 'A1', items.slice(i, i + 4608)));
    }
    m.load_rows_per_s = Math.round(m.rows / ((performance.now() - t) / 1000));
    await upsertRoadLive(
      db(),
      'A1',
      Array.from({ length: SENSORS }, (_, s) => ({
        road_id: `R${s}`,
        ts: new Date(end).toISOString(),
        speed_kmh: 30,
        flow_rate: 600,
        occupancy: 0.1,
        congestion_score: 0.2,
        sensors: 1,
        samples: 10,
      })),
    );
    // traffic_minute with its indexes: the hypertable's chunks (compressed or not), or the month partitions
    const tableMb = async () => {
      const sql =
        backend === 'pglite+timescaledb'
          ? "SELECT hypertable_size('traffic_minute')::float8 AS b"
          : "SELECT sum(pg_total_relation_size(inhrelid))::float8 AS b FROM pg_inherits WHERE inhparent = 'traffic_minute'::regclass";
      const r = await db().query(sql);
      return +(r.rows[0].b / 2 ** 20).toFixed(1);
    };
    m.table_mb = await tableMb();
    if (backend === 'pglite+timescaledb') {
      t = performance.now();
      m.jobs_run = (await new TimescaleJobRunner(db(), pino({ level: 'silent' })).runDue()).length;
      m.jobs_s = +((performance.now() - t) / 1000).toFixed(2);
    }
    m.table_mb_after_jobs = await tableMb();
    const iso = (ms) => new Date(ms).toISOString();
    const q = (from, to, bucket, roadId) => () =>
      history(db(), { roadId, from: iso(from), to: iso(to), bucket, limit: 200, before: null });
    m.history_1h_24h_one_road_ms = await timeMs(q(end - 86_400_000, end, '1h', 'R3'));
    m.history_5m_1h_one_road_ms = await timeMs(q(end - 3600_000, end, '5m', 'R3'));
    m.history_1h_24h_all_roads_ms = await timeMs(q(end - 86_400_000, end, '1h', undefined));
    m.history_1h_old_day_one_road_ms = await timeMs(
      q(start + 86_400_000, start + 2 * 86_400_000, '1h', 'R3'),
    );
    m.live_ms = await timeMs(() => listLive(db(), { limit: 50, before: null }));
    if (backend === 'pglite+timescaledb')
      m.cagg_24h_all_roads_ms = await timeMs(() =>
        db().query('SELECT * FROM traffic_hourly WHERE bucket >= $1 AND bucket < $2', [
          iso(end - 86_400_000),
          iso(end),
        ]),
      );
    m.rss_mb = Math.round(process.memoryUsage().rss / 2 ** 20);
    await hub.stop();
    if (backend !== 'postgres') {
      // the whole directory, and its base/ alone (tables and indexes; the rest is mostly pg_wal segments)
      const pgdata = backend === 'pglite' ? join(work, 'db') : join(work, 'db', 'pgdata');
      m.dir_mb = duMb(join(work, 'db'));
      m.dir_base_mb = duMb(join(pgdata, 'base'));
      m.dir_wal_mb = duMb(join(pgdata, 'pg_wal'));
    }
    t = performance.now();
    hub = await startHub(opts);
    m.start_reopen_s = +((performance.now() - t) / 1000).toFixed(2);
    await hub.stop();
  } finally {
    await dropSchema();
    rmSync(work, { recursive: true, force: true });
  }
  return m;
}

// (after every declaration above: top-level await would otherwise meet them uninitialised)
if (process.argv[2] === '--backend') {
  console.log(JSON.stringify(await measure(process.argv[3])));
} else {
  const self = fileURLToPath(import.meta.url);
  const metrics = {};
  for (const b of BACKENDS) {
    log(`-- ${b}`);
    const run = spawnSync(process.execPath, [self, '--backend', b], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 10 * 60_000,
    });
    const line = (run.stdout ?? '').trim().split('\n').pop() ?? '';
    try {
      metrics[b] = JSON.parse(line);
    } catch {
      metrics[b] = { error: `exit ${run.status}: no result` };
    }
    log(JSON.stringify(metrics[b]));
  }
  const result = {
    name: 'hub-storage-backends',
    metrics,
    peer: { name: 'pglite (the embedded default) on the same machine, same run' },
  };
  const ratio = (b, k) =>
    metrics[b]?.[k] && metrics.pglite?.[k] && +(metrics[b][k] / metrics.pglite[k]).toFixed(2);
  result.ratio = {
    timescale_vs_pglite_start_new_s: ratio('pglite+timescaledb', 'start_new_s'),
    timescale_vs_pglite_table_mb_after_jobs: ratio('pglite+timescaledb', 'table_mb_after_jobs'),
    timescale_vs_pglite_history_1h_24h_one_road_ms: ratio('pglite+timescaledb', 'history_1h_24h_one_road_ms'),
  };
  console.log(JSON.stringify(result));
}
