import { congestionScore, type ForecastRecord } from '@cityflow/protocol';
import type { MinuteAggregate } from '../storage/readings-store.js';

/** The `@cityflow/forecast` interface (kept here so the agent builds against it by shape). */
export interface ForecastPoint {
  horizon_min: number;
  speed_kmh: number;
  speed_lo_kmh: number;
  speed_hi_kmh: number;
  confidence: number;
}
export interface SeriesForecaster {
  readonly modelVersion: string;
  observe(seriesId: string, tsMs: number, speedKmh: number | null): void;
  forecast(seriesId: string, nowMs: number, horizonsMin: number[]): ForecastPoint[];
  prune?(olderThanMs: number): void;
}

export const HORIZONS_MIN = [15, 30, 60];
/** Roads not heard of for this long are not forecast (and forgotten by the model). */
const STALE_MS = 30 * 60_000;

/** Loads the edge model from `@cityflow/forecast`; a last-value model stands in if it is missing. */
export async function loadEdgeForecaster(): Promise<SeriesForecaster> {
  try {
    const mod = (await import('@cityflow/forecast')) as unknown as {
      createEdgeForecaster?: () => SeriesForecaster;
    };
    if (typeof mod.createEdgeForecaster === 'function') return mod.createEdgeForecaster();
  } catch {
    /* fall through */
  }
  return persistenceForecaster();
}

/** Last observed speed, flat; honest fallback with its own model name. */
export function persistenceForecaster(): SeriesForecaster {
  const last = new Map<string, { ts: number; speed: number }>();
  return {
    modelVersion: 'persistence',
    observe(id, ts, speed) {
      if (speed !== null) last.set(id, { ts, speed });
    },
    forecast(id, _now, horizons) {
      const l = last.get(id);
      if (!l) return [];
      return horizons.map((h) => ({
        horizon_min: h,
        speed_kmh: l.speed,
        speed_lo_kmh: l.speed * 0.7,
        speed_hi_kmh: l.speed * 1.2,
        confidence: 0.3,
      }));
    },
    prune(older) {
      for (const [k, v] of last) if (v.ts < older) last.delete(k);
    },
  };
}

export type ForecastBody = Omit<ForecastRecord, 'seq'>;

/**
 * Per-road local prediction: closed minute summaries feed the model (road speed = count-weighted mean
 * of its sensors' non-null speeds); each cycle forecasts every road seen in the last 30 min. It keeps
 * running when the hub is unreachable — its output queues in the outbox like everything else.
 */
export class LocalForecaster {
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly model: SeriesForecaster,
    private readonly freeFlow: (roadId: string) => number | null,
  ) {}

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
          speed_kmh: r1(p.speed_kmh),
          speed_lo_kmh: r1(p.speed_lo_kmh),
          speed_hi_kmh: r1(p.speed_hi_kmh),
          congestion_score: Math.round(score * 1000) / 1000,
          confidence: Math.min(1, Math.max(0, Math.round(p.confidence * 1000) / 1000)),
          model_version: this.model.modelVersion,
        });
      }
    }
    this.model.prune?.(nowMs - STALE_MS);
    return out;
  }
}

const r1 = (x: number) => Math.round(x * 10) / 10;
