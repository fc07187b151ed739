/**
 * Empirical quantiles of recent normalised residuals (actual − forecast) / scale, one tracker per
 * series and horizon: the 80 % interval is [forecast + q10·scale, forecast + q90·scale]. Kept as a
 * ring of the last `size` residuals; quantiles are re-sorted every `every` additions (amortised cost).
 */
// One sort buffer for every tracker (single-threaded, used only inside refresh): saves 1 kB per tracker.
let scratch = new Float32Array(256);

export class ResidualQuantiles {
  private readonly ring: Float32Array;
  private n = 0;
  private sinceSort = 0;
  lo: number;
  hi: number;

  constructor(
    private readonly defaultHalfWidth: number,
    readonly loQ = 0.1,
    readonly hiQ = 0.9,
    size = 256,
    private readonly every = 16,
  ) {
    this.ring = new Float32Array(size);
    if (scratch.length < size) scratch = new Float32Array(size);
    this.lo = -defaultHalfWidth;
    this.hi = defaultHalfWidth;
  }

  get count(): number {
    return this.n;
  }

  add(r: number): void {
    if (!Number.isFinite(r)) return;
    this.ring[this.n % this.ring.length] = r;
    this.n++;
    if (++this.sinceSort >= this.every || this.n === this.every) this.refresh();
  }

  private refresh(): void {
    this.sinceSort = 0;
    const m = Math.min(this.n, this.ring.length);
    if (m < this.every) return;
    const s = scratch.subarray(0, m);
    s.set(this.ring.subarray(0, m));
    s.sort();
    const q = (p: number) => s[Math.min(m - 1, Math.max(0, Math.round(p * (m - 1))))]!;
    // With few residuals the empirical tails are unreliable; blend with the prior width until 24.
    const w = Math.min(1, m / 24);
    this.lo = w * q(this.loQ) + (1 - w) * -this.defaultHalfWidth;
    this.hi = w * q(this.hiQ) + (1 - w) * this.defaultHalfWidth;
  }
}
