import type { Series } from '../core/bucket-forecaster.js';
import type { HorizonTrack } from '../core/horizon-track.js';
import type { ForecasterOptions, Neighbours, SeriesForecaster } from '../types.js';
import { EDGE_FEATURES, EdgeForecaster } from './edge.js';

const NETWORK_FEATURES = 2;

/**
 * `cityflow-network`: the edge regression plus two features from the road's neighbours (upstream and
 * downstream roads from the network topology, or a sensor adjacency), weighted by closeness:
 *   the neighbours' anomaly against their own profile (a jam nearby spreads, or clears),
 *   the neighbours' 15-min trend (a slowdown downstream arrives upstream as a shockwave).
 * A road whose neighbours have no data gets zeros there, and its weights on them stay near 0: it
 * falls back to the edge model by construction.
 */
export class NetworkForecaster extends EdgeForecaster {
  override readonly modelVersion: string = 'cityflow-network';

  constructor(
    private readonly neighbours: Neighbours,
    opts?: ForecasterOptions,
  ) {
    super(opts, NETWORK_FEATURES);
  }

  protected override predictAt(s: Series, id: string, b: number, t: HorizonTrack, x: Float64Array): number {
    const y = this.edgeFeatures(s, b, t.h, x);
    if (Number.isNaN(y)) return y;
    let w = 0;
    let anomaly = 0;
    let trend = 0;
    const short = Math.max(2, Math.round(this.lagSteps / 2));
    for (const n of this.neighbours.get(id) ?? []) {
      const o = this.series.get(n.id);
      if (!o) continue;
      const yo = o.filled(b, 2);
      if (Number.isNaN(yo)) continue;
      const mo = o.mean(b - short, b - 1);
      anomaly += n.weight * (yo - this.profileAt(o, b, yo));
      trend += n.weight * (Number.isNaN(mo) ? 0 : yo - mo);
      w += n.weight;
    }
    x[EDGE_FEATURES] = w > 0 ? anomaly / w : 0;
    x[EDGE_FEATURES + 1] = w > 0 ? trend / w : 0;
    return y + t.rls!.predict(x);
  }
}

export function createNetworkForecaster(neighbours: Neighbours, opts?: ForecasterOptions): SeriesForecaster {
  return new NetworkForecaster(neighbours, opts);
}
