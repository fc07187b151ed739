import type { GeoJSONSourceSpecification, StyleSpecification } from 'maplibre-gl';
import {
  AGENT_OFFLINE_COLOUR,
  AGENT_ONLINE_COLOUR,
  FOCUS_COLOUR,
  LEVEL_CODE,
  LEVEL_COLOURS,
  LEVEL_WIDTH,
  PATH_COLOUR,
} from '../palette.js';

export interface BasemapConfig {
  /** raster tile URL template (`{z}/{x}/{y}`), or null for the plain background */
  tileUrl: string | null;
  tileAttribution?: string;
  tileMaxZoom?: number;
}

type Data = GeoJSONSourceSpecification['data'];
const EMPTY: Data = { type: 'FeatureCollection', features: [] };
const byLevel = <T>(pick: (l: keyof typeof LEVEL_CODE) => T, fallback: T) => [
  'match',
  ['coalesce', ['feature-state', 'level'], LEVEL_CODE.none],
  LEVEL_CODE.free,
  pick('free'),
  LEVEL_CODE.slow,
  pick('slow'),
  LEVEL_CODE.jam,
  pick('jam'),
  fallback,
];
/**
 * Each directed road is drawn offset to its right (right-hand traffic), so the two directions of a
 * two-way street are two parallel lines; the offset grows with the zoom like the street does.
 */
const OFFSET = ['interpolate', ['linear'], ['zoom'], 11, 1, 14, 2.5, 17, 6, 20, 14];
/** A width that grows with the zoom (MapLibre wants `zoom` only at the top of an interpolate). */
const scaledBy = (k: number) => (w: unknown) => [
  'interpolate',
  ['linear'],
  ['zoom'],
  11,
  ['*', 0.6 * k, w],
  14,
  ['*', 1 * k, w],
  17,
  ['*', 2 * k, w],
  20,
  ['*', 4 * k, w],
];

/**
 * The console's MapLibre style: optional OSM raster basemap under the road, path and agent layers.
 * `uiScale` = the page's root font size over its 15 px default: a wall screen with larger text gets
 * proportionally wider roads and markers, so the map reads from as far away as the panels.
 * `network` = the roads and intersections already inside their sources, so the worker tiles them once
 * with the style (map-view.ts sets the style only once they are in, at the camera fitted to them).
 */
export function consoleStyle(
  base: BasemapConfig,
  uiScale = 1,
  network: { roads: Data; nodes: Data } = { roads: EMPTY, nodes: EMPTY },
): StyleSpecification {
  const scaled = scaledBy(uiScale);
  // In the order the worker tiles them: the small sources first, the 5,000 roads last, so the last
  // road tile is the last tile of all and the frame that draws it is the map's first idle. With the
  // roads first, that frame still waited on the small sources' tiles in every run measured, and the
  // idle (the map-complete mark) came 1–2 frames later: 270–920 ms on SwiftShader under load.
  // Layers keep their own order.
  const sources: StyleSpecification['sources'] = {
    // The selected road, the selected reroute's path and the keyboard-focused road each in a small
    // source of their own: changing them re-tiles a few features, never the 5,000-road source (a
    // filter change on a layer of `roads` would make MapLibre re-tile all of it).
    selected: { type: 'geojson', data: EMPTY },
    path: { type: 'geojson', data: EMPTY },
    focus: { type: 'geojson', data: EMPTY },
    nodes: { type: 'geojson', data: network.nodes, promoteId: 'node_id' },
    // buffer: the tile margin (of 512) a line crossing a tile edge is kept in; the default 128 copies
    // a quarter tile of roads into each neighbour, and the widest road is ~15 px.
    roads: { type: 'geojson', data: network.roads, promoteId: 'road_id', buffer: 32 },
  };
  if (base.tileUrl)
    sources.basemap = {
      type: 'raster',
      tiles: [base.tileUrl],
      tileSize: 256,
      maxzoom: base.tileMaxZoom ?? 19,
      attribution: base.tileAttribution ?? '',
    };
  // No background layer: the plain background is the map element's CSS colour under a transparent
  // canvas. A background layer is a full-screen fill in every frame, ~20 ms of each repaint on CPU
  // rendering at 1920×1080 (SwiftShader: 117 → 90 ms per repaint of a near-empty map, measured).
  const layers: StyleSpecification['layers'] = [];
  if (base.tileUrl)
    layers.push({
      id: 'basemap',
      type: 'raster',
      source: 'basemap',
      // Dimmed so the congestion colours keep their contrast on a light OSM map.
      paint: { 'raster-opacity': 0.55, 'raster-saturation': -0.6, 'raster-brightness-max': 0.7 },
    });
  layers.push(
    {
      id: 'path-casing',
      type: 'line',
      source: 'path',
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': PATH_COLOUR,
        'line-width': scaled(12),
        'line-offset': OFFSET,
        'line-opacity': 0.8,
      },
    } as never,
    {
      id: 'roads',
      type: 'line',
      source: 'roads',
      layout: { 'line-cap': 'butt', 'line-join': 'round' },
      paint: {
        'line-color': byLevel((l) => LEVEL_COLOURS[l], LEVEL_COLOURS.none),
        'line-width': scaled(byLevel((l) => LEVEL_WIDTH[l], LEVEL_WIDTH.none)),
        'line-offset': OFFSET,
      },
    } as never,
    {
      id: 'road-selected',
      type: 'line',
      source: 'selected',
      paint: {
        'line-color': '#ffffff',
        'line-width': scaled(2),
        'line-offset': OFFSET,
        'line-gap-width': scaled(6),
      },
    } as never,
    {
      id: 'road-focus',
      type: 'line',
      source: 'focus',
      paint: {
        'line-color': FOCUS_COLOUR,
        'line-width': scaled(2.5),
        'line-offset': OFFSET,
        'line-gap-width': scaled(9),
      },
    } as never,
    {
      id: 'agents',
      type: 'circle',
      source: 'nodes',
      filter: ['has', 'agent_id'],
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 3 * uiScale, 16, 8 * uiScale],
        'circle-color': [
          'case',
          ['boolean', ['feature-state', 'online'], false],
          AGENT_ONLINE_COLOUR,
          AGENT_OFFLINE_COLOUR,
        ],
        'circle-stroke-color': '#101318',
        'circle-stroke-width': 2,
      },
    } as never,
  );
  return { version: 8, sources, layers };
}
