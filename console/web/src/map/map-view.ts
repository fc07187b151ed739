import * as maplibregl from 'maplibre-gl';
import type { GeoJSONSource, Map as MlMap } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import { LEVEL_CODE } from '../palette.js';
import { displayedLevel } from '../road-state.js';
import type { Store } from '../store.js';
import { IncidentMarkers } from './incident-markers.js';
import { type BasemapConfig, consoleStyle } from './map-style.js';
import { byId } from '../views/dom.js';
import { RoadCursor } from './road-cursor.js';
import { nodeFeatures, roadFeatures, roadMidpoint, showRoads } from './road-geometry.js';

/** `performance.mark` set once every road is on the map (the bench and tests wait for it). */
export const MAP_COMPLETE_MARK = 'cityflow:map-complete';
/**
 * Live and forecast colour changes repaint the map at most once a second: each road's state changes
 * about once a second anyway, and on CPU rendering (SwiftShader) a repaint of 5,000 roads costs a
 * large part of a frame budget. Mode switches and selections still repaint on the next frame.
 */
export const LIVE_REPAINT_MS = 1000;

// The worker is a separate file served by the hub (no blob: worker), so a strict CSP can allow it.
maplibregl.setWorkerUrl(workerUrl);
// Workers start loading now (the sign-in form is up), not when the map is created after sign-in.
maplibregl.prewarm();

/**
 * The MapLibre map: roads coloured through feature-state (a colour change touches one feature, not the
 * GeoJSON), agents as a point layer, incidents as DOM markers (incident-markers.ts), the selected
 * road, the selected reroute's path and the keyboard focus (road-cursor.ts) in small sources of their
 * own. Live changes are applied at most once a LIVE_REPAINT_MS, other changes on the next frame.
 */
export class MapView {
  private map: MlMap | null = null;
  private readonly dirty = new Set<string>();
  private readonly applied = new Map<string, number>();
  private frame: number | null = null;
  private liveTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubs: (() => void)[] = [];
  /** the style is set (once the network is in), and with it the roads it was built with */
  private styled = false;
  private styledRoads: ReadonlyMap<string, unknown> | null = null;
  /** the style's sources and layers exist: feature states and small sources can be set */
  private ready = false;
  private incidents: IncidentMarkers | null = null;
  private cursor: RoadCursor | null = null;
  basemapFailed = false;
  /** the page's root font size over its 15 px default (consoleStyle's `uiScale`) */
  private readonly uiScale = Number.parseFloat(getComputedStyle(document.documentElement).fontSize) / 15 || 1;

  constructor(
    private readonly el: HTMLElement,
    private readonly store: Store,
    private readonly base: BasemapConfig,
    private readonly onBasemapFailed: () => void,
  ) {}

  start(): void {
    // No style until the network is in (setNetwork): with one, MapLibre draws frames of an empty map
    // at a default view while the roads download (110–190 ms each on SwiftShader, delaying the answer's
    // processing), then tiles the roads for that view before the fitted one. The WebGL context is
    // still created now, overlapping the download.
    const map = new maplibregl.Map({
      container: this.el,
      center: [2.35, 48.85],
      zoom: 13,
      attributionControl: this.base.tileUrl ? { compact: true } : false,
      fadeDuration: 0,
      // Its arrows pan; ours move between roads (road-cursor.ts, which pans with Shift+arrows).
      keyboard: false,
    });
    this.map = map;
    performance.mark('cityflow:map-created');
    this.incidents = new IncidentMarkers(map, this.store);
    this.cursor = new RoadCursor(map, this.store, byId('map-focus'));
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
    map.on('error', (e) => {
      // An unreachable tile server must not break the console: roads stay on the plain background.
      const sourceId = (e as { sourceId?: string }).sourceId;
      if (sourceId === 'basemap') {
        if (!this.basemapFailed) {
          this.basemapFailed = true;
          if (map.getLayer('basemap')) map.setLayoutProperty('basemap', 'visibility', 'none');
          this.onBasemapFailed();
        }
        return;
      }
      console.error('cityflow map:', e.error?.message ?? e);
    });
    map.on('click', 'roads', (e) => {
      const id = e.features?.[0]?.properties?.road_id;
      if (typeof id === 'string') this.store.select(id);
    });
    map.on('mouseenter', 'roads', () => {
      map.getCanvas().style.cursor = 'pointer';
    });
    map.on('mouseleave', 'roads', () => {
      map.getCanvas().style.cursor = '';
    });
    // `style.load` (sources and layers exist, no tile yet), not `load` (first frame with every tile):
    // feature states set now are kept for the tiles still loading, so roads appear already coloured.
    map.once('style.load', () => {
      performance.mark('cityflow:style-loaded');
      this.ready = true;
      if (this.styledRoads !== this.store.state.roads) this.setSources();
      this.paintNetwork();
    });
    const s = this.store;
    this.unsubs.push(
      s.on('network', () => this.setNetwork()),
      s.on('live', (ids) => this.markLive(s.state.mode.kind === 'live' ? ids : [])),
      s.on('predictions', (ids) => this.markLive(s.state.mode.kind === 'forecast' ? ids : [])),
      s.on('mode', () => this.markDirty()),
      s.on('history', () => this.markDirty(s.state.mode.kind === 'history' ? undefined : [])),
      s.on('agents', () => this.paintAgents()),
      s.on('incidents', () => this.paintIncidents()),
      s.on('reroutes', () => this.paintPath()),
      s.on('selection', () => this.paintSelection()),
      s.on('clock', () => this.cursor?.relabel()),
    );
  }

  /**
   * The network is in (or /api/roads failed: City emits `network` with no roads, and the map gets its
   * style anyway rather than staying blank). The camera moves first, so the one tiling the worker does
   * is for the view that is drawn; the first time, the roads go in with the style itself.
   */
  private setNetwork(): void {
    const map = this.map;
    if (!map) return;
    const st = this.store.state;
    if (st.roads.size) this.fit(map);
    if (!this.styled) {
      this.styled = true;
      this.styledRoads = st.roads;
      map.setStyle(
        consoleStyle(this.base, this.uiScale, {
          roads: roadFeatures(st.roads.values()),
          nodes: nodeFeatures(st.nodes),
        }),
      );
      performance.mark('cityflow:roads-set');
      return;
    }
    // Still loading: `style.load` sees that the network changed and sets it then.
    if (!this.ready) return;
    this.setSources();
    this.paintNetwork();
  }

  private fit(map: MlMap): void {
    const bounds = new maplibregl.LngLatBounds();
    for (const r of this.store.state.roads.values()) for (const c of r.coordinates) bounds.extend(c);
    // Keep the roads clear of the controls floating over the map's left edge.
    const overlay = this.el.parentElement?.querySelector<HTMLElement>('.map-overlay')?.offsetWidth ?? 0;
    map.fitBounds(bounds, {
      padding: { top: 40, bottom: 40, right: 60, left: overlay + 40 },
      animate: false,
    });
  }

  /** A network other than the one the style was built with, into the loaded style's sources. */
  private setSources(): void {
    const map = this.map!;
    const st = this.store.state;
    this.styledRoads = st.roads;
    map.getSource<GeoJSONSource>('roads')?.setData(roadFeatures(st.roads.values()));
    map.getSource<GeoJSONSource>('nodes')?.setData(nodeFeatures(st.nodes));
  }

  /** Colours, agents, incidents, path, selection and focus for the network now in the sources. */
  private paintNetwork(): void {
    const map = this.map!;
    const st = this.store.state;
    // Feature states go in with the data (MapLibre keeps them for tiles still loading), so the first
    // frame that shows the roads already has their colours: one render, not one grey and one coloured.
    map.removeFeatureState({ source: 'roads' });
    this.applied.clear();
    this.cursor?.setNetwork();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    for (const id of st.roads.keys()) this.dirty.add(id);
    this.flush();
    // Complete = the first idle (every tile loaded and drawn) with the roads' tiles loaded.
    const complete = () => {
      if (this.map !== map) return;
      if (!map.isSourceLoaded('roads')) {
        map.once('idle', complete);
        return;
      }
      if (!performance.getEntriesByName(MAP_COMPLETE_MARK).length) performance.mark(MAP_COMPLETE_MARK);
      document.body.dataset.mapComplete = 'true';
    };
    if (st.roads.size) map.once('idle', complete);
    this.paintAgents();
    this.paintIncidents();
    this.paintPath();
    this.paintSelection();
  }

  /** Roads whose data changed: repainted with the next LIVE_REPAINT_MS batch. */
  private markLive(ids: readonly string[] | undefined): void {
    for (const id of ids ?? []) this.dirty.add(id);
    if (!this.dirty.size || this.liveTimer !== null) return;
    this.liveTimer = setTimeout(() => {
      this.liveTimer = null;
      this.markDirty([]);
    }, LIVE_REPAINT_MS);
  }

  /** undefined = every road */
  private markDirty(ids?: readonly string[]): void {
    if (ids === undefined) for (const id of this.store.state.roads.keys()) this.dirty.add(id);
    else for (const id of ids) this.dirty.add(id);
    if (this.dirty.size && this.frame === null)
      this.frame = requestAnimationFrame(() => {
        this.frame = null;
        this.flush();
      });
  }

  private flush(): void {
    const map = this.map;
    if (!map || !this.ready || !map.getSource('roads')) return;
    const st = this.store.state;
    for (const id of this.dirty) {
      if (!st.roads.has(id)) continue;
      const code = LEVEL_CODE[displayedLevel(st, id)];
      // No state is "no data" (the style's default), so a road without data costs no call.
      if ((this.applied.get(id) ?? LEVEL_CODE.none) === code) continue;
      this.applied.set(id, code);
      map.setFeatureState({ source: 'roads', id }, { level: code });
    }
    this.dirty.clear();
  }

  private paintAgents(): void {
    const map = this.map;
    if (!map || !this.ready || !map.getSource('nodes')) return;
    for (const n of this.store.state.nodes) {
      if (!n.agent_id) continue;
      const online = this.store.state.agents.get(n.agent_id)?.online ?? false;
      map.setFeatureState({ source: 'nodes', id: n.node_id }, { online });
    }
  }

  private paintIncidents(): void {
    if (this.ready) this.incidents?.sync();
  }

  private paintPath(): void {
    const map = this.map;
    if (!map || !this.ready) return;
    const st = this.store.state;
    const r = st.selectedReroute ? st.reroutes.get(st.selectedReroute) : undefined;
    const roads = (r?.path ?? []).map((id) => st.roads.get(id)).filter((x) => x !== undefined);
    showRoads(map, 'path', roads);
  }

  private paintSelection(): void {
    const map = this.map;
    if (!map || !this.ready) return;
    const road = this.store.state.selectedRoad
      ? this.store.state.roads.get(this.store.state.selectedRoad)
      : undefined;
    showRoads(map, 'selected', road ? [road] : []);
  }

  /** Read-only probes of what is actually rendered (tests and the bench call them through window). */
  probe() {
    const map = this.map;
    const rendered = (layer: string, key: string) =>
      map && this.ready
        ? [...new Set(map.queryRenderedFeatures({ layers: [layer] }).map((f) => String(f.properties?.[key])))]
        : [];
    return {
      status: () => ({
        ready: this.ready,
        loaded: map?.loaded() ?? false,
        style: map?.isStyleLoaded() ?? false,
      }),
      roadLevel: (id: string) => {
        const code = map?.getFeatureState({ source: 'roads', id })?.level;
        return typeof code === 'number' ? (['free', 'slow', 'jam', 'none'][code] ?? null) : null;
      },
      renderedRoads: () => rendered('roads', 'road_id'),
      renderedPath: () => rendered('path-casing', 'road_id'),
      incidentMarkers: () => this.incidents?.visible() ?? [],
      focusedRoad: () => (this.cursor?.shown ? this.cursor.focused : null),
      renderedFocus: () => rendered('road-focus', 'road_id'),
      roadAnchor: (id: string) => this.cursor?.anchor(id) ?? null,
      agentMarker: (nodeId: string) => map?.getFeatureState({ source: 'nodes', id: nodeId })?.online ?? null,
      roadPoint: (id: string) => {
        const road = this.store.state.roads.get(id);
        if (!map || !road) return null;
        const p = map.project(roadMidpoint(road.coordinates));
        return { x: p.x, y: p.y };
      },
    };
  }

  stop(): void {
    for (const u of this.unsubs) u();
    this.unsubs = [];
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    if (this.liveTimer !== null) clearTimeout(this.liveTimer);
    this.liveTimer = null;
    this.incidents?.clear();
    this.incidents = null;
    this.cursor?.stop();
    this.cursor = null;
    this.map?.remove();
    this.map = null;
    this.ready = false;
    this.styled = false;
    this.styledRoads = null;
    this.applied.clear();
    this.dirty.clear();
    delete document.body.dataset.mapComplete;
  }
}
