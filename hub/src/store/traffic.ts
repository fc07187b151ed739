import type {
  HistoryBucket,
  LiveRoad,
  LiveSensor,
  LiveTraffic,
  Prediction,
  Reroute,
} from '@cityflow/protocol';
import type { Queryable } from '../db/db.js';
import type { PageCursor } from '../api/pagination.js';
import { WEIGHTED_SPEED } from './speed-weighting.js';

const iso = (d: Date | string | null) =>
  d === null ? null : d instanceof Date ? d.toISOString() : new Date(d).toISOString();

/** Keeps the newest state per road; an older snapshot (late QoS 0 delivery) never overwrites a newer one. */
export async function upsertRoadLive(db: Queryable, agentId: string, input: LiveRoad[]): Promise<void> {
  // One row per road per statement (PostgreSQL refuses to upsert a row twice): the newest wins.
  const byRoad = new Map<string, LiveRoad>();
  for (const r of input) {
    const prev = byRoad.get(r.road_id);
    if (!prev || Date.parse(prev.ts) <= Date.parse(r.ts)) byRoad.set(r.road_id, r);
  }
  const roads = [...byRoad.values()];
  if (!roads.length) return;
  const c = <K extends keyof LiveRoad>(k: K) => roads.map((r) => r[k]);
  await db.query(
    `INSERT INTO road_live (road_id, ts, speed_kmh, flow_rate, occupancy, congestion_score, sensors, samples, agent_id, by_sensor)
     SELECT r, ts, s, f, o, c, n, m, $1, b::jsonb FROM unnest($2::text[], $3::timestamptz[], $4::float8[], $5::float8[],
       $6::float8[], $7::float8[], $8::int[], $9::int[], $10::text[]) AS t(r, ts, s, f, o, c, n, m, b)
     ON CONFLICT (road_id) DO UPDATE SET ts = EXCLUDED.ts, speed_kmh = EXCLUDED.speed_kmh, flow_rate = EXCLUDED.flow_rate,
       occupancy = EXCLUDED.occupancy, congestion_score = EXCLUDED.congestion_score, sensors = EXCLUDED.sensors,
       samples = EXCLUDED.samples, agent_id = EXCLUDED.agent_id, by_sensor = EXCLUDED.by_sensor, updated_at = now()
     WHERE road_live.ts <= EXCLUDED.ts`,
    [
      agentId,
      c('road_id'),
      c('ts'),
      c('speed_kmh'),
      c('flow_rate'),
      c('occupancy'),
      c('congestion_score'),
      c('sensors'),
      c('samples'),
      roads.map((r) => (r.by_sensor ? JSON.stringify(r.by_sensor) : null)),
    ],
  );
}

interface LiveRow {
  ts: Date;
  road_id: string;
  speed_kmh: number | null;
  flow_rate: number | null;
  occupancy: number | null;
  congestion_score: number | null;
  sensors: number;
}
const toLive = (r: LiveRow): LiveTraffic => ({
  ts: iso(r.ts)!,
  road_id: r.road_id,
  speed_kmh: r.speed_kmh,
  flow_rate: r.flow_rate,
  occupancy: r.occupancy,
  congestion_score: r.congestion_score,
  sensors: r.sensors,
});

/** Live state, newest first; cursor = (ts, road_id). */
export async function listLive(
  db: Queryable,
  q: { limit: number; roadId?: string; before: PageCursor | null },
) {
  const r = await db.query<LiveRow>(
    `SELECT ts, road_id, speed_kmh, flow_rate, occupancy, congestion_score, sensors FROM road_live
     WHERE ($1::text IS NULL OR road_id = $1)
       AND ($2::timestamptz IS NULL OR ts < $2 OR (ts = $2 AND $3::text IS NOT NULL AND road_id > $3))
     ORDER BY ts DESC, road_id ASC LIMIT $4`,
    [q.roadId ?? null, q.before?.ts ?? null, q.before?.key ?? null, q.limit + 1],
  );
  return r.rows.map(toLive);
}

export async function allLive(db: Queryable): Promise<Map<string, LiveTraffic>> {
  const r = await db.query<LiveRow>(
    'SELECT ts, road_id, speed_kmh, flow_rate, occupancy, congestion_score, sensors FROM road_live',
  );
  return new Map(r.rows.map((x) => [x.road_id, toLive(x)]));
}

/** The live state the reroute cycle reads: every road, with its per-loop detail when the agent sent it. */
export type LiveForPlanning = LiveTraffic & { by_sensor: LiveSensor[] | null };

export async function liveForPlanning(db: Queryable): Promise<Map<string, LiveForPlanning>> {
  const r = await db.query<LiveRow & { by_sensor: LiveSensor[] | null }>(
    'SELECT ts, road_id, speed_kmh, flow_rate, occupancy, congestion_score, sensors, by_sensor FROM road_live',
  );
  return new Map(r.rows.map((x) => [x.road_id, { ...toLive(x), by_sensor: x.by_sensor }]));
}

export const BUCKETS: Record<string, string> = {
  '1m': '1 minute',
  '5m': '5 minutes',
  '15m': '15 minutes',
  '1h': '1 hour',
};

/**
 * History buckets, newest first; cursor = (ts, road_id). speed averages the non-null speeds weighted by
 * how many readings had one; samples counts every valid reading (null speeds included).
 */
export async function history(
  db: Queryable,
  q: { roadId?: string; from: string; to: string; bucket: string; limit: number; before: PageCursor | null },
): Promise<HistoryBucket[]> {
  const r = await db.query<{
    ts: Date;
    road_id: string;
    speed_kmh: number | null;
    flow_rate: number | null;
    occupancy: number | null;
    samples: number;
  }>(
    `SELECT * FROM (
       SELECT date_bin($1::interval, minute, TIMESTAMPTZ '2000-01-01T00:00:00Z') AS ts, road_id,
         ${WEIGHTED_SPEED} AS speed_kmh,
         avg(flow_mean) AS flow_rate, avg(occupancy_mean) AS occupancy, sum(count)::int AS samples
       FROM traffic_minute
       WHERE minute >= $2 AND minute < $3 AND ($4::text IS NULL OR road_id = $4)
       GROUP BY 1, 2) b
     WHERE ($5::timestamptz IS NULL OR ts < $5 OR (ts = $5 AND $6::text IS NOT NULL AND road_id > $6))
     ORDER BY ts DESC, road_id ASC LIMIT $7`,
    [
      BUCKETS[q.bucket],
      q.from,
      q.to,
      q.roadId ?? null,
      q.before?.ts ?? null,
      q.before?.key ?? null,
      q.limit + 1,
    ],
  );
  return r.rows.map((x) => ({
    ts: iso(x.ts)!,
    road_id: x.road_id,
    speed_kmh: x.speed_kmh,
    flow_rate: x.flow_rate,
    occupancy: x.occupancy,
    samples: Number(x.samples),
  }));
}

/** Preference when no model is asked for: the network model, then the edge model, then the seed's. */
export const MODEL_RANK = ['cityflow-network', 'cityflow-edge', 'ewma-lr-v2', 'persistence'];

interface PredRow {
  id: string;
  ts: Date;
  target_ts: Date;
  road_id: string;
  horizon_min: number;
  speed_kmh: number | null;
  speed_lo_kmh: number | null;
  speed_hi_kmh: number | null;
  congestion_score: number;
  confidence: number;
  model_version: string;
}
export type PredictionWithId = Prediction & { id: string };

export async function listPredictions(
  db: Queryable,
  q: { horizon: number; roadId?: string; model?: string; limit: number; before: PageCursor | null },
): Promise<PredictionWithId[]> {
  const timeOnly = q.before && q.before.key === null ? q.before.ts : null;
  const cursor = q.before && q.before.key !== null ? q.before : null;
  const r = await db.query<PredRow>(
    `WITH latest AS (
       SELECT DISTINCT ON (road_id, model_version) * FROM predictions
       WHERE horizon_min = $1 AND ($2::text IS NULL OR road_id = $2) AND ($3::text IS NULL OR model_version = $3)
         AND ($4::timestamptz IS NULL OR ts < $4)
       ORDER BY road_id, model_version, ts DESC, id DESC
     ), best AS (
       SELECT DISTINCT ON (road_id) * FROM latest
       ORDER BY road_id, coalesce(array_position($5::text[], model_version), 99), ts DESC
     )
     SELECT id::text AS id, ts, target_ts, road_id, horizon_min, speed_kmh, speed_lo_kmh, speed_hi_kmh,
       congestion_score, confidence, model_version FROM best
     WHERE ($6::timestamptz IS NULL OR ts < $6 OR (ts = $6 AND id < $7::bigint))
     ORDER BY ts DESC, id DESC LIMIT $8`,
    [
      q.horizon,
      q.roadId ?? null,
      q.model ?? null,
      timeOnly,
      MODEL_RANK,
      cursor?.ts ?? null,
      cursor?.key ?? null,
      q.limit + 1,
    ],
  );
  return r.rows.map((x) => ({
    id: x.id,
    ts: iso(x.ts)!,
    target_ts: iso(x.target_ts)!,
    road_id: x.road_id,
    horizon_min: x.horizon_min,
    speed_kmh: x.speed_kmh,
    speed_lo_kmh: x.speed_lo_kmh,
    speed_hi_kmh: x.speed_hi_kmh,
    congestion_score: x.congestion_score,
    confidence: x.confidence,
    model_version: x.model_version,
  }));
}

export async function insertPredictions(db: Queryable, items: Prediction[]): Promise<void> {
  if (!items.length) return;
  const c = <K extends keyof Prediction>(k: K) => items.map((it) => it[k]);
  await db.query(
    `INSERT INTO predictions (ts, target_ts, road_id, horizon_min, speed_kmh, speed_lo_kmh, speed_hi_kmh,
       congestion_score, confidence, model_version)
     SELECT * FROM unnest($1::timestamptz[], $2::timestamptz[], $3::text[], $4::int[], $5::float8[], $6::float8[],
       $7::float8[], $8::float8[], $9::float8[], $10::text[])
     ON CONFLICT (road_id, horizon_min, model_version, ts) DO NOTHING`,
    [
      c('ts'),
      c('target_ts'),
      c('road_id'),
      c('horizon_min'),
      c('speed_kmh'),
      c('speed_lo_kmh'),
      c('speed_hi_kmh'),
      c('congestion_score'),
      c('confidence'),
      c('model_version'),
    ],
  );
}

export async function insertReroutes(db: Queryable, items: Reroute[]): Promise<void> {
  if (!items.length) return;
  // One statement for the whole cycle: a city-wide incident may put hundreds of items in it.
  const col = <K extends keyof Reroute>(k: K) => items.map((it) => it[k]);
  await db.query(
    `INSERT INTO reroutes (ts, route_id, alt_route_id, reason, estimated_co2_gain, eta_gain_min, path, decision_node,
       diverted_share, valid_until, co2_gain_g_per_vehicle, incident_id)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
       $7::jsonb[], $8::text[], $9::float8[], $10::timestamptz[], $11::float8[], $12::text[])`,
    [
      col('ts'),
      col('route_id'),
      col('alt_route_id'),
      col('reason'),
      col('estimated_co2_gain'),
      col('eta_gain_min'),
      items.map((it) => JSON.stringify(it.path)),
      col('decision_node'),
      col('diverted_share'),
      col('valid_until'),
      col('co2_gain_g_per_vehicle'),
      items.map((it) => it.incident_id ?? null),
    ],
  );
}

/** Ends the advice in force on these roads at `atIso` (the planner stopped advising them). */
export async function endReroutes(db: Queryable, roadIds: string[], atIso: string): Promise<void> {
  await db.query(
    'UPDATE reroutes SET valid_until = $2 WHERE route_id = ANY($1::text[]) AND valid_until > $2',
    [roadIds, atIso],
  );
}

/** Reroutes still valid at `nowIso` (the active clock), newest first; cursor = (ts, id). */
export async function listReroutes(
  db: Queryable,
  q: { nowIso: string; limit: number; before: PageCursor | null },
) {
  const r = await db.query<Omit<Reroute, 'ts' | 'valid_until'> & { id: string; ts: Date; valid_until: Date }>(
    // Each cycle re-issues the advice still in force: the newest row per congested road is the current one.
    `WITH current AS (
       SELECT DISTINCT ON (route_id) * FROM reroutes WHERE valid_until > $1 ORDER BY route_id, ts DESC, id DESC
     )
     SELECT id::text AS id, ts, route_id, alt_route_id, reason, estimated_co2_gain, eta_gain_min, path, decision_node,
       diverted_share, valid_until, co2_gain_g_per_vehicle, incident_id FROM current
     WHERE ($2::timestamptz IS NULL OR ts < $2 OR (ts = $2 AND $3::bigint IS NOT NULL AND id < $3::bigint))
     ORDER BY ts DESC, id DESC LIMIT $4`,
    [q.nowIso, q.before?.ts ?? null, q.before?.key ?? null, q.limit + 1],
  );
  return r.rows.map((x) => ({ ...x, ts: iso(x.ts)!, valid_until: iso(x.valid_until)! }));
}

/** Per-road, per-minute speed (count-weighted over non-null speeds) and occupancy in [from, until), oldest first. */
export async function roadMinutesBetween(db: Queryable, fromIso: string, untilIso: string) {
  const r = await db.query<{ road_id: string; minute: Date; speed: number | null; occupancy: number | null }>(
    `SELECT road_id, minute,
       ${WEIGHTED_SPEED} AS speed,
       avg(occupancy_mean) AS occupancy
     FROM traffic_minute WHERE minute >= $1 AND minute < $2
     GROUP BY road_id, minute ORDER BY minute, road_id`,
    [fromIso, untilIso],
  );
  return r.rows;
}
