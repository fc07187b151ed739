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
