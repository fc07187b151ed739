import type { Network } from '@cityflow/protocol';
import type { Neighbours } from './types.js';

/**
 * Neighbours of each road from the network topology: the roads feeding its start node (upstream,
 * weight 1) and those leaving its end node (downstream, weight 1); the reverse road of the same
 * street counts half (it shares the street, not the flow).
 */
export function roadNeighbours(net: Network): Neighbours {
  const into = new Map<string, string[]>();
  const outOf = new Map<string, string[]>();
  for (const r of net.roads.values()) {
    (into.get(r.to_node) ?? into.set(r.to_node, []).get(r.to_node)!).push(r.road_id);
    (outOf.get(r.from_node) ?? outOf.set(r.from_node, []).get(r.from_node)!).push(r.road_id);
  }
  const out: Neighbours = new Map();
  for (const r of net.roads.values()) {
    const list = new Map<string, number>();
    const isReverse = (id: string) => {
      const o = net.roads.get(id)!;
      return o.from_node === r.to_node && o.to_node === r.from_node;
    };
    for (const id of [...(into.get(r.from_node) ?? []), ...(outOf.get(r.to_node) ?? [])]) {
      if (id === r.road_id) continue;
      const w = isReverse(id) ? 0.5 : 1;
      list.set(id, Math.max(list.get(id) ?? 0, w));
    }
    out.set(
      r.road_id,
      [...list].map(([id, weight]) => ({ id, weight })),
    );
  }
  return out;
}

/**
 * Neighbours from an adjacency list (`from,to,weight` rows, as METR-LA's): both directions count, a
 * pair listed twice keeps its larger weight, self-loops are dropped.
 */
export function neighboursFromAdjacency(
  rows: Iterable<{ from: string; to: string; weight: number }>,
): Neighbours {
  const acc = new Map<string, Map<string, number>>();
  const add = (a: string, b: string, w: number) => {
    const m = acc.get(a) ?? new Map<string, number>();
    acc.set(a, m);
    m.set(b, Math.max(m.get(b) ?? 0, w));
  };
  for (const { from, to, weight } of rows) {
    if (from === to || !(weight > 0)) continue;
    add(from, to, weight);
    add(to, from, weight);
  }
  const out: Neighbours = new Map();
  for (const [id, m] of acc)
    out.set(
      id,
      [...m].map(([nid, weight]) => ({ id: nid, weight })),
    );
  return out;
}

/**
 * Sensor-level neighbours from the network topology (for evaluating sensor data against a network
 * file): the other sensors of the same road (weight 1, e.g. the other lane) and the sensors of the
 * road's upstream and downstream roads (the road's neighbour weight).
 */
export function sensorNeighbours(net: Network): Neighbours {
  const roads = roadNeighbours(net);
  const byRoad = new Map<string, string[]>();
  for (const s of net.sensors.values()) {
    const list = byRoad.get(s.road_id) ?? [];
    list.push(s.sensor_id);
    byRoad.set(s.road_id, list);
  }
  const out: Neighbours = new Map();
  for (const s of net.sensors.values()) {
    const list: Array<{ id: string; weight: number }> = [];
    for (const o of byRoad.get(s.road_id) ?? []) if (o !== s.sensor_id) list.push({ id: o, weight: 1 });
    for (const r of roads.get(s.road_id) ?? [])
      for (const o of byRoad.get(r.id) ?? []) list.push({ id: o, weight: r.weight });
    out.set(s.sensor_id, list);
  }
  return out;
}
