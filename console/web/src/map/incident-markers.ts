import * as maplibregl from 'maplibre-gl';
import type { Map as MlMap } from 'maplibre-gl';
import { t, timeOf } from '../i18n.js';
import { roadLabel } from '../road-state.js';
import type { Store } from '../store.js';
import { h } from '../views/dom.js';
import { roadMidpoint } from './road-geometry.js';

/**
 * Active incidents as real buttons on the map (MapLibre DOM markers), not canvas circles: there are a
 * handful at a time, so each can be a focusable element in the Tab order with a spoken label, and
 * Enter (or a click) opens its road's panel. A cleared incident's marker is removed.
 */
export class IncidentMarkers {
  private readonly markers = new Map<string, { marker: maplibregl.Marker; el: HTMLButtonElement }>();

  constructor(
    private readonly map: MlMap,
    private readonly store: Store,
  ) {}

  sync(): void {
    const st = this.store.state;
    const keep = new Set<string>();
    for (const inc of st.incidents.values()) {
      const road = st.roads.get(inc.road_id);
      if (!road) continue;
      keep.add(inc.incident_id);
      let m = this.markers.get(inc.incident_id);
      if (!m) {
        const el = h(
          'button',
          {
            type: 'button',
            class: 'incident-marker',
            'data-incident-id': inc.incident_id,
            'data-road-id': inc.road_id,
          },
          h('span', { 'aria-hidden': 'true' }, '!'),
        );
        el.addEventListener('click', () => this.store.select(inc.road_id));
        const marker = new maplibregl.Marker({ element: el, anchor: 'center' })
          .setLngLat(roadMidpoint(road.coordinates))
          .addTo(this.map);
        m = { marker, el };
        this.markers.set(inc.incident_id, m);
      }
      // Relabelled on every sync: the language may have changed, the confidence and reason too.
      const label = t('incidentOn', {
        road: roadLabel(st, inc.road_id),
        t: timeOf(inc.detected_at),
        reason: inc.reason,
      });
      m.el.setAttribute('aria-label', label);
      m.el.title = label;
    }
    for (const [id, m] of this.markers)
      if (!keep.has(id)) {
        m.marker.remove();
        this.markers.delete(id);
      }
  }

  /** Markers whose point is inside the map's viewport, with their screen position (tests read this). */
  visible(): { incident_id: string; road_id: string; x: number; y: number }[] {
    const { clientWidth: w, clientHeight: hh } = this.map.getContainer();
    const out = [];
    for (const [id, m] of this.markers) {
      const p = this.map.project(m.marker.getLngLat());
      if (p.x >= 0 && p.y >= 0 && p.x <= w && p.y <= hh)
        out.push({ incident_id: id, road_id: m.el.dataset.roadId ?? '', x: p.x, y: p.y });
    }
    return out;
  }

  clear(): void {
    for (const m of this.markers.values()) m.marker.remove();
    this.markers.clear();
  }
}
