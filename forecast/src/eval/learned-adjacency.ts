import type { Neighbours } from '../types.js';

/**
 * A learned adjacency for data without a road graph: each series' k most correlated series, by the
 * correlation of their changes over `lagSteps` buckets on the training part only (levels correlate
 * through the daily cycle alone; changes correlate when the roads share traffic). Weight = correlation.
 */
export function learnAdjacency(
  ids: string[],
  values: Float64Array[],
  trainEnd: number,
  k = 6,
  lagSteps = 3,
): Neighbours {
  const n = values.length;
  const diffs = values.map((v) => {
    const d = new Float64Array(Math.max(0, trainEnd - lagSteps));
    for (let t = lagSteps; t < trainEnd; t++) d[t - lagSteps] = v[t]! - v[t - lagSteps]!;
    return d;
  });
  const corr = (a: Float64Array, b: Float64Array) => {
    let sa = 0;
    let sb = 0;
    let saa = 0;
    let sbb = 0;
    let sab = 0;
    let m = 0;
    for (let t = 0; t < a.length; t++) {
      const x = a[t]!;
      const y = b[t]!;
      if (Number.isNaN(x) || Number.isNaN(y)) continue;
      sa += x;
      sb += y;
      saa += x * x;
      sbb += y * y;
      sab += x * y;
      m++;
    }
    if (m < 10) return 0;
    const cov = sab / m - (sa / m) * (sb / m);
    const va = saa / m - (sa / m) ** 2;
    const vb = sbb / m - (sb / m) ** 2;
    return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
  };
  const c = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const r = corr(diffs[i]!, diffs[j]!);
      c[i]![j] = r;
      c[j]![i] = r;
    }
  return new Map(
    Array.from({ length: n }, (_, i) => {
      const best = [...c[i]!.keys()]
        .filter((j) => j !== i && c[i]![j]! > 0.1)
        .sort((a, b) => c[i]![b]! - c[i]![a]!)
        .slice(0, k);
      return [ids[i]!, best.map((j) => ({ id: ids[j]!, weight: c[i]![j]! }))] as const;
    }),
  );
}
