import type { LngLatLike, Map as MlMap } from 'maplibre-gl';
import { type MessageKey, t } from '../i18n.js';
import { displayedLevel, roadLabel } from '../road-state.js';
import type { Store } from '../store.js';
import { roadMidpoint, showRoads } from './road-geometry.js';
import {
  anchorOf,
  arrowTarget,
  cycle,
  type Dir,
  type Point,
  readingOrder,
  roadsByNode,
} from './spatial-nav.js';

const ARROWS: Record<string, Dir> = {
  ArrowLeft: 'left',
  ArrowRight: 'right',
  ArrowUp: 'up',
  ArrowDown: 'down',
};
/** Shift+arrow pans the map this far (px); the focused road is kept this far inside the edges. */
const PAN_PX = 120;
const EDGE_PX = 40;

/**
 * The keyboard path to the roads drawn on the canvas. The map canvas is one stop in the Tab order
 * (Tab and Shift+Tab leave it, nothing is trapped); on it, a road is focused and drawn with a yellow
 * ring (its own one-feature source, so moving the focus never re-tiles the 5,000-road source), a label
 * names it, the arrows move along the network, Page Down/Up step through every road on screen, Enter
 * or Space opens the road panel, Escape closes it, +/− zoom and Shift+arrows pan (MapLibre's own
 * keyboard handler is off: its arrows pan, ours move between roads).
 */
export class RoadCursor {
  focused: string | null = null;
  /** the ring is drawn while the canvas has the keyboard focus */
  shown = false;
  private byNode = new Map<string, string[]>();
  private readonly canvas: HTMLCanvasElement;

  constructor(
    private readonly map: MlMap,
    private readonly store: Store,
    private readonly label: HTMLElement,
  ) {
    this.canvas = map.getCanvas();
    this.canvas.addEventListener('keydown', this.onKey);
    this.canvas.addEventListener('focus', this.onFocus);
    this.canvas.addEventListener('blur', this.onBlur);
    this.relabel();
  }

  /** A new network: the intersections' road lists, and a focus on a road that no longer exists dropped. */
  setNetwork(): void {
    const roads = this.store.state.roads;
    this.byNode = roadsByNode(
      [...roads.values()].map((r) => ({ id: r.road_id, from: r.from_node, to: r.to_node })),
    );
    if (this.focused && !roads.has(this.focused)) this.focused = null;
    this.paint();
  }

  /** The canvas's spoken name and the focused road's label follow the language and the road's state. */
  relabel(): void {
    if (this.canvas.getAttribute('aria-label') !== t('mapLabel'))
      this.canvas.setAttribute('aria-label', t('mapLabel'));
    const id = this.focused;
    if (!this.shown || !id || !this.store.state.roads.has(id)) {
      this.label.hidden = true;
      return;
    }
    const level = displayedLevel(this.store.state, id);
    const text = `${t('mapFocus', { road: roadLabel(this.store.state, id), level: t(`level${level}` as MessageKey) })} — ${t('mapKeys')}`;
    // Unchanged text is not rewritten: a live region would announce it again every second.
    if (this.label.textContent !== text) this.label.textContent = text;
    this.label.hidden = false;
  }

  private readonly onFocus = () => {
    // A mouse click focuses the canvas too: the ring appears with keyboard use only.
    if (!this.canvas.matches(':focus-visible')) return;
    this.show();
  };

  private readonly onBlur = () => {
    this.shown = false;
    this.paint();
  };

  private show(): void {
    this.shown = true;
    const st = this.store.state;
    if (!this.focused || !this.onScreen(this.focused))
      this.focused =
        st.selectedRoad && this.onScreen(st.selectedRoad) ? st.selectedRoad : this.nearestToCentre();
    this.paint();
  }

  private readonly onKey = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const dir = ARROWS[e.key];
    let handled = true;
    if (dir && e.shiftKey) {
      const v = { left: [-PAN_PX, 0], right: [PAN_PX, 0], up: [0, -PAN_PX], down: [0, PAN_PX] }[dir];
      this.map.panBy(v as [number, number], { duration: 0 });
    } else if (dir) this.move(() => (this.focused ? this.arrow(this.focused, dir) : null));
    else if (e.key === 'PageDown' || e.key === 'PageUp')
      this.move(() => cycle(this.visibleOrder(), this.focused, e.key === 'PageDown' ? 1 : -1));
    else if (e.key === 'Home') this.move(() => this.nearestToCentre());
    else if (e.key === 'Enter' || e.key === ' ') {
      if (!this.shown) this.show();
      if (this.focused) this.store.select(this.focused);
    } else if (e.key === 'Escape') this.store.select(null);
    else if (e.key === '+' || e.key === '=') this.map.zoomIn({ duration: 0 });
    else if (e.key === '-' || e.key === '_') this.map.zoomOut({ duration: 0 });
    else handled = false;
    if (handled) e.preventDefault();
  };

  /** Moves the focus to `pick()` (from the first key press on, the ring shows), keeping it on screen. */
  private move(pick: () => string | null): void {
    if (!this.shown || !this.focused) {
      this.show();
      return;
    }
    const next = pick();
    if (!next) return;
    this.focused = next;
    const p = this.anchor(next);
    const { clientWidth: w, clientHeight: h } = this.canvas;
    if (p && (p.x < EDGE_PX || p.y < EDGE_PX || p.x > w - EDGE_PX || p.y > h - EDGE_PX)) {
      const road = this.store.state.roads.get(next)!;
      this.map.panTo(roadMidpoint(road.coordinates) as LngLatLike, { duration: 0 });
    }
    this.paint();
  }

  private arrow(from: string, dir: Dir): string | null {
    const r = this.store.state.roads.get(from);
    if (!r) return null;
    return arrowTarget({ id: r.road_id, from: r.from_node, to: r.to_node }, dir, this.byNode, (id) =>
      this.anchor(id),
    );
  }

  /** A road's keyboard anchor in canvas pixels: its midpoint, on its own side of the street. */
  anchor(id: string): Point | null {
    const road = this.store.state.roads.get(id);
    if (!road || road.coordinates.length < 2) return null;
    const c = road.coordinates;
    const i = Math.floor((c.length - 1) / 2);
    const [a, b, m] = [c[i]!, c[Math.min(c.length - 1, i + 1)]!, roadMidpoint(c)].map((x) =>
      this.map.project(x),
    );
    return anchorOf(m!, a!, b!);
  }

  private onScreen(id: string): boolean {
    const p = this.anchor(id);
    return !!p && p.x >= 0 && p.y >= 0 && p.x <= this.canvas.clientWidth && p.y <= this.canvas.clientHeight;
  }

  private visibleOrder(): string[] {
    const visible: { id: string; p: Point }[] = [];
    for (const id of this.store.state.roads.keys()) {
      const p = this.anchor(id);
      if (p && p.x >= 0 && p.y >= 0 && p.x <= this.canvas.clientWidth && p.y <= this.canvas.clientHeight)
        visible.push({ id, p });
    }
    return readingOrder(visible);
  }

  private nearestToCentre(): string | null {
    const cx = this.canvas.clientWidth / 2;
    const cy = this.canvas.clientHeight / 2;
    let best: string | null = null;
    let bestD = Number.POSITIVE_INFINITY;
    for (const id of this.store.state.roads.keys()) {
      const p = this.anchor(id);
      const d = p ? Math.hypot(p.x - cx, p.y - cy) : Number.POSITIVE_INFINITY;
      if (d < bestD || (d === bestD && best !== null && id < best)) [best, bestD] = [id, d];
    }
    return best;
  }

  /** The ring: the focused road alone in the `focus` source, drawn over the roads. */
  private paint(): void {
    const road = this.shown && this.focused ? this.store.state.roads.get(this.focused) : undefined;
    showRoads(this.map, 'focus', road ? [road] : []);
    this.relabel();
  }

  stop(): void {
    this.canvas.removeEventListener('keydown', this.onKey);
    this.canvas.removeEventListener('focus', this.onFocus);
    this.canvas.removeEventListener('blur', this.onBlur);
    this.label.hidden = true;
  }
}
