import type { Road } from '@cityflow/protocol';

/**
 * Road travel time as a traffic engineer would estimate it: free-flow running time, plus control delay
 * at a signalised downstream junction (HCM 2000, ch. 16), plus queue delay read from the loops. Every
 * constant is a textbook default, used only where the network file gives no better value.
 */
export const DELAY = {
  /** BPR volume-delay function (Bureau of Public Roads, 1964) for roads without a signal: t0·(1 + α·x^β) */
  bprAlpha: 0.15,
  bprBeta: 4,
  /** signal timing when the network gives none: HCM's default cycle for urban arterials, half green */
  cycleS: 90,
  greenShare: 0.45,
  /** HCM 2000 eq. 16-12 incremental delay: analysis period T (h), k = 0.5 (pretimed), I = 1 (isolated) */
  periodH: 0.25,
  kIncremental: 0.5,
  /** saturation flow per lane, veh/h (HCM base 1,900 pc/h/ln less typical urban adjustments) */
  saturationVphpl: 1800,
  /** road length one queued vehicle occupies on a loop's lane (vehicle + gap), m: occupancy -> density */
  queuedVehicleM: 7.5,
  /** degree of saturation used for the delay formulas never exceeds this (d2 keeps growing past 1) */
  maxX: 3,
  minSpeedKmh: 3,
  /**
   * Share of its capacity a standing queue discharges at (vehicles crawl off the loops between stops),
   * and a road blocked upstream of its loops: planning values, the observed flow replaces them when
   * vehicles pass.
   */
  standingDischargeShare: 0.25,
  blockedDischargeShare: 0.1,
} as const;

/** Whether a vehicle meets a signal at the end of this road (its to_node is an intersection of the file). */
export type IsSignalised = (road: Road) => boolean;

/** Capacity, veh/h: the file's, else lanes × saturation flow × green share at a signal. */
export function capacityVph(road: Road, signalised: boolean): number {
  if (road.capacity_vph) return road.capacity_vph;
  return road.lanes * DELAY.saturationVphpl * (signalised ? DELAY.greenShare : 1);
}

export function freeFlowS(road: Road): number {
  return (road.length_m * 3.6) / road.speed_limit_kmh;
}

/** HCM 2000 uniform delay d1 (eq. 16-11), s per vehicle. */
export function uniformDelayS(x: number, cycleS = DELAY.cycleS, g = DELAY.greenShare): number {
  const xc = Math.min(1, Math.max(0, x));
  return (0.5 * cycleS * (1 - g) ** 2) / (1 - xc * g);
}

/** HCM 2000 incremental (overflow) delay d2 (eq. 16-12), s per vehicle, for capacity c veh/h. */
export function incrementalDelayS(x: number, capacity: number): number {
  const T = DELAY.periodH;
  const k = DELAY.kIncremental;
  const xc = Math.min(DELAY.maxX, Math.max(0, x));
  if (capacity <= 0) return 0;
  return 900 * T * (xc - 1 + Math.sqrt((xc - 1) ** 2 + (8 * k * xc) / (capacity * T)));
}

/** BPR running time, s. */
export function bprTimeS(t0: number, x: number): number {
  return t0 * (1 + DELAY.bprAlpha * Math.min(DELAY.maxX, Math.max(0, x)) ** DELAY.bprBeta);
}

/**
 * Modelled travel time at a load: free-flow running plus control delay (d1 + d2) at a signal, or the
 * BPR curve on an unsignalised road. Used for the marginal effect of adding or removing load.
 */
export function modelTimeS(road: Road, signalised: boolean, flowVph: number, capacity: number): number {
  const t0 = freeFlowS(road);
  const x = capacity > 0 ? flowVph / capacity : DELAY.maxX;
  if (!signalised) return bprTimeS(t0, x);
  return t0 + uniformDelayS(x) + incrementalDelayS(x, capacity);
}

/**
 * Delay of a standing queue: the vehicles stored on the road (density from loop occupancy over the
 * road's lanes) discharge at `dischargeVph`. `occupancy` is the loops' time share occupied.
 */
export function standingQueueDelayS(road: Road, occupancy: number, dischargeVph: number): number {
  const stored = (Math.min(1, occupancy) * road.length_m * road.lanes) / DELAY.queuedVehicleM;
  return (stored / Math.max(60, dischargeVph)) * 3600;
}
