/**
 * Per-series bucket history: a fixed ring of bucket sums/counts indexed by bucket number, so memory
 * per series is bounded whatever the gaps or the observation rate.
 */
export class SeriesState {
  readonly cap: number;
  private readonly idx: Float64Array;
  private readonly sum: Float64Array;
  private readonly cnt: Uint32Array;
  /** Latest bucket seen (a null speed counts: time moved on). */
  lastIdx = Number.NEGATIVE_INFINITY;
  /** Latest bucket holding a speed. */
  lastSpeedIdx = Number.NEGATIVE_INFINITY;
  lastSeenMs = 0;
  /** Closed buckets with a speed (history length, for cold start). */
  closed = 0;
  /** EWMA of |y_k − y_{k−1}| over closed buckets: the series' local volatility (normalises residuals). */
  vol = Number.NaN;
  /** EWMA of the level, the profile's fallback where a time of day was never seen. */
  level = Number.NaN;
  /** Long-run mean (cumulative, then a week-long EWMA at 5-min buckets): a stable scale for the series. */
  longMean = Number.NaN;
  /** Largest bucket mean seen. */
  max = 0;
  private prevClosed = Number.NaN;

  constructor(cap: number) {
    this.cap = cap;
    this.idx = new Float64Array(cap).fill(Number.NaN);
    this.sum = new Float64Array(cap);
    this.cnt = new Uint32Array(cap);
  }

  /** Adds an observation; returns the bucket that this observation closed, or null. */
  add(k: number, speed: number | null): number | null {
    let closedIdx: number | null = null;
    if (k > this.lastIdx) {
      if (Number.isFinite(this.lastIdx)) closedIdx = this.lastIdx;
      this.lastIdx = k;
    } else if (k <= this.lastIdx - this.cap) return null; // too late to matter
    const slot = k % this.cap;
    if (this.idx[slot] !== k) {
      this.idx[slot] = k;
      this.sum[slot] = 0;
      this.cnt[slot] = 0;
    }
    if (speed !== null && Number.isFinite(speed)) {
      this.sum[slot]! += speed;
      this.cnt[slot]! += 1;
      if (k > this.lastSpeedIdx) this.lastSpeedIdx = k;
    }
    return closedIdx;
  }

  /** Mean speed of bucket k, NaN if unknown. */
  value(k: number): number {
    const slot = k % this.cap;
    if (this.idx[slot] !== k || this.cnt[slot] === 0) return Number.NaN;
    return this.sum[slot]! / this.cnt[slot]!;
  }

  /** Number of speed observations in bucket k. */
  count(k: number): number {
    const slot = k % this.cap;
    return this.idx[slot] === k ? this.cnt[slot]! : 0;
  }

  /** Latest known speed at or before k, looking back at most maxBack buckets (gaps and nulls). */
  filled(k: number, maxBack: number): number {
    for (let j = k; j >= k - maxBack; j--) {
      const v = this.value(j);
      if (!Number.isNaN(v)) return v;
    }
    return Number.NaN;
  }

  /** Mean of the known values in buckets [from, to]; NaN if none. */
  mean(from: number, to: number): number {
    let s = 0;
    let n = 0;
    for (let j = from; j <= to; j++) {
      const v = this.value(j);
      if (!Number.isNaN(v)) {
        s += v;
        n++;
      }
    }
    return n ? s / n : Number.NaN;
  }

  /** Updates the running statistics with a closed bucket's value (after the model used the old ones). */
  noteClosed(y: number): void {
    this.closed++;
    if (y > this.max) this.max = y;
    this.longMean = Number.isNaN(this.longMean)
      ? y
      : this.longMean + (y - this.longMean) / Math.min(this.closed, 2016);
    this.level = Number.isNaN(this.level) ? y : this.level + 0.02 * (y - this.level);
    if (!Number.isNaN(this.prevClosed)) {
      const d = Math.abs(y - this.prevClosed);
      this.vol = Number.isNaN(this.vol) ? d : this.vol + 0.05 * (d - this.vol);
    }
    this.prevClosed = y;
  }

  /** Residual scale: volatility with a floor so a flat series still gets a finite, non-zero interval. */
  scale(): number {
    const lv = Number.isNaN(this.level) ? 1 : Math.abs(this.level);
    const v = Number.isNaN(this.vol) ? 0.05 * lv : this.vol;
    return Math.max(v, 0.005 * lv, 1e-3);
  }
}
