import { ResidualQuantiles } from './residuals.js';
import { Rls } from './rls.js';

/**
 * What one series remembers for one learned horizon h (in buckets): the forecasts it issued for the
 * last h+1 bases (so each can be scored when its target bucket closes), their features (for the
 * online fit) and the residual quantiles that give the prediction interval.
 */
export class HorizonTrack {
  readonly len: number;
  readonly base: Float64Array;
  readonly pred: Float64Array;
  readonly scale: Float64Array;
  readonly yb: Float64Array;
  /** The series' level when the forecast was made: features and targets are relative to it. */
  readonly norm: Float64Array;
  readonly feats: Float64Array | null;
  readonly resid: ResidualQuantiles;
  readonly rls: Rls | null;

  constructor(
    readonly h: number,
    readonly d: number,
    rlsLambda?: number,
    rlsDelta?: number,
    rlsDim = d,
  ) {
    this.len = h + 1;
    this.base = new Float64Array(this.len).fill(Number.NaN);
    this.pred = new Float64Array(this.len);
    this.scale = new Float64Array(this.len);
    this.yb = new Float64Array(this.len);
    this.norm = new Float64Array(this.len).fill(1);
    this.feats = d > 0 ? new Float64Array(this.len * d) : null;
    this.rls = rlsDim > 0 ? new Rls(rlsDim, rlsLambda, rlsDelta) : null;
    // Prior half-width in residual-scale units (scale ≈ mean |1-step change|): a random walk of h steps
    // would need 1.6·√h for 80 %; traffic reverts to its level, so a bit less (1.4 measured on SUMO).
    this.resid = new ResidualQuantiles(1.4 * Math.sqrt(h));
  }

  slot(b: number): number {
    return ((b % this.len) + this.len) % this.len;
  }

  /** Feature row for a slot (a view, written by the model). */
  row(slot: number): Float64Array {
    return this.feats!.subarray(slot * this.d, (slot + 1) * this.d);
  }
}
