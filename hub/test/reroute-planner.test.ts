import { loadNetwork } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { co2GramsPerKm } from '../src/cycles/emissions.js';
import { type RoadState, ReroutePlanner } from '../src/cycles/reroute-planner.js';
import { RoadGraph } from '../src/cycles/road-graph.js';
import { gridNetwork } from './helpers.js';

const net = (() => {
  const r = loadNetwork(gridNetwork(3, 3));
  if (!r.ok) throw new Error(r.errors.join());
  return r.value;
})();

const stateWith = (over: Record<string, Partial<RoadState>>) => {
  const m = new Map<string, RoadState>();
  for (const id of net.roads.keys()) m.set(id, { speedKmh: 45, score: 0.1, flowVph: 300, ...over[id] });
  return m;
};

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
});

describe('reroute planner', () => {
  it('advises at the congestion line, keeps advising down to 0.4 (hysteresis), stops below', () => {
    const p = new ReroutePlanner(net);
    const at = (score: number, speed: number) =>
      p.plan(stateWith({ 'R10-11': { score, speedKmh: speed } }), 0, 60_000);
    expect(at(0.45, 12)).toHaveLength(0); // below 0.5: not yet
    const first = at(0.7, 6);
    expect(first).toHaveLength(1);
    expect(first[0]!.route_id).toBe('R10-11');
    expect(at(0.45, 12)).toHaveLength(1); // still active above 0.4
    expect(at(0.35, 30)).toHaveLength(0); // cleared
    expect(at(0.45, 12)).toHaveLength(0); // and not re-entered below 0.5
  });

  it('bounds the diverted share by the spare capacity of the detour', () => {
    const p = new ReroutePlanner(net);
    const busy = stateWith({ 'R10-11': { score: 0.9, speedKmh: 4, flowVph: 1000 } });
    const free = p.plan(busy, 0, 60_000)[0]!;
    // alternatives run at 300 veh/h of 0.8·1800 = 1440 → spare 1140 ≥ half of 1000
    expect(free.diverted_share).toBe(0.5);
    const p2 = new ReroutePlanner(net);
    for (const id of free.path) busy.get(id)!.flowVph = 1340;
    const tight = p2.plan(busy, 0, 60_000)[0];
    if (tight) expect(tight.diverted_share).toBeLessThanOrEqual(0.1 + 1e-9);
  });

  it('emission factor: U-shaped, highest in stop-and-go', () => {
    expect(co2GramsPerKm(5)).toBeGreaterThan(co2GramsPerKm(30));
    expect(co2GramsPerKm(65)).toBeLessThan(co2GramsPerKm(30));
    expect(co2GramsPerKm(130)).toBeGreaterThan(co2GramsPerKm(65));
  });
});
