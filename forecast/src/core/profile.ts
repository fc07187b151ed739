/**
 * Time-of-day profile learned online: one running mean per bucket of the day. The mean forgets
 * slowly (at most `maxDays` of weight) so a profile follows seasonal drift. Memory: 6 bytes per bin
 * (288 bins at 5 min ≈ 1.7 kB per series).
 */
export class DailyProfile {
  readonly bins: number;
  private readonly mean: Float32Array;
  private readonly cnt: Uint16Array;

  constructor(
    private readonly stepMin: number,
    private readonly tzOffsetMin = 0,
    private readonly maxDays = 28,
  ) {
    this.bins = Math.max(1, Math.round(1440 / stepMin));
    this.mean = new Float32Array(this.bins);
    this.cnt = new Uint16Array(this.bins);
  }

  bin(k: number): number {
    const minute = (((k * this.stepMin + this.tzOffsetMin) % 1440) + 1440) % 1440;
    return Math.min(this.bins - 1, Math.floor(minute / this.stepMin));
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
    return this.cnt[b] ? this.mean[b]! : Number.NaN;
  }

  /**
   * Mean smoothed over ±`half` neighbouring bins (triangular weights): a few days of data give a
   * noisy profile at 5-min resolution, and traffic patterns are smooth at that scale.
   */
  smooth(k: number, half = 2): number {
    const b0 = this.bin(k);
    let s = 0;
    let w = 0;
    for (let d = -half; d <= half; d++) {
      const b = (b0 + d + this.bins) % this.bins;
      const c = this.cnt[b]!;
      if (!c) continue;
      const wd = (half + 1 - Math.abs(d)) * Math.min(c, 4);
      s += wd * this.mean[b]!;
      w += wd;
    }
    return w ? s / w : Number.NaN;
  }

  /** Days of data behind bucket k's time of day. */
  days(k: number): number {
    return this.cnt[this.bin(k)]!;
  }
}
