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
import { roadFeatures, roadMidpoint } from './road-geometry.js';

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
  private ready = false;
  private incidents: IncidentMarkers | null = null;
  private cursor: RoadCursor | null = null;
  basemapFailed = false;

  constructor(
    private readonly el: HTMLElement,
    private readonly store: Store,
    private readonly base: BasemapConfig,
    private readonly onBasemapFailed: () => void,
  ) {}

  start(): void {
    const map = new maplibregl.Map({
      container: this.el,
      style: consoleStyle(
        this.base,
        Number.parseFloat(getComputedStyle(document.documentElement).fontSize) / 15 || 1,
      ),
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
    map.on('load', () => {
      performance.mark('cityflow:style-loaded');
      this.ready = true;
      this.setNetwork();
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

  private setNetwork(): void {
    const map = this.map;
    if (!map || !this.ready || this.store.state.roads.size === 0) return;
    const st = this.store.state;
    const tiled = (map.getSource('roads') as GeoJSONSource).setData(roadFeatures(st.roads.values()));
    performance.mark('cityflow:roads-set');
    (map.getSource('nodes') as GeoJSONSource).setData({
      type: 'FeatureCollection',
      features: st.nodes.map((n) => ({
        type: 'Feature' as const,
        properties: n.agent_id ? { node_id: n.node_id, agent_id: n.agent_id } : { node_id: n.node_id },
        geometry: { type: 'Point' as const, coordinates: n.lonlat },
      })),
    });
    const bounds = new maplibregl.LngLatBounds();
    for (const r of st.roads.values()) for (const c of r.coordinates) bounds.extend(c);
    // Keep the roads clear of the controls floating over the map's left edge.
    const overlay = this.el.parentElement?.querySelector<HTMLElement>('.map-overlay')?.offsetWidth ?? 0;
    map.fitBounds(bounds, {
      padding: { top: 40, bottom: 40, right: 60, left: overlay + 40 },
      animate: false,
    });
    // Feature states go in with the data (MapLibre keeps them for tiles still loading), so the first
    // frame that shows the roads already has their colours: one render, not one grey and one coloured.
    map.removeFeatureState({ source: 'roads' });
    this.applied.clear();
    this.cursor?.setNetwork();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    for (const id of st.roads.keys()) this.dirty.add(id);
    this.flush();
    // Complete = the first idle (every tile loaded and drawn) after the worker has the roads.
    const complete = () => {
      if (this.map !== map) return;
      if (!map.isSourceLoaded('roads')) {
        map.once('idle', complete);
        return;
      }
      if (!performance.getEntriesByName(MAP_COMPLETE_MARK).length) performance.mark(MAP_COMPLETE_MARK);
      document.body.dataset.mapComplete = 'true';
    };
    void tiled.then(() => {
      performance.mark('cityflow:roads-tiled');
      map.once('idle', complete);
    });
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
    (map.getSource('path') as GeoJSONSource | undefined)?.setData(roadFeatures(roads));
  }

  private paintSelection(): void {
    const map = this.map;
    if (!map || !this.ready) return;
    const road = this.store.state.selectedRoad
      ? this.store.state.roads.get(this.store.state.selectedRoad)
      : undefined;
    (map.getSource('selected') as GeoJSONSource | undefined)?.setData(roadFeatures(road ? [road] : []));
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
    this.applied.clear();
    this.dirty.clear();
    delete document.body.dataset.mapComplete;
  }
}
