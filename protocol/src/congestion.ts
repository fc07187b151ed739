/**
 * The congestion score: one formula for the whole system (agent, hub, forecasts, reroutes, console).
 *
 *   r          = speed / free-flow speed
 *   speedTerm  = clamp01((0.9 − r) / 0.8)       0 at ≥ 90 % of free flow, 0.5 at 50 %, 1 at ≤ 10 %
 *   occTerm    = clamp01((occupancy − 0.15) / 0.5)   0 at ≤ 0.15, 0.5 at 0.40, 1 at ≥ 0.65
 *   score      = max(speedTerm, occTerm)        (occTerm only when occupancy is known)
 *
 * "Congested" means score ≥ 0.5: speed at or below half of free flow, or a detector occupied 40 %
 * of the time or more. With speed alone the score is speedTerm, so evaluations on speed-only data
 * (METR-LA) use the same threshold. A null speed (no vehicle passed) is read through occupancy:
 * at or above STANDING_OCCUPANCY the queue is standing still (speed 0), below it the road is empty
 * (free flow). Free-flow speed is the road's speed limit or, for a detector without one, the 85th
 * percentile of its observed speeds (`percentile85`).
 */
export const CONGESTED_THRESHOLD = 0.5;
/** Below this score a road is "fluid"; from here to CONGESTED_THRESHOLD it is "slow" (console colours). */
export const SLOW_THRESHOLD = 0.3;
export const STANDING_OCCUPANCY = 0.2;

const clamp01 = (x: number) => (x < 0 ? 0 : Math.min(x, 1));

export interface ScoreInput {
  speedKmh: number | null | undefined;
  occupancy?: number | null | undefined;
  freeFlowKmh: number;
}

export function speedTerm(speedKmh: number, freeFlowKmh: number): number {
  if (!(freeFlowKmh > 0)) return 0;
  return clamp01((0.9 - speedKmh / freeFlowKmh) / 0.8);
}

export function occupancyTerm(occupancy: number): number {
  return clamp01((occupancy - 0.15) / 0.5);
}

/** Score in [0,1], or null when neither speed nor occupancy says anything. */
export function congestionScore({ speedKmh, occupancy, freeFlowKmh }: ScoreInput): number | null {
  const hasOcc = typeof occupancy === 'number' && Number.isFinite(occupancy);
  let s: number;
  if (typeof speedKmh === 'number' && Number.isFinite(speedKmh)) s = speedTerm(speedKmh, freeFlowKmh);
  else if (hasOcc) s = occupancy >= STANDING_OCCUPANCY ? 1 : 0;
  else return null;
  return hasOcc ? Math.max(s, occupancyTerm(occupancy)) : s;
}

export function isCongested(score: number | null | undefined): boolean {
  return typeof score === 'number' && score >= CONGESTED_THRESHOLD;
}

/** Display levels of a score, in order of severity; `none` = no data. */
export const CONGESTION_LEVELS = ['free', 'slow', 'jam', 'none'] as const;
export type CongestionLevel = (typeof CONGESTION_LEVELS)[number];

export function congestionLevel(score: number | null | undefined): CongestionLevel {
  if (typeof score !== 'number' || !Number.isFinite(score)) return 'none';
  if (score >= CONGESTED_THRESHOLD) return 'jam';
  return score >= SLOW_THRESHOLD ? 'slow' : 'free';
}

/** Speed at which a speed-only score crosses `score` (inverse of speedTerm), e.g. the congestion line. */
export function speedForScore(score: number, freeFlowKmh: number): number {
  return Math.max(0, (0.9 - 0.8 * clamp01(score)) * freeFlowKmh);
}

/** Free-flow speed: the road's limit if known, else the detector's 85th percentile speed. */
export function freeFlowSpeed(
  speedLimitKmh: number | null | undefined,
  observedP85?: number | null,
): number | null {
  if (typeof speedLimitKmh === 'number' && speedLimitKmh > 0) return speedLimitKmh;
  if (typeof observedP85 === 'number' && observedP85 > 0) return observedP85;
  return null;
}

/** 85th percentile (nearest-rank) of finite values; null for an empty list. */
export function percentile85(values: Iterable<number>): number | null {
  const v = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v[Math.min(v.length - 1, Math.ceil(0.85 * v.length) - 1)]!;
}

/**
 * The seed's heuristic, kept only as model `baseline-v1` for comparison:
 * 0.4·(1 − speed/90) + 0.4·occupancy + 0.2·(flow/120), clamped. A null speed counts as 0 km/h
 * (the seed's code read SQL NULL as 0).
 */
export function baselineV1Score(speedKmh: number | null, occupancy: number, flowRate: number): number {
  return clamp01(0.4 * (1 - (speedKmh ?? 0) / 90) + 0.4 * occupancy + 0.2 * (flowRate / 120));
}
