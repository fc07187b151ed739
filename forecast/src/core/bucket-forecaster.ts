import type { ForecastPoint, ForecasterOptions, SeriesForecaster } from '../types.js';
import { HorizonTrack } from './horizon-track.js';
import { DailyProfile } from './profile.js';
import { SeriesState } from './series-state.js';

/** A series as every model here sees it: bucket history, daily profile, one track per horizon. */
export class Series extends SeriesState {
  constructor(
    cap: number,
    readonly profile: DailyProfile,
    readonly tracks: HorizonTrack[],
  ) {
    super(cap);
  }
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/**
 * Cold start's prior relative half-width of the 80 % interval, at a horizon of `min` minutes from the
 * base bucket: 0.30 at 15 min, 0.36 at 30, 0.42 at 60 (× (min/15)^¼, at most 0.9). Deliberately about
 * twice the spread measured from a single reading: the 10th/90th percentiles of (5-min mean h later) /
 * (one 1-min reading) − 1 on the SUMO grid are −16/+20 % at 15 and 30 min, −16/+23 % at 60 (METR-LA,
 * 5-min base: −9/+10 % at 15 min, −12/+13 % at 60) — and a road's own spread is still unknown.
 */
export function coldSpread(min: number): number {
  return Math.min(0.9, 0.3 * Math.max(1, min / 15) ** 0.25);
}

/** Highest cold-start confidence (the model's own confidence has a warm-up floor of 0.1). */
const COLD_CONFIDENCE_CAP = 0.1;

/**
 * The machinery shared by every model: bucketing, walk-forward self-scoring and learning, interval
 * quantiles, horizon interpolation, cold start and pruning. A model only says how it forecasts h
 * buckets ahead of a base bucket (`predictAt`), and may write the features it used so that the
 * online fit learns from them once the target bucket closes.
 *
 * Timeline of one series: an observation in a later bucket closes the previous bucket k. Then
 * (1) forecasts issued at k−h are scored against y_k (residual quantiles, learning), (2) the model
 * forecasts from base k with the state as it was before y_k entered the profile, exactly as a live
 * forecast from the still-open bucket k would, (3) y_k enters the profile and running statistics.
 */
export abstract class BucketForecaster implements SeriesForecaster {
  abstract readonly modelVersion: string;
  protected readonly series = new Map<string, Series>();
  readonly stepMin: number;
  protected readonly stepMs: number;
  /** Learned horizons, in buckets, ascending. */
  protected readonly hSteps: number[];
  protected readonly tzOffsetMin: number;
  /**
   * Closed buckets needed before the model forecasts a series. Before that, a series with at least one
   * speed reading (even only in the still-open bucket) gets the cold-start forecast (`coldForecast`).
   */
  protected minHistory = 3;
  protected readonly lagSteps: number;
  /** Separate weekday/weekend profiles (see DailyProfile). */
  protected weekTypes = false;
  /**
   * Sample weight c/max(|error|, c) with c = robustK × residual scale × √h: an online IRLS towards
   * least absolute deviations (MAE is the target; jams are heavy tails). Infinity = plain least squares.
   */
  protected robustK = Number.POSITIVE_INFINITY;
  /** Leading features fitted per series (the rest, if any, belong to a model-wide fit). */
  protected rlsDim: number;
  private scratch: Float64Array;

  constructor(
    opts: ForecasterOptions | undefined,
    protected readonly featureCount: number,
    private readonly rlsLambda?: number,
    private readonly rlsDelta?: number,
  ) {
    this.stepMin = opts?.stepMin ?? 5;
    if (!(this.stepMin > 0)) throw new RangeError(`stepMin must be > 0, got ${this.stepMin}`);
    this.stepMs = this.stepMin * 60_000;
    const hs = (opts?.horizonsMin ?? [15, 30, 60]).map((m) => Math.max(1, Math.round(m / this.stepMin)));
    this.hSteps = [...new Set(hs)].sort((a, b) => a - b);
    this.tzOffsetMin = opts?.tzOffsetMin ?? 0;
    // The medium-term lag window is 30 min (at least 3 buckets) whatever the step.
    this.lagSteps = Math.max(3, Math.round(30 / this.stepMin));
    this.scratch = new Float64Array(Math.max(1, featureCount));
    this.rlsDim = featureCount;
  }

  /** Point forecast t.h buckets after base b; may fill x with features. NaN = cannot. */
  protected abstract predictAt(s: Series, id: string, b: number, t: HorizonTrack, x: Float64Array): number;

  /** Learns from one scored forecast: by default RLS on the change from the base value. */
  protected learn(_s: Series, t: HorizonTrack, slot: number, y: number): void {
    if (!t.rls) return;
    const x = t.row(slot);
    const target = (y - t.yb[slot]!) / t.norm[slot]!;
    const c = (this.robustK * t.scale[slot]! * Math.sqrt(t.h)) / t.norm[slot]!;
    const r = Math.abs(target - t.rls.predict(x));
    t.rls.update(x, target, r > c ? c / r : 1);
  }

  /**
   * The series' level, which learned models divide their features and targets by: weights are then
   * unit-free (km/h or mph, a 30 km/h street or a 110 km/h motorway), so one prior strength fits all
   * and a fit shared by many roads compares like with like.
   */
  protected normOf(s: Series, y: number): number {
    const l = Number.isNaN(s.longMean) ? y : s.longMean;
    return Math.max(Math.abs(l), 1);
  }

  /** Where a long-horizon forecast converges: the time-of-day profile, else the level. */
  protected farValue(s: Series, k: number): number {
    const p = s.profile.smooth(k);
    if (!Number.isNaN(p)) return p;
    return Number.isNaN(s.level) ? s.filled(s.lastSpeedIdx, 0) : s.level;
  }

  protected confidence(
    _s: Series,
    t: HorizonTrack,
    pred: number,
    lo: number,
    hi: number,
    scale: number,
  ): number {
    const warm = Math.min(1, t.resid.count / 48);
    const rel = (hi - lo) / (2 * Math.max(pred, scale, 1e-6));
    return Math.max(0.05, Math.min(0.99, 1 - rel)) * Math.max(0.1, warm);
  }

  protected newSeries(): Series {
    const hmax = this.hSteps[this.hSteps.length - 1]!;
    const cap = hmax + this.lagSteps + 4;
    return new Series(
      cap,
      new DailyProfile(this.stepMin, this.tzOffsetMin, 28, this.weekTypes),
      this.hSteps.map(
        (h) => new HorizonTrack(h, this.featureCount, this.rlsLambda, this.rlsDelta, this.rlsDim),
      ),
    );
  }

  observe(seriesId: string, tsMs: number, speedKmh: number | null): void {
    if (!Number.isFinite(tsMs)) return;
    let s = this.series.get(seriesId);
    if (!s) {
      s = this.newSeries();
      this.series.set(seriesId, s);
    }
    if (tsMs > s.lastSeenMs) s.lastSeenMs = tsMs;
    const closed = s.add(Math.floor(tsMs / this.stepMs), speedKmh);
    if (closed !== null) this.close(seriesId, s, closed);
  }

  private close(id: string, s: Series, k: number): void {
    const y = s.value(k);
    if (Number.isNaN(y)) return; // a bucket of nulls: nothing to learn, the profile keeps its values
    for (const t of s.tracks) {
      const slot = t.slot(k - t.h);
      if (t.base[slot] !== k - t.h) continue;
      t.resid.add((y - t.pred[slot]!) / t.scale[slot]!);
      this.learn(s, t, slot, y);
    }
    for (const t of s.tracks) {
      const slot = t.slot(k);
      const x = t.feats ? t.row(slot) : this.scratch;
      const p = this.predictAt(s, id, k, t, x);
      t.base[slot] = Number.isNaN(p) ? Number.NaN : k;
      t.pred[slot] = p;
      t.scale[slot] = s.scale();
      t.yb[slot] = y;
      t.norm[slot] = this.normOf(s, y);
    }
    s.profile.update(k, y);
    s.noteClosed(y);
  }

  forecast(seriesId: string, nowMs: number, horizonsMin: number[]): ForecastPoint[] {
    const s = this.series.get(seriesId);
    if (!s || !Number.isFinite(s.lastSpeedIdx)) return [];
    const b = s.lastSpeedIdx;
    const yb = s.value(b);
    if (Number.isNaN(yb)) return [];
    const extra = Math.max(0, Math.floor(nowMs / this.stepMs) - b);
    if (s.closed < this.minHistory) return this.coldForecast(s, b, yb, extra, horizonsMin);
    const scale = s.scale();
    const anchors = s.tracks.map((t) => {
      let p = this.predictAt(s, seriesId, b, t, this.scratch);
      if (Number.isNaN(p)) p = yb;
      return { t, h: t.h, p, lo: p + t.resid.lo * scale, hi: p + t.resid.hi * scale };
    });
    const last = anchors[anchors.length - 1]!;
    const out: ForecastPoint[] = [];
    for (const m of horizonsMin) {
      const e = m / this.stepMin + extra;
      let p: number;
      let lo: number;
      let hi: number;
      let t = last.t;
      if (e >= last.h) {
        // Beyond the longest learned horizon: drift to the profile; the interval only widens.
        const w = Math.min(1, (e - last.h) / last.h);
        const far = this.farValue(s, b + Math.round(e));
        p = Number.isNaN(far) ? last.p : (1 - w) * last.p + w * far;
        const grow = Math.sqrt(e / last.h);
        lo = p - (last.p - last.lo) * grow;
        hi = p + (last.hi - last.p) * grow;
      } else {
        let i = 0;
        while (anchors[i]!.h < e) i++;
        const a1 = anchors[i]!;
        const a0 = i > 0 ? anchors[i - 1]! : { h: 0, p: yb, lo: yb, hi: yb };
        const f = (e - a0.h) / (a1.h - a0.h);
        p = a0.p + f * (a1.p - a0.p);
        lo = a0.lo + f * (a1.lo - a0.lo);
        hi = a0.hi + f * (a1.hi - a0.hi);
        t = a1.t;
      }
      const pred = Math.max(0, p);
      lo = Math.max(0, Math.min(lo, pred));
      hi = Math.max(hi, pred);
      out.push({
        horizon_min: m,
        speed_kmh: pred,
        speed_lo_kmh: lo,
        speed_hi_kmh: hi,
        confidence: clamp01(this.confidence(s, t, pred, lo, hi, scale)),
      });
    }
    return out;
  }

  /**
   * Cold start, while a series has fewer than `minHistory` closed buckets (the first ~15 min of a road
   * at 5-min buckets): the latest bucket's mean — the still-open, partial bucket included — held flat,
   * blended towards the time-of-day profile where that time of day was seen before (weight
   * 0.5 × horizon / longest learned horizon, at most 0.5), with a wide prior 80 % interval
   * forecast × (1 ± COLD_SPREAD(horizon)) and a low confidence that grows with the closed buckets.
   * Horizons count from the base bucket, so a stale base widens the interval as in `forecast`.
   */
  protected coldForecast(
    s: Series,
    b: number,
    yb: number,
    extra: number,
    horizonsMin: number[],
  ): ForecastPoint[] {
    const hmax = this.hSteps[this.hSteps.length - 1]!;
    // 0.25, 0.5, 0.75 of the cap with 0, 1, 2 closed buckets (minHistory 3): never above what the
    // model itself reports on its first forecasts (its warm-up floor is 0.1).
    const history = (s.closed + 1) / (this.minHistory + 1);
    return horizonsMin.map((m) => {
      const e = m / this.stepMin + extra;
      const k = b + Math.round(e);
      const seen = !Number.isNaN(s.profile.raw(k));
      const prof = seen ? this.farValue(s, k) : Number.NaN;
      const w = Number.isNaN(prof) ? 0 : 0.5 * Math.min(1, e / hmax);
      const pred = Math.max(0, w > 0 ? (1 - w) * yb + w * prof : yb);
      const r = coldSpread(e * this.stepMin);
      const lo = Math.max(0, pred * (1 - r));
      const hi = pred * (1 + r);
      return {
        horizon_min: m,
        speed_kmh: pred,
        speed_lo_kmh: lo,
        speed_hi_kmh: hi,
        confidence: clamp01(COLD_CONFIDENCE_CAP * history * Math.max(0.05, Math.min(0.99, 1 - r))),
        cold_start: true,
      };
    });
  }

  prune(olderThanMs: number): void {
    for (const [id, s] of this.series) if (s.lastSeenMs < olderThanMs) this.series.delete(id);
  }

  /** Number of series held (for memory accounting and tests). */
  get size(): number {
    return this.series.size;
  }
}
