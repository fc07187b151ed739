/**
 * Recursive least squares with exponential forgetting: the exact online equivalent of refitting a
 * ridge regression on all past samples (weighted by λ^age), at O(d²) per sample and d² + d floats of
 * memory. Starting from w = 0 means "no change" in the models here (targets are changes from the
 * current value), so a cold model behaves like persistence.
 */
export class Rls {
  readonly w: Float64Array;
  private readonly P: Float64Array;
  private readonly Px: Float64Array;
  n = 0;

  constructor(
    readonly d: number,
    public lambda = 0.9995,
    private readonly delta = 0.05,
  ) {
    this.w = new Float64Array(d);
    this.P = new Float64Array(d * d);
    this.Px = new Float64Array(d);
    for (let i = 0; i < d; i++) this.P[i * d + i] = delta;
  }

  predict(x: ArrayLike<number>, off = 0): number {
    let s = 0;
    for (let i = 0; i < this.d; i++) s += this.w[i]! * x[off + i]!;
    return s;
  }

  /**
   * One weighted update (weight in (0, 1]): with weight c/max(|error|, c) the fit is an online
   * iteratively-reweighted least squares, i.e. close to least absolute deviations — the median, which
   * is what MAE rewards and what a sudden jam (a heavy tail) does not drag.
   */
  update(x: ArrayLike<number>, y: number, weight = 1, off = 0): void {
    const { d, P, Px, w } = this;
    let quad = 0;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += P[i * d + j]! * x[off + j]!;
      Px[i] = s;
      quad += x[off + i]! * s;
    }
    const e = y - this.predict(x, off);
    const inv = weight / (this.lambda + weight * quad);
    for (let i = 0; i < d; i++) w[i]! += Px[i]! * inv * e;
    const il = 1 / this.lambda;
    let trace = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) P[i * d + j] = (P[i * d + j]! - Px[i]! * Px[j]! * inv) * il;
      trace += P[i * d + i]!;
    }
    // Forgetting without fresh excitation inflates P ("wind-up"); cap it at the prior's size.
    if (trace > d * this.delta) {
      const f = (d * this.delta) / trace;
      for (let i = 0; i < d * d; i++) P[i]! *= f;
    }
    this.n++;
  }
}
