import { neighboursFromAdjacency, roadNeighbours, sensorNeighbours } from '@cityflow/forecast';
import { loadNetwork } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { resample } from '../src/eval/csv.js';
import { learnAdjacency } from '../src/eval/learned-adjacency.js';

const road = (road_id: string, from_node: string, to_node: string) => ({
  type: 'Feature',
  geometry: {
    type: 'LineString',
    coordinates: [
      [2.35, 48.85],
      [2.351, 48.851],
    ],
  },
  properties: { kind: 'road', road_id, from_node, to_node, length_m: 100, lanes: 1, speed_limit_kmh: 50 },
});

describe('roadNeighbours', () => {
  it('links each road to the roads into its start and out of its end; the reverse street counts half', () => {
    // A → B → C, plus the reverse B → A and a side road D → B
    const r = loadNetwork({
      type: 'FeatureCollection',
      features: [road('AB', 'A', 'B'), road('BC', 'B', 'C'), road('BA', 'B', 'A'), road('DB', 'D', 'B')],
    });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const nb = roadNeighbours(r.value);
    const of = (id: string) => Object.fromEntries((nb.get(id) ?? []).map((n) => [n.id, n.weight]));
    expect(of('AB')).toEqual({ BC: 1, BA: 0.5 });
    expect(of('BC')).toEqual({ AB: 1, DB: 1 });
    expect(of('DB')).toEqual({ BC: 1, BA: 1 });
    expect(of('BA')).toEqual({ AB: 0.5, DB: 1 });
  });
});

describe('sensorNeighbours', () => {
  it('pairs sensors of the same road and of adjacent roads', () => {
    const sensor = (sensor_id: string, road_id: string) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [2.35, 48.85] },
      properties: { kind: 'sensor', sensor_id, road_id, agent_id: 'agent-1' },
    });
    const r = loadNetwork({
      type: 'FeatureCollection',
      features: [
        road('AB', 'A', 'B'),
        road('BC', 'B', 'C'),
        road('XY', 'X', 'Y'),
        sensor('ab0', 'AB'),
        sensor('ab1', 'AB'),
        sensor('bc0', 'BC'),
        sensor('xy0', 'XY'),
      ],
    });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const nb = sensorNeighbours(r.value);
    expect(nb.get('ab0')).toEqual([
      { id: 'ab1', weight: 1 },
      { id: 'bc0', weight: 1 },
    ]);
    expect(
      nb
        .get('bc0')!
        .map((n) => n.id)
        .sort(),
    ).toEqual(['ab0', 'ab1']);
    expect(nb.get('xy0')).toEqual([]);
  });
});

describe('neighboursFromAdjacency', () => {
  it('is symmetric, keeps the larger weight of a pair, drops self-loops and non-positive weights', () => {
    const nb = neighboursFromAdjacency([
      { from: 'a', to: 'b', weight: 0.2 },
      { from: 'b', to: 'a', weight: 0.7 },
      { from: 'a', to: 'a', weight: 1 },
      { from: 'a', to: 'c', weight: 0 },
    ]);
    expect(nb.get('a')).toEqual([{ id: 'b', weight: 0.7 }]);
    expect(nb.get('b')).toEqual([{ id: 'a', weight: 0.7 }]);
    expect(nb.has('c')).toBe(false);
  });
});

describe('learnAdjacency', () => {
  it('pairs series whose changes move together, from the training part only', () => {
    let s = 1;
    const noise = () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32 - 0.5;
    };
    const n = 400;
    const a = Float64Array.from({ length: n }, () => 0);
    for (let t = 1; t < n; t++) a[t] = a[t - 1]! + noise();
    const b = a.map((v) => v + 0.05 * noise()); // follows a
    const c = Float64Array.from({ length: n }, () => noise()); // unrelated
    // after the training part, c copies a: a leak would pair them
    for (let t = 300; t < n; t++) c[t] = a[t]!;
    const nb = learnAdjacency(['a', 'b', 'c'], [a, b, c], 300, 1);
    expect(nb.get('a')!.map((x) => x.id)).toEqual(['b']);
    expect(nb.get('b')!.map((x) => x.id)).toEqual(['a']);
    expect(nb.get('c')).toEqual([]);
  });
});

describe('resample', () => {
  it('averages known values onto a coarser step', () => {
    const ds = {
      ids: ['s'],
      tsMs: Float64Array.from([0, 1, 2, 3, 4, 5].map((m) => m * 60_000)),
      stepMs: 60_000,
      values: [Float64Array.from([10, Number.NaN, 20, 30, Number.NaN, Number.NaN])],
      layout: 'long' as const,
    };
    const r = resample(ds, 3 * 60_000);
    expect([...r.tsMs]).toEqual([0, 180_000]);
    expect([...r.values[0]!]).toEqual([15, 30]);
    expect(() => resample(ds, 90_000)).toThrow(/multiple of the data step/);
  });
});
