import { CityFlowError } from '@cityflow/protocol';

/** A set of aligned series on a regular time grid (the evaluator's input). */
export interface Dataset {
  ids: string[];
  /** Grid timestamps (ms), regular, step `stepMs`. */
  tsMs: Float64Array;
  stepMs: number;
  /** values[sensor][t]: speed in the CSV's own units, NaN where missing or null. */
  values: Float64Array[];
  layout: 'wide' | 'long';
}

const ZONE = /(Z|[+-]\d\d:?\d\d)$/i;

/** RFC 3339 with or without a zone; a zoneless time is read as UTC so its wall-clock hour is kept. */
export function parseTs(s: string): number {
  const t = s.trim();
  return Date.parse(ZONE.test(t) ? t : `${t}Z`);
}

function splitLine(line: string): string[] {
  return line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

const num = (s: string | undefined) => (s === undefined || s === '' ? Number.NaN : Number(s));

/**
 * Reads either layout: wide (`ts` then one speed column per sensor, as METR-LA's speed_mph.csv) or
 * long (`ts,sensor_id,…,speed_kmh,…`, one row per sensor and time, as sumo-grid's sensors.csv; rows of
 * one sensor in one grid step are averaged, empty speeds are missing). The step is the smallest gap
 * between distinct timestamps; missing steps become NaN.
 *
 * A speed of exactly 0 is "missing" by default in the wide layout — the METR-LA/PEMS convention, where
 * the published (masked) metrics skip it — and a real standstill in the long layout (a SUMO loop
 * under a stopped queue). `zeroIsMissing` overrides either.
 */
export function parseSeriesCsv(text: string, opts: { zeroIsMissing?: boolean } = {}): Dataset {
  const ls = lines(text);
  if (ls.length < 2)
    throw new CityFlowError('CF_INVALID_CONFIG', 'CSV: expected a header and at least one row');
  const header = splitLine(ls[0]!);
  const tsCol = header.findIndex((h) => h.toLowerCase() === 'ts');
  if (tsCol < 0) throw new CityFlowError('CF_INVALID_CONFIG', 'CSV: no `ts` column in the header');
  const sensorCol = header.indexOf('sensor_id');
  const rows: Array<{ t: number; id: string; v: number }> = [];
  const errors: string[] = [];
  let ids: string[];
  let layout: Dataset['layout'];
  if (sensorCol >= 0) {
    layout = 'long';
    const speedCol = header.findIndex((h) => h === 'speed_kmh' || h === 'speed' || h === 'speed_mph');
    if (speedCol < 0) throw new CityFlowError('CF_INVALID_CONFIG', 'CSV (long layout): no speed_kmh column');
    const seen = new Set<string>();
    for (let i = 1; i < ls.length; i++) {
      const f = splitLine(ls[i]!);
      const t = parseTs(f[tsCol] ?? '');
      const id = f[sensorCol] ?? '';
      if (Number.isNaN(t) || !id) {
        if (errors.length < 5) errors.push(`line ${i + 1}: bad ts or sensor_id`);
        continue;
      }
      seen.add(id);
      rows.push({ t, id, v: num(f[speedCol]) });
    }
    ids = [...seen];
  } else {
    layout = 'wide';
    ids = header.filter((_, i) => i !== tsCol);
    const cols = header.map((_, i) => i).filter((i) => i !== tsCol);
    for (let i = 1; i < ls.length; i++) {
      const f = splitLine(ls[i]!);
      const t = parseTs(f[tsCol] ?? '');
      if (Number.isNaN(t)) {
        if (errors.length < 5) errors.push(`line ${i + 1}: bad ts ${JSON.stringify(f[tsCol])}`);
        continue;
      }
      for (let j = 0; j < cols.length; j++) rows.push({ t, id: ids[j]!, v: num(f[cols[j]!]) });
    }
  }
  if (errors.length) throw new CityFlowError('CF_INVALID_CONFIG', `CSV: ${errors.join('; ')}`, errors);
  const times = [...new Set(rows.map((r) => r.t))].sort((a, b) => a - b);
  let stepMs = Number.POSITIVE_INFINITY;
  for (let i = 1; i < times.length; i++) stepMs = Math.min(stepMs, times[i]! - times[i - 1]!);
  if (!Number.isFinite(stepMs))
    throw new CityFlowError('CF_INVALID_CONFIG', 'CSV: need at least two distinct ts');
  const t0 = times[0]!;
  const n = Math.round((times[times.length - 1]! - t0) / stepMs) + 1;
  const index = new Map(ids.map((id, i) => [id, i]));
  const sum = ids.map(() => new Float64Array(n));
  const cnt = ids.map(() => new Uint32Array(n));
  const zeroMissing = opts.zeroIsMissing ?? layout === 'wide';
  for (const r of rows) {
    if (!Number.isFinite(r.v) || (zeroMissing && r.v === 0)) continue;
    const k = Math.floor((r.t - t0) / stepMs);
    const s = index.get(r.id)!;
    sum[s]![k]! += r.v;
    cnt[s]![k]! += 1;
  }
  const values = sum.map((s, i) => s.map((v, k) => (cnt[i]![k]! ? v / cnt[i]![k]! : Number.NaN)));
  const tsMs = new Float64Array(n).map((_, k) => t0 + k * stepMs);
  return { ids, tsMs, stepMs, values, layout };
}

/** `from,to,weight` rows (weight optional, default 1). */
export function parseAdjacencyCsv(text: string): Array<{ from: string; to: string; weight: number }> {
  const ls = lines(text);
  const header = splitLine(ls[0] ?? '');
  const fi = header.indexOf('from');
  const ti = header.indexOf('to');
  const wi = header.indexOf('weight');
  if (fi < 0 || ti < 0)
    throw new CityFlowError('CF_INVALID_CONFIG', 'adjacency CSV: expected a from,to[,weight] header');
  const out: Array<{ from: string; to: string; weight: number }> = [];
  for (let i = 1; i < ls.length; i++) {
    const f = splitLine(ls[i]!);
    const weight = wi < 0 ? 1 : Number(f[wi]);
    if (!f[fi] || !f[ti] || !Number.isFinite(weight))
      throw new CityFlowError('CF_INVALID_CONFIG', `adjacency CSV line ${i + 1}: expected from,to,weight`);
    out.push({ from: f[fi]!, to: f[ti]!, weight });
  }
  return out;
}

/** Averages a dataset onto a coarser grid (`stepMs` a multiple of the data step); NaN stays missing. */
export function resample(ds: Dataset, stepMs: number): Dataset {
  const f = stepMs / ds.stepMs;
  if (!Number.isInteger(f) || f < 1)
    throw new CityFlowError(
      'CF_INVALID_CONFIG',
      `--step must be a multiple of the data step (${ds.stepMs / 60_000} min)`,
    );
  if (f === 1) return ds;
  const t0 = Math.floor(ds.tsMs[0]! / stepMs) * stepMs;
  const n = Math.floor((ds.tsMs[ds.tsMs.length - 1]! - t0) / stepMs) + 1;
  const values = ds.values.map((v) => {
    const sum = new Float64Array(n);
    const cnt = new Uint32Array(n);
    v.forEach((x, k) => {
      if (Number.isNaN(x)) return;
      const j = Math.floor((ds.tsMs[k]! - t0) / stepMs);
      sum[j]! += x;
      cnt[j]! += 1;
    });
    return sum.map((s, j) => (cnt[j] ? s / cnt[j]! : Number.NaN));
  });
  return { ...ds, stepMs, tsMs: Float64Array.from({ length: n }, (_, j) => t0 + j * stepMs), values };
}
