/**
 * Time-of-day profile learned online: one running mean per bucket of the day. The mean forgets
 * slowly (at most `maxDays` of weight) so a profile follows seasonal drift. Memory: 6 bytes per bin
 * (288 bins at 5 min ≈ 1.7 kB per series).
 */
export class DailyProfile {
  readonly bins: number;
  private readonly mean: Float32Array;
  private readonly cnt: Uint16Array;

  private readonly types: number;

  /**
   * With `weekTypes`, weekdays and weekends keep separate profiles (twice the memory): a Saturday
   * morning is not a Tuesday morning. A time of day not yet seen on that type of day borrows the other.
   */
  constructor(
    private readonly stepMin: number,
    private readonly tzOffsetMin = 0,
    private readonly maxDays = 28,
    weekTypes = false,
  ) {
    this.bins = Math.max(1, Math.round(1440 / stepMin));
    this.types = weekTypes ? 2 : 1;
    this.mean = new Float32Array(this.bins * this.types);
    this.cnt = new Uint16Array(this.bins * this.types);
  }

  /** Slot of bucket k: time-of-day bin, offset by the day type (weekday/weekend) when kept apart. */
  bin(k: number): number {
    const t = k * this.stepMin + this.tzOffsetMin;
    const minute = ((t % 1440) + 1440) % 1440;
    const b = Math.min(this.bins - 1, Math.floor(minute / this.stepMin));
    if (this.types === 1) return b;
    const dow = (((Math.floor(t / 1440) + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    return dow === 0 || dow === 6 ? b + this.bins : b;
  }

  update(k: number, y: number): void {
    const b = this.bin(k);
    const n = Math.min(this.cnt[b]! + 1, this.maxDays);
    this.cnt[b] = n;
    this.mean[b]! += (y - this.mean[b]!) / n;
  }

  /** Plain mean of bucket k's time of day (the historical average), NaN when never seen. */
  raw(k: number): number {
    const b = this.bin(k);
    if (this.cnt[b]) return this.mean[b]!;
    const o = this.other(b);
    return o >= 0 && this.cnt[o] ? this.mean[o]! : Number.NaN;
  }

  private other(b: number): number {
    return this.types === 1 ? -1 : (b + this.bins) % (2 * this.bins);
  }

  /**
   * Mean smoothed over ±`half` neighbouring bins (triangular weights): a few days of data give a
   * noisy profile at 5-min resolution, and traffic patterns are smooth at that scale.
   */
  smooth(k: number, half = 2): number {
    const b0 = this.bin(k);
    const v = this.smoothAt(b0, half);
    if (!Number.isNaN(v)) return v;
    const o = this.other(b0);
    return o >= 0 ? this.smoothAt(o, half) : v;
  }

  private smoothAt(b0: number, half: number): number {
    const base = b0 - (b0 % this.bins);
    const b = b0 - base;
    let s = 0;
    let w = 0;
    for (let d = -half; d <= half; d++) {
      const i = base + ((b + d + this.bins) % this.bins);
      const c = this.cnt[i]!;
      if (!c) continue;
      const wd = (half + 1 - Math.abs(d)) * Math.min(c, 4);
      s += wd * this.mean[i]!;
      w += wd;
    }
    return w ? s / w : Number.NaN;
  }

  /** Days of data behind bucket k's time of day. */
  days(k: number): number {
    return this.cnt[this.bin(k)]!;
  }
}
