import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { roadMidpoint } from '../web/src/map/road-geometry.js';
import {
  type Dir,
  type NavRoad,
  type Point,
  SPLIT_PX,
  anchorOf,
  arrowTarget,
  cycle,
  readingOrder,
  roadsByNode,
} from '../web/src/map/spatial-nav.js';

/** An n×n grid of two-way streets on screen (y down), CELL px apart: 4·n·(n−1) directed roads. */
const CELL = 100;
function grid(n: number) {
  const roads: (NavRoad & { a: Point; b: Point })[] = [];
  const at = (r: number, c: number) => ({ x: 50 + c * CELL, y: 50 + r * CELL });
  const add = (r1: number, c1: number, r2: number, c2: number) =>
    roads.push({
      id: n < 10 ? `${r1}${c1}-${r2}${c2}` : `${r1},${c1}-${r2},${c2}`,
      from: `${r1}${c1}`,
      to: `${r2}${c2}`,
      a: at(r1, c1),
      b: at(r2, c2),
    });
  // Ids read "rc-rc" like the browser test's grid; with a separator from 10×10 on, so none clash.
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      if (c + 1 < n) {
        add(r, c, r, c + 1);
        add(r, c + 1, r, c);
      }
      if (r + 1 < n) {
        add(r, c, r + 1, c);
        add(r + 1, c, r, c);
      }
    }
  const byId = new Map(roads.map((r) => [r.id, r]));
  const anchor = (id: string) => {
    const r = byId.get(id);
    return r ? anchorOf({ x: (r.a.x + r.b.x) / 2, y: (r.a.y + r.b.y) / 2 }, r.a, r.b) : null;
  };
  return { roads, byId, anchor, byNode: roadsByNode(roads) };
}
/** The seed's Paris district (irregular streets), projected like a map at zoom 16 (px, y down). */
function paris() {
  type F = { properties: Record<string, string>; geometry: { coordinates: [number, number][] } };
  const geo = JSON.parse(
    readFileSync(new URL('../../protocol/networks/paris-district.geojson', import.meta.url), 'utf8'),
  ) as { features: F[] };
  const k = 2 ** 16 * (256 / 360);
  const px = ([lon, lat]: [number, number]) => ({
    x: lon * k * Math.cos((48.86 * Math.PI) / 180),
    y: -lat * k,
  });
  const roads = geo.features
    .filter((f) => f.properties.kind === 'road')
    .map((f) => ({
      id: f.properties.road_id!,
      from: f.properties.from_node!,
      to: f.properties.to_node!,
      c: f.geometry.coordinates,
    }));
  const byId = new Map(roads.map((r) => [r.id, r]));
  const anchor = (id: string) => {
    const r = byId.get(id);
    return r ? anchorOf(px(roadMidpoint(r.c)), px(r.c[0]!), px(r.c.at(-1)!)) : null;
  };
  return { roads, anchor, byNode: roadsByNode(roads) };
}
const DIRS: Dir[] = ['left', 'right', 'up', 'down'];
/** How many roads the arrows reach from `start` (or, reversed, how many reach it). */
function reach(
  g: { roads: NavRoad[]; anchor: (id: string) => Point | null; byNode: Map<string, string[]> },
  start: string,
  reverse: boolean,
) {
  const edges = new Map<string, string[]>();
  for (const r of g.roads)
    for (const d of DIRS) {
      const to = arrowTarget(r, d, g.byNode, g.anchor);
      if (!to) continue;
      const [k, v] = reverse ? [to, r.id] : [r.id, to];
      edges.set(k, [...(edges.get(k) ?? []), v]);
    }
  const seen = new Set([start]);
  const todo = [start];
  while (todo.length)
    for (const nx of edges.get(todo.pop()!) ?? [])
      if (!seen.has(nx)) {
        seen.add(nx);
        todo.push(nx);
      }
  return seen.size;
}

describe('keyboard navigation over the map roads', () => {
  it("puts each direction's anchor on its right-hand side, so a two-way street gives two targets", () => {
    // Eastbound on screen: its right is down (y grows downwards).
    expect(anchorOf({ x: 0, y: 0 }, { x: -1, y: 0 }, { x: 1, y: 0 })).toMatchObject({ y: SPLIT_PX });
    expect(anchorOf({ x: 0, y: 0 }, { x: 1, y: 0 }, { x: -1, y: 0 })).toMatchObject({ y: -SPLIT_PX });
  });

  it('goes straight on along a street, across to its other direction, and round corners', () => {
    const g = grid(3);
    const move = (id: string, d: Dir) => arrowTarget(g.byId.get(id)!, d, g.byNode, g.anchor);
    expect(move('00-01', 'right')).toBe('01-02');
    expect(move('01-02', 'left')).toBe('00-01');
    // 00→01 runs east on row 0; its westbound twin lies just above it on screen.
    expect(move('00-01', 'up')).toBe('01-00');
    expect(move('01-00', 'down')).toBe('00-01');
    // Below the eastbound road, a cross street going down from one of its intersections.
    expect(['00-10', '10-00', '01-11', '11-01']).toContain(move('00-01', 'down'));
    // Nothing further right than the last road of the row's right edge is a cross street or null, never behind.
    const t = move('01-02', 'right');
    if (t) expect(g.anchor(t)!.x).toBeGreaterThan(g.anchor('01-02')!.x);
  });

  it.each([3, 6, 36])(
    'reaches every road of an n×n grid (n = %i) from any road with the arrows alone',
    (n) => {
      const g = grid(n);
      expect(new Set(g.roads.map((r) => r.id)).size).toBe(4 * n * (n - 1));
      // Reachability from one road, and to it: the arrow graph is strongly connected.
      const start = g.roads[Math.floor(g.roads.length / 2)]!.id;
      expect(reach(g, start, false)).toBe(g.roads.length);
      expect(reach(g, start, true)).toBe(g.roads.length);
    },
  );

  it("reaches every road of the seed's Paris district with the arrows alone", () => {
    const g = paris();
    expect(g.roads.length).toBeGreaterThan(40);
    expect(reach(g, g.roads[0]!.id, false)).toBe(g.roads.length);
    expect(reach(g, g.roads[0]!.id, true)).toBe(g.roads.length);
  });

  it('steps through every visible road in reading order with Page Down, and back with Page Up', () => {
    const g = grid(3);
    const visible = g.roads.map((r) => ({ id: r.id, p: g.anchor(r.id)! }));
    const order = readingOrder(visible);
    expect(new Set(order).size).toBe(24);
    // Top row first, left to right.
    expect(order.slice(0, 2)).toEqual(['01-00', '02-01']);
    const seen = new Set<string>();
    let id: string | null = null;
    for (let i = 0; i < 24; i++) {
      id = cycle(order, id, 1);
      seen.add(id!);
    }
    expect(seen.size).toBe(24);
    expect(cycle(order, id, 1)).toBe(order[0]);
    expect(cycle(order, order[0]!, -1)).toBe(order[23]);
    expect(cycle([], null, 1)).toBeNull();
  });
});
