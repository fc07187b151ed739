import { type Network, type Prediction, congestionScore } from '@cityflow/protocol';
import type { Db } from '../db/db.js';
import { insertPredictions, recentRoadMinutes } from '../store/traffic.js';
import type { SeriesForecaster } from './forecaster.js';

export const HORIZONS_MIN = [15, 30, 60];
/** History fed to the model each cycle: enough for lags and a trend, cheap to query. */
export const HISTORY_MIN = 180;

/**
 * One prediction cycle at `nowMs` (wall or data clock): per road, speed forecasts at 15/30/60 min from
 * the stored per-minute data, with the congestion score of protocol. Returns what it stored.
 */
export async function runPredictionCycle(
  db: Db,
  net: Network,
  makeForecaster: () => SeriesForecaster,
  nowMs: number,
): Promise<Prediction[]> {
  const issued = Math.floor(nowMs / 60_000) * 60_000;
  const nowIso = new Date(issued).toISOString();
  const rows = await recentRoadMinutes(db, nowIso, HISTORY_MIN);
  const f = makeForecaster();
  const seen = new Set<string>();
  for (const r of rows) {
    // A null speed with a standing queue is 0 km/h, not "no information" (DESIGN.md: zero flow is ambiguous).
    const speed = r.speed ?? (r.occupancy !== null && r.occupancy >= 0.2 ? 0 : null);
    f.observe(r.road_id, new Date(r.minute).getTime(), speed);
    seen.add(r.road_id);
  }
  const out: Prediction[] = [];
  for (const roadId of seen) {
    const road = net.roads.get(roadId);
    if (!road) continue;
    for (const p of f.forecast(roadId, issued, HORIZONS_MIN)) {
      const score = congestionScore({ speedKmh: p.speed_kmh, freeFlowKmh: road.speed_limit_kmh }) ?? 0;
      out.push({
        ts: nowIso,
        target_ts: new Date(issued + p.horizon_min * 60_000).toISOString(),
        road_id: roadId,
        horizon_min: p.horizon_min,
        speed_kmh: p.speed_kmh,
        speed_lo_kmh: p.speed_lo_kmh,
        speed_hi_kmh: p.speed_hi_kmh,
        congestion_score: score,
        confidence: Math.max(0, Math.min(1, p.confidence)),
        model_version: f.modelVersion,
      });
    }
  }
  await insertPredictions(db, out);
  return out;
}
