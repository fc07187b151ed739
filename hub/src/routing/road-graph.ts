import type { Network, Road } from '@cityflow/protocol';

interface Reached {
  cost: number;
  hops: number;
  via: Road | null;
}

export interface Path {
  roads: string[];
  cost: number;
}

/** Binary min-heap of (node, cost): Dijkstra's open set, O(log n) per operation. */
class MinHeap {
  private readonly nodes: string[] = [];
  private readonly costs: number[] = [];
  get size() {
    return this.nodes.length;
  }
  push(node: string, cost: number) {
    let i = this.nodes.length;
    this.nodes.push(node);
    this.costs.push(cost);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.costs[p]! <= cost) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { node: string; cost: number } | undefined {
    if (!this.nodes.length) return undefined;
    const top = { node: this.nodes[0]!, cost: this.costs[0]! };
    const lastN = this.nodes.pop()!;
    const lastC = this.costs.pop()!;
    if (this.nodes.length) {
      this.nodes[0] = lastN;
      this.costs[0] = lastC;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.costs.length && this.costs[l]! < this.costs[m]!) m = l;
        if (r < this.costs.length && this.costs[r]! < this.costs[m]!) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
  private swap(a: number, b: number) {
    [this.nodes[a], this.nodes[b]] = [this.nodes[b]!, this.nodes[a]!];
    [this.costs[a], this.costs[b]] = [this.costs[b]!, this.costs[a]!];
  }
}

/** Directed road graph of the network file: nodes are intersections, edges are roads. */
export class RoadGraph {
  readonly out = new Map<string, Road[]>();
  /** roads arriving at each node */
  readonly into = new Map<string, Road[]>();

  constructor(readonly net: Network) {
    for (const r of net.roads.values()) {
      const l = this.out.get(r.from_node) ?? [];
      l.push(r);
      this.out.set(r.from_node, l);
      const m = this.into.get(r.to_node) ?? [];
      m.push(r);
      this.into.set(r.to_node, m);
    }
  }

  /**
   * Bounded Dijkstra from `from`: it stops once the cheapest open cost exceeds `maxCost` (or at `to`)
   * and ignores paths longer than `maxHops` roads, so a search stays local on a city-sized graph.
   * Returns the settled nodes with their cost and the road they were reached by.
   */
  private search(
    from: string,
    to: string | null,
    cost: (r: Road) => number,
    o: { excludeRoads?: Set<string>; excludeNodes?: Set<string>; maxCost?: number; maxHops?: number },
  ): Map<string, Reached> {
    const maxCost = o.maxCost ?? Number.POSITIVE_INFINITY;
    const maxHops = o.maxHops ?? 12;
    const best = new Map<string, Reached>([[from, { cost: 0, hops: 0, via: null }]]);
    const settled = new Map<string, Reached>();
    const open = new MinHeap();
    open.push(from, 0);
    while (open.size) {
      const { node, cost: c } = open.pop()!;
      if (settled.has(node)) continue;
      if (c > maxCost) break;
      const here = best.get(node)!;
      settled.set(node, here);
      if (node === to) break;
      if (here.hops >= maxHops) continue;
      for (const r of this.out.get(node) ?? []) {
        if (o.excludeRoads?.has(r.road_id) || (o.excludeNodes?.has(r.to_node) && r.to_node !== to)) continue;
        const nc = c + cost(r);
        const prev = best.get(r.to_node);
        if (!prev || nc < prev.cost) {
          best.set(r.to_node, { cost: nc, hops: here.hops + 1, via: r });
          open.push(r.to_node, nc);
        }
      }
    }
    return settled;
  }

  private pathTo(reached: Map<string, Reached>, from: string, to: string): Path | null {
    const end = reached.get(to);
    if (!end) return null;
    const roads: string[] = [];
    let n = to;
    while (n !== from) {
      const b = reached.get(n)!;
      roads.unshift(b.via!.road_id);
      n = b.via!.from_node;
    }
    return { roads, cost: end.cost };
  }

  /** Cheapest path from `from` to `to` within the bounds, or null. */
  shortest(
    from: string,
    to: string,
    cost: (r: Road) => number,
    o: { excludeRoads?: Set<string>; excludeNodes?: Set<string>; maxCost?: number; maxHops?: number } = {},
  ): Path | null {
    return this.pathTo(this.search(from, to, cost, o), from, to);
  }

  /** Cheapest paths from `from` to every node reachable within the bounds (one search for many targets). */
  shortestFrom(
    from: string,
    cost: (r: Road) => number,
    o: { excludeRoads?: Set<string>; maxCost?: number; maxHops?: number } = {},
  ): { costTo(node: string): number | undefined; pathTo(node: string): Path | null } {
    const reached = this.search(from, null, cost, o);
    return { costTo: (n) => reached.get(n)?.cost, pathTo: (n) => this.pathTo(reached, from, n) };
  }

  /** Yen's k shortest loopless paths (bounded like `shortest`). */
  kShortest(
    from: string,
    to: string,
    k: number,
    cost: (r: Road) => number,
    o: { excludeRoads?: Set<string>; maxCost?: number; maxHops?: number } = {},
  ): Path[] {
    const first = this.shortest(from, to, cost, o);
    if (!first) return [];
    const found: Path[] = [first];
    const candidates: Path[] = [];
    const pathCost = (roads: string[]) => roads.reduce((s, id) => s + cost(this.net.roads.get(id)!), 0);
    for (let n = 1; n < k; n++) {
      const last = found[n - 1]!;
      for (let i = 0; i < last.roads.length; i++) {
        const rootRoads = last.roads.slice(0, i);
        const spurNode = i === 0 ? from : this.net.roads.get(last.roads[i - 1]!)!.to_node;
        const excludeRoads = new Set(o.excludeRoads);
        for (const p of found)
          if (p.roads.length > i && rootRoads.every((r, j) => p.roads[j] === r))
            excludeRoads.add(p.roads[i]!);
        const excludeNodes = new Set<string>([from, ...rootRoads.map((r) => this.net.roads.get(r)!.to_node)]);
        excludeNodes.delete(spurNode);
        const spur = this.shortest(spurNode, to, cost, {
          excludeRoads,
          excludeNodes,
          maxCost: o.maxCost,
          maxHops: (o.maxHops ?? 12) - rootRoads.length,
        });
        if (!spur) continue;
        const roads = [...rootRoads, ...spur.roads];
        if (
          found.some((p) => p.roads.join() === roads.join()) ||
          candidates.some((p) => p.roads.join() === roads.join())
        )
          continue;
        const total = pathCost(roads);
        if (total <= (o.maxCost ?? Number.POSITIVE_INFINITY)) candidates.push({ roads, cost: total });
      }
      if (!candidates.length) break;
      candidates.sort((a, b) => a.cost - b.cost);
      found.push(candidates.shift()!);
    }
    return found;
  }
}
