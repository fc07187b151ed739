import type { GeoJSONSource, Map as MlMap } from 'maplibre-gl';
import type { NodeInfo, RoadInfo } from '../store.js';

/**
 * Where a road "is" for markers, keyboard focus and tests: the middle of its middle segment (for a
 * two-point road, the midpoint of its ends). One definition, so an incident marker, the keyboard
 * focus and a test's click all land on the same spot of the same road.
 */
export function roadMidpoint(coords: readonly (readonly [number, number])[]): [number, number] {
  const i = Math.floor((coords.length - 1) / 2);
  const a = coords[i]!;
  const b = coords[Math.min(coords.length - 1, i + 1)]!;
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

/** Roads as GeoJSON line features keyed by `road_id` (the sources' promoteId). */
export function roadFeatures(roads: Iterable<RoadInfo>) {
  const features = [];
  for (const r of roads)
    features.push({
      type: 'Feature' as const,
      properties: { road_id: r.road_id },
      geometry: { type: 'LineString' as const, coordinates: r.coordinates },
    });
  return { type: 'FeatureCollection' as const, features };
}

/** Intersections as GeoJSON points keyed by `node_id`; those an agent runs carry its `agent_id`. */
export function nodeFeatures(nodes: readonly NodeInfo[]) {
  return {
    type: 'FeatureCollection' as const,
    features: nodes.map((n) => ({
      type: 'Feature' as const,
      properties: n.agent_id ? { node_id: n.node_id, agent_id: n.agent_id } : { node_id: n.node_id },
      geometry: { type: 'Point' as const, coordinates: n.lonlat },
    })),
  };
}

/** Sources (of the current style) that hold at least one feature; the style creates them empty. */
const filled = new WeakSet<GeoJSONSource>();

/**
 * The roads of one small source (selected road, reroute path, keyboard focus). Nothing is sent when
 * an empty source stays empty: every setData reloads the source's tiles and delays the map's next
 * idle, and at start (nothing selected, focused or shown) that idle is the map-complete mark.
 */
export function showRoads(map: MlMap, sourceId: string, roads: readonly RoadInfo[]): void {
  const source = map.getSource<GeoJSONSource>(sourceId);
  if (!source || (roads.length === 0 && !filled.has(source))) return;
  if (roads.length) filled.add(source);
  else filled.delete(source);
  source.setData(roadFeatures(roads));
}
