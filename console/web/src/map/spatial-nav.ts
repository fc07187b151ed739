/**
 * Keyboard navigation over the roads drawn on the map, on screen coordinates (pure, tested in Node).
 *
 * - Arrow keys follow the network: from the focused road, the roads that share one of its two
 *   intersections are the candidates, and the one whose direction from here best matches the arrow
 *   wins (on a tie, the one at the intersection the road leads to, then the nearest). Straight on along a street, across to the other direction of a two-way
 *   street, round a corner into a cross street: the moves an operator expects on a road map.
 * - Page Down / Page Up step through every road whose anchor is on screen in reading order (top to
 *   bottom, then left to right), so every visible road is reachable even where the arrows would skip it.
 *
 * A road's anchor is its midpoint moved SPLIT_PX to the right of its direction, as drawn (each
 * direction of a street is offset to its right): the two directions are two distinct targets.
 */
export type Dir = 'left' | 'right' | 'up' | 'down';
export const SPLIT_PX = 4;
/** A candidate must lie within about 78° of the arrow (cos > 0.2): never sideways or behind. */
const MIN_ALIGNMENT = 0.2;
/** Rows of the reading order: anchors this close vertically (px) read left to right. */
const ROW_PX = 12;

export interface NavRoad {
  id: string;
  from: string;
  to: string;
}
export interface Point {
  x: number;
  y: number;
}

const UNIT: Record<Dir, Point> = {
  left: { x: -1, y: 0 },
  right: { x: 1, y: 0 },
  up: { x: 0, y: -1 },
  down: { x: 0, y: 1 },
};

/** Midpoint `m` of a road drawn from `a` to `b` (screen pixels, y down), moved to its right. */
export function anchorOf(m: Point, a: Point, b: Point, split = SPLIT_PX): Point {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = Math.hypot(dx, dy) || 1;
  // Right of the direction of travel with y pointing down: (−dy, dx).
  return { x: m.x + (-dy / len) * split, y: m.y + (dx / len) * split };
}

/** The roads meeting at each intersection (built once per network). */
export function roadsByNode(roads: Iterable<NavRoad>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of roads)
    for (const n of r.from === r.to ? [r.from] : [r.from, r.to]) {
      const l = out.get(n);
      if (l) l.push(r.id);
      else out.set(n, [r.id]);
    }
  return out;
}

/** The arrow's target from `from`, among the roads sharing one of its intersections; null if none. */
export function arrowTarget(
  from: NavRoad,
  dir: Dir,
  byNode: ReadonlyMap<string, readonly string[]>,
  anchor: (id: string) => Point | null,
): string | null {
  const here = anchor(from.id);
  if (!here) return null;
  const u = UNIT[dir];
  let best: Candidate | null = null;
  const seen = new Set<string>([from.id]);
  // The far end first: a road meeting both ends (the other direction) counts as at the far end.
  for (const node of [from.to, from.from])
    for (const id of byNode.get(node) ?? []) {
      if (seen.has(id)) continue;
      seen.add(id);
      const p = anchor(id);
      if (!p) continue;
      const vx = p.x - here.x;
      const vy = p.y - here.y;
      const dist = Math.hypot(vx, vy);
      if (dist < 0.5) continue;
      const c = { id, cos: (vx * u.x + vy * u.y) / dist, dist, atEnd: node === from.to };
      if (c.cos > MIN_ALIGNMENT && (!best || beats(c, best))) best = c;
    }
  return best?.id ?? null;
}

interface Candidate {
  id: string;
  cos: number;
  dist: number;
  /** meets the focused road at the intersection it leads to */
  atEnd: boolean;
}

/**
 * Better aligned first; on near-equal angles (within 0.01) the road at the far end, where one turns
 * driving along the focused road (without this rule a tie between the two ends is settled the same way
 * everywhere and a grid's whole row can become unreachable), then nearer, then id.
 */
function beats(a: Candidate, b: Candidate) {
  if (Math.abs(a.cos - b.cos) > 0.01) return a.cos > b.cos;
  if (a.atEnd !== b.atEnd) return a.atEnd;
  if (Math.abs(a.dist - b.dist) > 0.5) return a.dist < b.dist;
  return a.id < b.id;
}

/** Visible roads in reading order: rows of ROW_PX from the top, left to right within a row. */
export function readingOrder(visible: readonly { id: string; p: Point }[]): string[] {
  return [...visible]
    .sort(
      (a, b) =>
        Math.floor(a.p.y / ROW_PX) - Math.floor(b.p.y / ROW_PX) || a.p.x - b.p.x || a.id.localeCompare(b.id),
    )
    .map((r) => r.id);
}

/** The next (step 1) or previous (−1) road in `order` after `current` (the first/last if not in it). */
export function cycle(order: readonly string[], current: string | null, step: 1 | -1): string | null {
  if (!order.length) return null;
  const i = current === null ? -1 : order.indexOf(current);
  if (i < 0) return step === 1 ? order[0]! : order[order.length - 1]!;
  return order[(i + step + order.length) % order.length]!;
}
