import { loadNetwork, type Road } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import {
  bprTimeS,
  capacityVph,
  incrementalDelayS,
  standingQueueDelayS,
  uniformDelayS,
} from '../src/routing/delay-model.js';
import {
  co2GramsPerKm,
  co2GramsPerSecond,
  IDLE_CO2_G_PER_S,
  roadCo2Grams,
} from '../src/routing/emissions.js';
import { assessRoads, type RoadInput, timeWithLoadS } from '../src/routing/road-conditions.js';
import { RoadGraph } from '../src/routing/road-graph.js';
import { movementDelay, turnBetween } from '../src/routing/turns.js';
import { gridNetwork } from './helpers.js';

const net = (() => {
  const r = loadNetwork(gridNetwork(3, 3));
  if (!r.ok) throw new Error(r.errors.join());
  return r.value;
})();
const road = (id: string) => net.roads.get(id)!;
const signalised = (r: Road) => net.intersections.has(r.to_node);

describe('delay model against textbook values', () => {
  it('HCM 2000 uniform delay d1 (eq. 16-11): C = 100 s, g/C = 0.5, X = 0.8 gives 20.8 s', () => {
    expect(uniformDelayS(0.8, 100, 0.5)).toBeCloseTo(20.83, 2);
    // at and beyond saturation d1 stays at its X = 1 value: the overflow is d2's job
    expect(uniformDelayS(1.4, 100, 0.5)).toBeCloseTo(uniformDelayS(1, 100, 0.5), 6);
  });

  it('HCM 2000 incremental delay d2 (eq. 16-12): c = 900 veh/h, X = 0.8, T = 0.25 h, k = 0.5 gives 7.4 s', () => {
    expect(incrementalDelayS(0.8, 900)).toBeCloseTo(7.39, 1);
    // oversaturated: grows roughly as 900·T·2(X−1) = 90 s at X = 1.2
    expect(incrementalDelayS(1.2, 900)).toBeGreaterThan(90);
  });

  it('BPR: 15 % slower at capacity, 2.4x at twice capacity', () => {
    expect(bprTimeS(10, 1)).toBeCloseTo(11.5, 6);
    expect(bprTimeS(10, 2)).toBeCloseTo(34, 6);
  });

  it('capacity from lanes when the network gives none: 2 lanes x 1,800 x 0.45 green at a signal', () => {
    expect(capacityVph(road('R00-10'), true)).toBe(1620);
    expect(capacityVph({ ...road('R00-10'), capacity_vph: 1000 }, true)).toBe(1000);
  });

  it('a standing queue of 200 m x 2 lanes fully occupied (53 vehicles) discharging at 800 veh/h takes 240 s', () => {
    expect(standingQueueDelayS(road('R00-10'), 1, 800)).toBeCloseTo(240, 0);
  });
});

describe('emission factors: HBEFA 3 PC_G_EU4 (SUMO 1.15 table)', () => {
  it('cites the table values: 2.62 g/s idle, about 168 g/km at 50 km/h, 211 g/km at 36 km/h', () => {
    expect(IDLE_CO2_G_PER_S).toBeCloseTo(2.625, 3);
    expect(co2GramsPerKm(36)).toBeCloseTo(211.2, 0);
    expect(co2GramsPerKm(50)).toBeGreaterThan(165);
    expect(co2GramsPerKm(50)).toBeLessThan(171);
    expect(co2GramsPerSecond(0)).toBeCloseTo(2.625, 3);
  });

  it('stop-and-go costs most: a road crossed with a minute of queue emits more than the same road free', () => {
    expect(co2GramsPerKm(10)).toBeGreaterThan(co2GramsPerKm(30));
    expect(co2GramsPerKm(30)).toBeGreaterThan(co2GramsPerKm(60));
    const free = roadCo2Grams(200, 50, 0);
    expect(roadCo2Grams(200, 50, 60) - free).toBeCloseTo(60 * IDLE_CO2_G_PER_S, 6);
  });
});

const input = (over: Partial<RoadInput> = {}): RoadInput => ({
  speedKmh: 45,
  flowVph: 400,
  occupancy: 0.05,
  ageS: 10,
  forecasts: [],
  ...over,
});
const assess = (over: Record<string, Partial<RoadInput>>) => {
  const m = new Map<string, RoadInput>();
  for (const id of net.roads.keys()) m.set(id, input(over[id]));
  return assessRoads(net, m, signalised);
};

describe('zero flow is ambiguous: occupancy and the road upstream decide', () => {
  it('no vehicle, occupied loops: a standing queue, congested, with queue delay', () => {
    const c = assess({ 'R10-11': { speedKmh: null, flowVph: 0, occupancy: 0.6 } }).get('R10-11')!;
    expect(c.kind).toBe('standing');
    expect(c.score).toBe(1);
    expect(c.delayS).toBeGreaterThan(60);
  });

  it('no vehicle, empty loops, road upstream filling: blocked upstream of its loops, not free', () => {
    const c = assess({
      'R10-11': { speedKmh: null, flowVph: 0, occupancy: 0 },
      'R00-10': { speedKmh: 8, occupancy: 0.45 },
    }).get('R10-11')!;
    expect(c.kind).toBe('blocked');
    expect(c.score).toBe(1);
  });

  it('no vehicle, empty loops, nothing filling behind: an empty road, free', () => {
    const c = assess({ 'R10-11': { speedKmh: null, flowVph: 0, occupancy: 0 } }).get('R10-11')!;
    expect(c.kind).toBe('empty');
    expect(c.score).toBe(0);
  });

  it('the opposite direction filling up is not "upstream"', () => {
    const c = assess({
      'R10-11': { speedKmh: null, flowVph: 0, occupancy: 0 },
      'R11-10': { speedKmh: 5, occupancy: 0.6 },
    }).get('R10-11')!;
    expect(c.kind).toBe('empty');
  });

  it('an empty road forecast to be congested keeps the forecast score', () => {
    const c = assess({
      'R10-11': {
        speedKmh: null,
        flowVph: 0,
        occupancy: 0,
        forecasts: [{ horizonMin: 15, speedKmh: 8, score: 0.8 }],
      },
    }).get('R10-11')!;
    expect(c.score).toBe(0.8);
  });

  it('stale live data is no data', () => {
    expect(assess({ 'R10-11': { ageS: 900 } }).get('R10-11')!.kind).toBe('unknown');
  });

  it('load: a queue-bound road gains from every vehicle taken off; an alternative pays for what it takes', () => {
    const conds = assess({ 'R10-11': { speedKmh: 10, flowVph: 500, occupancy: 0.35 } });
    const jam = conds.get('R10-11')!;
    expect(timeWithLoadS(jam, -250)).toBeLessThan(jam.timeS);
    const alt = conds.get('R00-01')!;
    expect(timeWithLoadS(alt, 1000)).toBeGreaterThan(alt.timeS);
  });
});

describe('road graph', () => {
  it('k shortest loopless paths, bounded, never using an excluded road', () => {
    const g = new RoadGraph(net);
    const paths = g.kShortest('N00', 'N11', 3, (r) => r.length_m, { excludeRoads: new Set(['R00-10']) });
    expect(paths[0]!.roads).toEqual(['R00-01', 'R01-11']);
    expect(paths.every((p) => !p.roads.includes('R00-10'))).toBe(true);
    expect(new Set(paths.map((p) => p.roads.join())).size).toBe(paths.length);
    expect(paths.map((p) => p.cost)).toEqual([...paths.map((p) => p.cost)].sort((a, b) => a - b));
    expect(g.shortest('N00', 'N22', (r) => r.length_m, { maxCost: 500 })).toBeNull();
  });

  it('Dijkstra finds the cheapest path, not the one with fewest roads', () => {
    const g = new RoadGraph(net);
    const cost = (r: Road) => (r.road_id === 'R00-10' ? 1000 : r.length_m);
    expect(g.shortest('N00', 'N10', cost)!.roads).toEqual(['R00-01', 'R01-11', 'R11-10']);
    expect(g.shortest('N00', 'N10', cost)!.cost).toBe(600);
  });
});

describe('turning movements', () => {
  it('reads the movement from the geometry (right-hand traffic)', () => {
    // R00-10 runs east; R10-11 north (a left turn), R10-20 east (straight), R10-00 back (a U-turn)
    expect(turnBetween(road('R00-10'), road('R10-11'))).toBe('left');
    expect(turnBetween(road('R00-10'), road('R10-20'))).toBe('straight');
    expect(turnBetween(road('R00-10'), road('R10-00'))).toBe('uturn');
    expect(turnBetween(road('R01-11'), road('R11-10'))).toBe('right');
  });

  it('a left turn saturates long before its road: the same added load costs it more than going straight', () => {
    const r = road('R00-10');
    const left = movementDelay(r, 1620, 400, 'left', 300);
    const straight = movementDelay(r, 1620, 400, 'straight', 300);
    expect(left.x).toBeGreaterThan(0.9);
    expect(straight.x).toBeLessThan(0.6);
    expect(left.delayS).toBeGreaterThan(straight.delayS + 30);
  });
});
