import type { Road } from '@cityflow/protocol';
import { DELAY, incrementalDelayS, uniformDelayS } from './delay-model.js';

export type Turn = 'straight' | 'right' | 'left' | 'uturn';

/**
 * A turning movement's share of its approach: of the capacity (the lanes and green it gets: the
 * right turn shares the kerb lane, the left turn the inner lane and yields to oncoming traffic) and of
 * the traffic already using it. Planning defaults in the absence of turning counts (HCM planning
 * methods assume 10–20 % left and right turners; a permitted left turn yields to oncoming traffic, so it
 * gets the least capacity). Detours on a grid trade straight movements for turns: pricing turns is what
 * keeps a detour from overloading a left-turn pocket.
 */
export const MOVEMENT = {
  straight: { capacityShare: 0.7, trafficShare: 0.6 },
  right: { capacityShare: 0.4, trafficShare: 0.2 },
  left: { capacityShare: 0.25, trafficShare: 0.2 },
  uturn: { capacityShare: 0.05, trafficShare: 0 },
} as const;

const bearing = (a: number[], b: number[]) => {
  const lat = ((a[1]! + b[1]!) / 2) * (Math.PI / 180);
  return Math.atan2(b[1]! - a[1]!, (b[0]! - a[0]!) * Math.cos(lat)) * (180 / Math.PI);
};

/** The movement from road `a` into road `b` (right-hand traffic), from the roads' geometry. */
export function turnBetween(a: Road, b: Road): Turn {
  if (b.to_node === a.from_node) return 'uturn';
  const ca = a.coordinates;
  const cb = b.coordinates;
  if (ca.length < 2 || cb.length < 2) return 'straight';
  let d = bearing(cb[0]!, cb[1]!) - bearing(ca[ca.length - 2]!, ca[ca.length - 1]!);
  while (d > 180) d -= 360;
  while (d <= -180) d += 360;
  if (Math.abs(d) < 30) return 'straight';
  if (Math.abs(d) > 150) return 'uturn';
  return d > 0 ? 'left' : 'right';
}

/**
 * Control delay of one movement at a signal (HCM d1 + d2 on the movement's own capacity) with its
 * usual traffic plus `addedVph`, and its degree of saturation.
 */
export function movementDelay(
  road: Road,
  capacityVph: number,
  flowVph: number,
  turn: Turn,
  addedVph: number,
): { delayS: number; x: number } {
  const m = MOVEMENT[turn];
  const cap = Math.max(1, capacityVph * m.capacityShare);
  const x = (flowVph * m.trafficShare + addedVph) / cap;
  void road;
  return { delayS: uniformDelayS(x) + incrementalDelayS(x, cap), x: Math.min(DELAY.maxX, x) };
}

/** The movement out of road i of a stretch of road ids, into road i + 1 (null for its last road). */
export function turnAfter(roads: ReadonlyMap<string, Road>, ids: string[], i: number): Turn | null {
  const next = ids[i + 1];
  if (next === undefined) return null;
  return turnBetween(roads.get(ids[i]!)!, roads.get(next)!);
}
