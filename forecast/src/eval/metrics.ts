/** Error accumulators for one model at one horizon. */
export class ErrorStats {
  n = 0;
  private abs = 0;
  private sq = 0;
  private ape = 0;
  private nApe = 0;
  covered = 0;

  add(pred: number, actual: number, lo: number, hi: number): void {
    const e = pred - actual;
    this.n++;
    this.abs += Math.abs(e);
    this.sq += e * e;
    // MAPE skips zero actuals (a standing queue): a percentage of 0 is undefined.
    if (Math.abs(actual) > 1e-9) {
      this.ape += Math.abs(e / actual);
      this.nApe++;
    }
    if (actual >= lo && actual <= hi) this.covered++;
  }

  result(): { mae: number; rmse: number; mape: number } {
    const r = (x: number) => Math.round(x * 1e4) / 1e4;
    return {
      mae: r(this.n ? this.abs / this.n : Number.NaN),
      rmse: r(this.n ? Math.sqrt(this.sq / this.n) : Number.NaN),
      mape: r(this.nApe ? (100 * this.ape) / this.nApe : Number.NaN),
    };
  }
}

/** Precision and recall of "congested at the horizon" (score ≥ 0.5). */
export class CongestionStats {
  tp = 0;
  fp = 0;
  fn = 0;
  add(predicted: boolean, actual: boolean): void {
    if (predicted && actual) this.tp++;
    else if (predicted) this.fp++;
    else if (actual) this.fn++;
  }
  /** null where undefined (0/0: nothing predicted, or nothing congested), not a misleading 0. */
  result(): { precision: number | null; recall: number | null } {
    const r = (num: number, den: number) => (den ? Math.round((num / den) * 1e4) / 1e4 : null);
    return { precision: r(this.tp, this.tp + this.fp), recall: r(this.tp, this.tp + this.fn) };
  }
}
