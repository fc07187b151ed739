import { type Network, loadNetwork } from '@cityflow/protocol';

/**
 * A small city for tests: intersections A-B-C on a line (agents agent-1 and agent-2), outer
 * nodes E feeding B and Z feeding A, and two sensors per road. Built here so tests never depend on shared data.
 *
 *         E
 *         ▼
 *   Z ▶ A ⇄ B ⇄ C
 */
export function fixtureGeoJSON() {
  const nodes: Record<string, [number, number]> = {
    A: [2.35, 48.85],
    B: [2.352, 48.85],
    C: [2.354, 48.85],
    E: [2.352, 48.852],
    Z: [2.348, 48.85],
  };
  const agentOf: Record<string, string> = { A: 'agent-1', B: 'agent-1', C: 'agent-2' };
  const roads = [
    ['A', 'B'],
    ['B', 'A'],
    ['B', 'C'],
    ['C', 'B'],
    ['E', 'B'],
    ['Z', 'A'],
  ];
  const features: unknown[] = [];
  for (const [id, xy] of Object.entries(nodes))
    if (agentOf[id])
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: xy },
        properties: { kind: 'intersection', node_id: id, agent_id: agentOf[id] },
      });
  for (const [from, to] of roads) {
    const road_id = `${from}${to}`;
    features.push({
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: [nodes[from!], nodes[to!]] },
      properties: {
        kind: 'road',
        road_id,
        from_node: from,
        to_node: to,
        length_m: 150,
        lanes: 2,
        speed_limit_kmh: 50,
      },
    });
    for (const lane of [0, 1])
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: nodes[to!] },
        properties: { kind: 'sensor', sensor_id: `s-${road_id}-${lane}`, road_id, agent_id: agentOf[to!] },
      });
  }
  return { type: 'FeatureCollection', features };
}

export function fixtureNetwork(): Network {
  const r = loadNetwork(fixtureGeoJSON());
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.value;
}
