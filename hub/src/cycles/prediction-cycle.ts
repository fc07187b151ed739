import { type SeriesForecaster, createNetworkForecaster, roadNeighbours } from '@cityflow/forecast';
import { type Network, type Prediction, STANDING_OCCUPANCY, congestionScore } from '@cityflow/protocol';
import type { Db } from '../db/db.js';
import { insertPredictions, roadMinutesBetween } from '../store/traffic.js';

export const HORIZONS_MIN = [15, 30, 60];
/** History fed to a freshly started model (a new leader): one day, so the daily profile has something. */
export const WARMUP_MIN = 24 * 60;
/**
 * A minute is fed to the model once it is this old on the active clock: agents deliver a closed minute
 * within 90 s of its end, so by then all sensors of a road are in.
 */
export const SETTLE_MS = 3 * 60_000;

/**
 * The hub's network model (`cityflow-network`, from @cityflow/forecast), fitted online: each cycle feeds
 * the per-road minutes that settled since the last one, then forecasts every road at 15/30/60 min, with
 * protocol's congestion score from the road's speed limit.
 */
export class PredictionCycle {
  private forecaster: SeriesForecaster;
  private fedUntilMs: number | null = null;

  constructor(
    private readonly db: Db,
    private readonly net: Network,
    private readonly make: () => SeriesForecaster = () => createNetworkForecaster(roadNeighbours(net)),
  ) {
    this.forecaster = this.make();
  }

  /** Forget the fitted state (a replica that loses leadership refits from the database when it regains it). */
  reset(): void {
    this.forecaster = this.make();
    this.fedUntilMs = null;
  }

  async run(nowMs: number): Promise<Prediction[]> {
    // The clock went back (a data-clock replay began after cycles ran on the wall-clock fallback):
    // start the model over on the replay's timeline.
    if (this.fedUntilMs !== null && nowMs < this.fedUntilMs) this.reset();
    const issued = Math.floor(nowMs / 60_000) * 60_000;
    const from = this.fedUntilMs ?? issued - WARMUP_MIN * 60_000;
    const until = Math.floor((nowMs - SETTLE_MS) / 60_000) * 60_000;
    if (until > from) {
      const rows = await roadMinutesBetween(
        this.db,
        new Date(from).toISOString(),
        new Date(until).toISOString(),
      );
      for (const r of rows) {
        // A null speed over a standing queue is 0 km/h, not "no vehicle" (DESIGN.md: zero flow is ambiguous).
        const speed = r.speed ?? (r.occupancy !== null && r.occupancy >= STANDING_OCCUPANCY ? 0 : null);
        this.forecaster.observe(r.road_id, new Date(r.minute).getTime(), speed);
      }
      this.fedUntilMs = until;
      this.forecaster.prune?.(issued - 2 * WARMUP_MIN * 60_000);
    }
    const nowIso = new Date(issued).toISOString();
    const out: Prediction[] = [];
    for (const road of this.net.roads.values()) {
      for (const p of this.forecaster.forecast(road.road_id, issued, HORIZONS_MIN)) {
        out.push({
          ts: nowIso,
          target_ts: new Date(issued + p.horizon_min * 60_000).toISOString(),
          road_id: road.road_id,
          horizon_min: p.horizon_min,
          speed_kmh: p.speed_kmh,
          speed_lo_kmh: p.speed_lo_kmh,
          speed_hi_kmh: p.speed_hi_kmh,
          congestion_score:
            congestionScore({ speedKmh: p.speed_kmh, freeFlowKmh: road.speed_limit_kmh }) ?? 0,
          confidence: Math.max(0, Math.min(1, p.confidence)),
          model_version: this.forecaster.modelVersion,
        });
      }
    }
    await insertPredictions(this.db, out);
    return out;
  }
}
