import { loadNetwork, type Road } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { freeFlowS } from '../src/routing/delay-model.js';
import { DetourPlanner } from '../src/routing/detour-planner.js';
import { movementTimes } from '../src/routing/lane-movements.js';
import { assessRoads, movementTimeS, planningScore, type RoadInput } from '../src/routing/road-conditions.js';
import { gridNetwork } from './helpers.js';

const net = (() => {
  const r = loadNetwork(gridNetwork(4, 4));
  if (!r.ok) throw new Error(r.errors.join());
  return r.value;
})();
const signalised = (r: Road) => net.intersections.has(r.to_node);
const ROAD = 'R11-21'; // eastbound, 2 lanes, 200 m at 50 km/h; its left turn is R21-22 (north)
const road = net.roads.get(ROAD)!;

// The left-turn lane backed up (6 km/h, occupied) beside a through lane that flows at 45 km/h.
const LEFT_QUEUE = [
  { laneIndex: 0, speedKmh: 45, flowVph: 400, occupancy: 0.03 },
  { laneIndex: 1, speedKmh: 6, flowVph: 120, occupancy: 0.3 },
];
const state = (lanes?: RoadInput['lanes']) => {
  const m = new Map<string, RoadInput>();
  for (const id of net.roads.keys())
    m.set(id, { speedKmh: 42, flowVph: 175, occupancy: 0.05, ageS: 5, forecasts: [] });
  // the road's means, as the agent computes them: speeds and occupancies averaged over its loops
  // (25.5 km/h, 16.5 %: just under the congested line, 0.5)
  m.set(ROAD, { speedKmh: 25.5, flowVph: 260, occupancy: 0.165, ageS: 5, forecasts: [], lanes });
  return assessRoads(net, m, signalised);
};

describe('lane movements', () => {
  it('a queued left lane delays the left and U-turns, not the traffic going straight or right', () => {
    const m = movementTimes(road, LEFT_QUEUE, 800)!;
    // the left lane's running time is its length at 6 km/h (120 s), the right lane's 16 s
    expect(m.extraS.left).toBeCloseTo((120 - 16) / 2, 6);
    expect(m.extraS.uturn).toBe(m.extraS.left);
    expect(m.extraS.straight).toBeCloseTo(-m.extraS.left, 6);
    expect(m.extraS.right).toBeCloseTo(-m.extraS.left, 6);
    expect(m.laneScore).toBeGreaterThan(0.8);
  });

  it('says nothing without both outer lanes, on a one-lane road, or for a loop on a lane the road lacks', () => {
    expect(movementTimes(road, [LEFT_QUEUE[1]!], 800)).toBeNull();
    expect(movementTimes({ ...road, lanes: 1 }, LEFT_QUEUE, 800)).toBeNull();
    expect(movementTimes(road, [LEFT_QUEUE[0]!, { ...LEFT_QUEUE[1]!, laneIndex: 5 }], 800)).toBeNull();
  });

  it('a standing loop (no vehicle, occupied) is a queue, an empty one free flow', () => {
    const standing = movementTimes(
      road,
      [LEFT_QUEUE[0]!, { laneIndex: 1, speedKmh: null, flowVph: 0, occupancy: 0.6 }],
      800,
    )!;
    expect(standing.extraS.left).toBeGreaterThan(30);
    const empty = movementTimes(
      road,
      [LEFT_QUEUE[0]!, { laneIndex: 1, speedKmh: null, flowVph: 0, occupancy: 0 }],
      800,
    )!;
    expect(empty.extraS.left).toBeCloseTo((freeFlowS(road) - 16) / 2, 6);
  });

  it('prices the road per movement, never under free flow, and scores it by its worst lane', () => {
    const c = state(LEFT_QUEUE).get(ROAD)!;
    expect(movementTimeS(c, 'left')).toBeCloseTo(c.timeS + 52, 6);
    expect(movementTimeS(c, 'straight')).toBeGreaterThanOrEqual(freeFlowS(road));
    expect(movementTimeS(c, 'straight')).toBeLessThan(c.timeS);
    expect(movementTimeS(c, null)).toBe(c.timeS);
    const plain = state().get(ROAD)!;
    expect(plain.movements).toBeNull();
    expect(planningScore(plain)).toBeLessThan(0.5);
    expect(planningScore(c)).toBeGreaterThan(0.8);
  });

  it('advises the left-turners around the queued lane, to where their turn leads, and nobody without lanes', () => {
    const settings = { congestedScore: 0.5, clearScore: 0.4, compliance: 0.5 };
    const withLanes = new DetourPlanner(net, settings);
    withLanes.plan(state(LEFT_QUEUE), () => undefined, 0, 150_000);
    const [r] = withLanes.plan(state(LEFT_QUEUE), () => undefined, 60_000, 150_000);
    expect(r?.route_id).toBe(ROAD);
    expect(r!.path).not.toContain(ROAD);
    // the stretch replaced is ROAD then its left turn R21-22: the detour rejoins at N22
    expect(net.roads.get(r!.path[r!.path.length - 1]!)!.to_node).toBe('N22');
    expect(r!.eta_gain_min).toBeGreaterThan(0.5);

    const blind = new DetourPlanner(net, settings);
    blind.plan(state(), () => undefined, 0, 150_000);
    expect(blind.plan(state(), () => undefined, 60_000, 150_000)).toHaveLength(0);
  });
});
