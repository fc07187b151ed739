import { KPI_WINDOW_MIN, type Kpis } from '@cityflow/protocol';
import type { Queryable } from '../db/db.js';
import { listPredictions } from './traffic.js';

/**
 * The console's KPIs, from the shared database only, so every replica gives the same city-wide answer
 * (per-process Prometheus counters would only describe the replica that happens to serve the request).
 * `nowMs` is the active clock; ingestion times (`ingested_at`, `received_at`) are wall times.
 */
export async function computeKpis(db: Queryable, nowMs: number, clock: 'wall' | 'data'): Promise<Kpis> {
  const windowMs = KPI_WINDOW_MIN * 60_000;
  // Closed minutes reach the hub within ~90 s: the window ends two minutes back so it only holds settled ones.
  const until = Math.floor(nowMs / 60_000) * 60_000 - 2 * 60_000;
  const from = until - windowMs;
  const wallFrom = new Date(Date.now() - windowMs).toISOString();
  const [readings, ingest, quarantined, agents, co2] = await Promise.all([
    db.query<{ n: string | null }>(
      'SELECT sum(count)::bigint AS n FROM traffic_minute WHERE minute >= $1 AND minute < $2',
      [new Date(from).toISOString(), new Date(until).toISOString()],
    ),
    // The median, not the mean: one agent with a broken (or forged) close time cannot move the city's
    // figure, while a backlog draining after an outage — most of what is stored then — still does.
    db.query<{ rows: string; latency_s: number | null }>(
      `SELECT count(*)::bigint AS rows,
         -- rows without closed_at (older agents) give NULL, which the percentile leaves out
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ingested_at - closed_at))::float8
           AS latency_s
       FROM traffic_minute WHERE ingested_at >= $1`,
      [wallFrom],
    ),
    db.query<{ n: string }>('SELECT count(*)::bigint AS n FROM quarantine WHERE received_at >= $1', [
      wallFrom,
    ]),
    db.query<{ online: string; total: string }>(
      'SELECT count(*) FILTER (WHERE online)::bigint AS online, count(*)::bigint AS total FROM agents',
    ),
    db.query<{ kg: number | null }>(
      `SELECT sum(estimated_co2_gain)::float8 AS kg FROM (
         SELECT DISTINCT ON (route_id) estimated_co2_gain FROM reroutes
         WHERE valid_until > $1 ORDER BY route_id, ts DESC, id DESC) c`,
      [new Date(nowMs).toISOString()],
    ),
  ]);
  const preds = await listPredictions(db, { horizon: 30, limit: 1_000_000, before: null });
  const stored = Number(ingest.rows[0]?.rows ?? 0);
  const bad = Number(quarantined.rows[0]?.n ?? 0);
  return {
    as_of: new Date(nowMs).toISOString(),
    clock,
    window_min: KPI_WINDOW_MIN,
    ingest_latency_s: ingest.rows[0]?.latency_s ?? null,
    messages_per_s: Number(readings.rows[0]?.n ?? 0) / (windowMs / 1000),
    error_rate: stored + bad > 0 ? bad / (stored + bad) : null,
    mean_forecast_congestion: preds.length
      ? preds.reduce((s, p) => s + p.congestion_score, 0) / preds.length
      : null,
    co2_gain_kg_per_h: co2.rows[0]?.kg ?? 0,
    agents_online: Number(agents.rows[0]?.online ?? 0),
    agents_total: Number(agents.rows[0]?.total ?? 0),
  };
}
