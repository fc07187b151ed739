import { congestionScore, type Road, STANDING_OCCUPANCY } from '@cityflow/protocol';
import { DELAY, freeFlowS, standingQueueDelayS } from './delay-model.js';
import type { Turn } from './turns.js';

/** One loop's last minute on a road, with the lane it sits on (0 = rightmost). */
export interface LaneObservation {
  laneIndex: number;
  speedKmh: number | null;
  flowVph: number;
  occupancy: number;
}

/**
 * Seconds each movement takes beyond (or, negative, short of) the road's mean travel time, read from
 * its lanes, and the worst lane's congestion score.
 */
export interface MovementTimes {
  extraS: Record<Turn, number>;
  /** congestion score of the most congested lane: a queue in one lane is congestion for its movement */
  laneScore: number;
}

/**
 * A road's mean hides a queue in one lane: a left-turn lane backed up behind turners waiting for a gap
 * in oncoming traffic, beside through lanes that flow. Lane use as right-hand traffic lays it out (the
 * default everywhere SUMO, OSM and most signal plans are drawn): the rightmost lane carries the right
 * turns, the leftmost the left and U-turns, and through traffic takes whichever lane moves best. Each
 * lane's running time comes from its own loop, as the road's does from the road's mean. Null when the
 * road has one lane, or its loops do not cover both its outer lanes (nothing to tell movements apart).
 */
export function movementTimes(
  road: Road,
  lanes: LaneObservation[],
  laneCapacityVph: number,
): MovementTimes | null {
  if (road.lanes < 2) return null;
  const byLane = new Map<number, number[]>();
  let laneScore = 0;
  for (const l of lanes) {
    if (l.laneIndex >= road.lanes) continue;
    const t = laneRunS(road, l, laneCapacityVph);
    byLane.set(l.laneIndex, [...(byLane.get(l.laneIndex) ?? []), t]);
    const s = congestionScore({
      speedKmh: l.speedKmh,
      occupancy: l.occupancy,
      freeFlowKmh: road.speed_limit_kmh,
    });
    laneScore = Math.max(laneScore, s ?? 0);
  }
  const right = byLane.get(0);
  const left = byLane.get(road.lanes - 1);
  if (!right || !left) return null;
  const times = [...byLane.values()].map((ts) => ts.reduce((a, b) => a + b, 0) / ts.length);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const avg = (ts: number[]) => ts.reduce((a, b) => a + b, 0) / ts.length;
  const leftS = avg(left) - mean;
  return {
    extraS: {
      right: avg(right) - mean,
      left: leftS,
      uturn: leftS,
      straight: Math.min(...times) - mean,
    },
    laneScore,
  };
}

/**
 * One lane's running time, s: its length at the loop's speed; a loop that saw no vehicle is a standing
 * queue when occupied (discharging as the road rule has it) and
 * an empty lane otherwise.
 */
function laneRunS(road: Road, l: LaneObservation, laneCapacityVph: number): number {
  const t0 = freeFlowS(road);
  if (l.speedKmh !== null)
    return Math.max(t0, road.length_m / (Math.max(DELAY.minSpeedKmh, l.speedKmh) / 3.6));
  if (l.occupancy >= STANDING_OCCUPANCY)
    return (
      t0 +
      standingQueueDelayS({ ...road, lanes: 1 }, l.occupancy, laneCapacityVph * DELAY.standingDischargeShare)
    );
  return t0;
}
