import type { SeriesForecaster } from '@cityflow/forecast';
import {
  EDGE_MODEL_NAMES,
  type EdgeModelName,
  type ForecastRecord,
  UPLINK_LIMITS,
  congestionScore,
} from '@cityflow/protocol';
import type { MinuteAggregate } from '../storage/readings-store.js';

export const HORIZONS_MIN = [15, 30, 60];
/** Roads not heard of for this long are not forecast (and forgotten by the model). */
const STALE_MS = 30 * 60_000;

export type ForecastBody = Omit<ForecastRecord, 'seq'>;

/**
 * Per-road local prediction: closed minute summaries feed the model (road speed = count-weighted mean
 * of its sensors' non-null speeds); each cycle forecasts every road seen in the last 30 min. It keeps
 * running when the hub is unreachable — its output queues in the outbox like everything else.
 */
export class LocalForecaster {
  private readonly lastSeen = new Map<string, number>();

  private readonly edgeModel: EdgeModelName;

  constructor(
    private readonly model: SeriesForecaster,
    private readonly freeFlow: (roadId: string) => number | null,
  ) {
    // The hub accepts only the edge model names from an agent (protocol UPLINK rules).
    const name = EDGE_MODEL_NAMES.find((m) => m === model.modelVersion);
    if (!name)
      throw new Error(`model ${model.modelVersion} is not an edge model (${EDGE_MODEL_NAMES.join(', ')})`);
    this.edgeModel = name;
  }

  get modelVersion(): string {
    return this.model.modelVersion;
  }

  observe(aggs: MinuteAggregate[]): void {
    const roads = new Map<string, { minute: number; sum: number; n: number }>();
    for (const a of aggs) {
      const key = `${a.road_id}|${a.minute_ms}`;
      let r = roads.get(key);
      if (!r) {
        r = { minute: a.minute_ms, sum: 0, n: 0 };
        roads.set(key, r);
      }
      const speeds = a.count - a.null_speed_count;
      if (a.speed_mean !== null && speeds > 0) {
        r.sum += a.speed_mean * speeds;
        r.n += speeds;
      }
    }
    for (const [key, r] of roads) {
      const roadId = key.slice(0, key.lastIndexOf('|'));
      this.model.observe(roadId, r.minute, r.n > 0 ? r.sum / r.n : null);
      this.lastSeen.set(roadId, Math.max(this.lastSeen.get(roadId) ?? 0, r.minute));
    }
  }

  /** One forecast cycle at `nowMs`; returns the records to queue. */
  cycle(nowMs: number): ForecastBody[] {
    const out: ForecastBody[] = [];
    const ts = new Date(nowMs).toISOString();
    for (const [roadId, seen] of this.lastSeen) {
      if (seen < nowMs - STALE_MS) {
        this.lastSeen.delete(roadId);
        continue;
      }
      const ff = this.freeFlow(roadId);
      for (const p of this.model.forecast(roadId, nowMs, HORIZONS_MIN)) {
        const score = ff === null ? null : congestionScore({ speedKmh: p.speed_kmh, freeFlowKmh: ff });
        if (score === null || !Number.isFinite(p.speed_kmh)) continue;
        out.push({
          ts,
          target_ts: new Date(nowMs + p.horizon_min * 60_000).toISOString(),
          road_id: roadId,
          horizon_min: p.horizon_min,
          // the uplink schema bounds speeds to 0..UPLINK_LIMITS.maxSpeedKmh; a band may extrapolate past them
          speed_kmh: r1(clampSpeed(p.speed_kmh)),
          speed_lo_kmh: r1(clampSpeed(p.speed_lo_kmh)),
          speed_hi_kmh: r1(clampSpeed(p.speed_hi_kmh)),
          congestion_score: Math.round(score * 1000) / 1000,
          confidence: Math.min(1, Math.max(0, Math.round(p.confidence * 1000) / 1000)),
          model_version: this.edgeModel,
        });
      }
    }
    this.model.prune?.(nowMs - STALE_MS);
    return out;
  }
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const clampSpeed = (x: number) => Math.min(UPLINK_LIMITS.maxSpeedKmh, Math.max(0, x));
