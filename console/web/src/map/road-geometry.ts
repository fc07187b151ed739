import type { RoadInfo } from '../store.js';

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
