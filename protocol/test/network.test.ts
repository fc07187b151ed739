import { describe, expect, it } from 'vitest';
import { DEFAULT_NETWORK_FILE, loadNetwork, loadNetworkFile, networkToGeoJSON } from '@cityflow/protocol';

const road = (id: string, from: string, to: string, extra: Record<string, unknown> = {}) => ({
  type: 'Feature',
  geometry: {
    type: 'LineString',
    coordinates: [
      [2.35, 48.85],
      [2.36, 48.86],
    ],
  },
  properties: {
    kind: 'road',
    road_id: id,
    from_node: from,
    to_node: to,
    length_m: 100,
    lanes: 2,
    speed_limit_kmh: 50,
    ...extra,
  },
});
const sensor = (id: string, roadId: string, agent: string) => ({
  type: 'Feature',
  geometry: { type: 'Point', coordinates: [2.35, 48.85] },
  properties: { kind: 'sensor', sensor_id: id, road_id: roadId, agent_id: agent },
});
const node = (id: string, agent?: string) => ({
  type: 'Feature',
  geometry: { type: 'Point', coordinates: [2.35, 48.85] },
  properties: { kind: 'intersection', node_id: id, ...(agent ? { agent_id: agent } : {}) },
});
const fc = (...features: unknown[]) => ({ type: 'FeatureCollection', features });

describe('network file', () => {
  it('indexes roads, intersections, sensors and agent slices; ignores other kinds', () => {
    const r = loadNetwork(
      fc(
        road('R1', 'A', 'B'),
        road('R2', 'B', 'A'),
        node('A', 'ag-A'),
        node('B', 'ag-B'),
        sensor('S1', 'R1', 'ag-B'),
        sensor('S2', 'R2', 'ag-A'),
        {
          type: 'Feature',
          geometry: null,
          properties: { kind: 'poi', name: 'café' },
        },
      ),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.roads.size).toBe(2);
    expect(r.value.agents.get('ag-B')).toEqual({ sensors: ['S1'], roads: ['R1'], intersections: ['B'] });
    const slice = networkToGeoJSON(r.value, 'ag-B');
    expect(slice.features.map((f) => f.properties.kind).sort()).toEqual(['intersection', 'road', 'sensor']);
    // a slice is itself a valid network file
    expect(loadNetwork(slice).ok).toBe(true);
  });

  it('reports every problem: bad fields, duplicates and dangling references', () => {
    const r = loadNetwork(
      fc(
        road('R1', 'A', 'B', { lanes: 0 }),
        road('R2', 'A', 'B'),
        road('R2', 'B', 'A'),
        sensor('S1', 'NOPE', 'ag'),
      ),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^features\.0\.properties\.lanes: /),
        expect.stringMatching(/^features\.2\.properties\.road_id: duplicate R2/),
        expect.stringMatching(/^sensor S1: road_id NOPE/),
      ]),
    );
  });

  it('rejects a file that is not a FeatureCollection', () => {
    const r = loadNetwork({ type: 'Feature' });
    expect(r.ok).toBe(false);
  });

  it('ships a default city within the product brief (20–60 roads, 8–20 intersections, 2–4 sensors per road)', () => {
    const net = loadNetworkFile(DEFAULT_NETWORK_FILE);
    expect(net.roads.size).toBeGreaterThanOrEqual(20);
    expect(net.roads.size).toBeLessThanOrEqual(60);
    const signalised = [...net.intersections.values()].filter((n) => n.agent_id);
    expect(signalised.length).toBeGreaterThanOrEqual(8);
    expect(signalised.length).toBeLessThanOrEqual(20);
    const perRoad = new Map<string, number>();
    for (const s of net.sensors.values()) perRoad.set(s.road_id, (perRoad.get(s.road_id) ?? 0) + 1);
    for (const id of net.roads.keys()) {
      expect(perRoad.get(id) ?? 0).toBeGreaterThanOrEqual(2);
      expect(perRoad.get(id) ?? 0).toBeLessThanOrEqual(4);
    }
    for (const s of net.sensors.values()) expect(net.agents.has(s.agent_id)).toBe(true);
  });

  it('throws CF_INVALID_NETWORK with the path for unreadable files', () => {
    expect(() => loadNetworkFile('/nonexistent/network.geojson')).toThrow(/cannot read network file/);
  });
});
