import { type Network, type NetworkHistory, congestionScore } from '@cityflow/protocol';
import type { Queryable } from '../db/db.js';
import { WEIGHTED_SPEED } from './speed-weighting.js';
import { BUCKETS } from './traffic.js';

export const BUCKET_MS: Record<string, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
};

/**
 * Every road's bucketed speed and score over [from, to), as aligned arrays (one SQL pass, no paging):
 * the console's time view needs the whole network at each step, which the paginated
 * `/api/traffic/history` would deliver in hundreds of pages.
 */
export async function networkHistory(
  db: Queryable,
  net: Network,
  q: { fromMs: number; toMs: number; bucket: keyof typeof BUCKET_MS & NetworkHistory['bucket'] },
): Promise<NetworkHistory> {
  const step = BUCKET_MS[q.bucket]!;
  // Buckets aligned like /api/traffic/history (date_bin from 2000-01-01 UTC, a multiple of every step).
  const first = Math.floor(q.fromMs / step) * step;
  const ts: string[] = [];
  for (let t = first; t < q.toMs; t += step) ts.push(new Date(t).toISOString());
  const index = new Map(ts.map((t, i) => [t, i]));
  const roads: NetworkHistory['roads'] = {};
  for (const id of net.roads.keys())
    roads[id] = { speed_kmh: ts.map(() => null), congestion_score: ts.map(() => null) };
  const r = await db.query<{ ts: Date; road_id: string; speed: number | null; occupancy: number | null }>(
    `SELECT date_bin($1::interval, minute, TIMESTAMPTZ '2000-01-01T00:00:00Z') AS ts, road_id,
       ${WEIGHTED_SPEED} AS speed,
       avg(occupancy_mean) AS occupancy
     FROM traffic_minute WHERE minute >= $2 AND minute < $3 GROUP BY 1, 2`,
    [BUCKETS[q.bucket], new Date(first).toISOString(), new Date(q.toMs).toISOString()],
  );
  for (const row of r.rows) {
    const i = index.get(new Date(row.ts).toISOString());
    const road = net.roads.get(row.road_id);
    const out = roads[row.road_id];
    if (i === undefined || !road || !out) continue;
    const speed = row.speed === null ? null : Math.round(row.speed * 10) / 10;
    out.speed_kmh[i] = speed;
    // congestionScore reads a null speed through occupancy (standing queue vs empty road).
    const score = congestionScore({
      speedKmh: speed,
      occupancy: row.occupancy,
      freeFlowKmh: road.speed_limit_kmh,
    });
    out.congestion_score[i] = score === null ? null : Math.round(score * 1000) / 1000;
  }
  return {
    from: new Date(first).toISOString(),
    to: new Date(q.toMs).toISOString(),
    bucket: q.bucket,
    ts,
    roads,
  };
}
