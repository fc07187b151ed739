// Colour levels of the congestion score. "Congested" is score >= 0.5 everywhere in CityFlow
// (protocol/src/congestion.ts, CONGESTED_THRESHOLD); "slow" marks the approach to it.
export const CONGESTED = 0.5;
export const SLOW = 0.3;

export function level(score) {
  if (typeof score !== 'number' || !Number.isFinite(score)) return 'none';
  if (score >= CONGESTED) return 'jam';
  if (score >= SLOW) return 'slow';
  return 'free';
}

export const LEVEL_LABEL = { free: 'fluid', slow: 'slow', jam: 'congested', none: 'no data' };

export const fmt = {
  num(v, digits = 0, unit = '') {
    return typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : '—';
  },
  time(ts) {
    if (!ts) return '—';
    const d = new Date(ts);
    return Number.isNaN(d.getTime()) ? '—' : d.toLocaleTimeString();
  },
};

/**
 * A road's state older than this, compared with the newest state on the map, is shown as no data:
 * an agent that went offline must not leave its roads looking fluid. Comparing with the newest state
 * rather than the browser's clock keeps replays on the data clock readable.
 */
export const STALE_MS = 5 * 60_000;

/** The score to colour a road with: null when there is no live state or it is stale. */
export function freshScore(live, newestMs) {
  if (!live || typeof live.congestion_score !== 'number') return null;
  const t = Date.parse(live.ts);
  if (Number.isFinite(t) && Number.isFinite(newestMs) && newestMs - t > STALE_MS) return null;
  return live.congestion_score;
}

/** Newest `ts` (ms) over a collection of live states. */
export function newestTs(lives) {
  let newest = Number.NEGATIVE_INFINITY;
  for (const l of lives) {
    const t = l ? Date.parse(l.ts) : Number.NaN;
    if (t > newest) newest = t;
  }
  return newest;
}
