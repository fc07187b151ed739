import { LEVEL_LABEL, level } from './levels.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 1000;
const PAD = 30;
/** Both directions of a street share a centre line in most files: draw each on its right-hand side. */
const SIDE_OFFSET = 4;

function el(name, attrs = {}) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * Equirectangular projection fitted to the network's bounding box: at district scale the error is
 * far below a pixel, and there are no map tiles to match (no internet on site).
 */
export function makeProjection(features) {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  const pts = [];
  for (const f of features) {
    const c =
      f.geometry?.type === 'LineString'
        ? f.geometry.coordinates
        : f.geometry?.type === 'Point'
          ? [f.geometry.coordinates]
          : [];
    pts.push(...c);
  }
  const lat0 = pts.reduce((s, p) => s + p[1], 0) / Math.max(1, pts.length);
  const k = Math.cos((lat0 * Math.PI) / 180);
  for (const [lon, lat] of pts) {
    minX = Math.min(minX, lon * k);
    maxX = Math.max(maxX, lon * k);
    minY = Math.min(minY, -lat);
    maxY = Math.max(maxY, -lat);
  }
  const span = Math.max(maxX - minX, maxY - minY, 1e-9);
  const scale = (WIDTH - 2 * PAD) / span;
  // The viewBox hugs the network, so a tall district fills the height and a wide one the width.
  return {
    width: (maxX - minX) * scale + 2 * PAD,
    height: (maxY - minY) * scale + 2 * PAD,
    project: ([lon, lat]) => [PAD + (lon * k - minX) * scale, PAD + (-lat - minY) * scale],
  };
}

function offsetPath(points) {
  const out = [];
  for (let i = 0; i < points.length; i++) {
    const a = points[Math.max(0, i - 1)];
    const b = points[Math.min(points.length - 1, i + 1)];
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const len = Math.hypot(dx, dy) || 1;
    // Right-hand normal in screen coordinates (y grows downwards).
    out.push([points[i][0] - (dy / len) * SIDE_OFFSET, points[i][1] + (dx / len) * SIDE_OFFSET]);
  }
  return `M${out.map((p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`).join('L')}`;
}

export function roadLabel(p) {
  return p.name ? `${p.name} (${p.road_id})` : p.road_id;
}

/** Draws the roads; returns handles to recolour a road and mark the selection. */
export function createMap(svg, geojson, onSelect) {
  // Keep the SVG's <title> (its accessible name); replace only the drawn layers.
  for (const g of svg.querySelectorAll(':scope > g')) g.remove();
  const features = geojson.features ?? [];
  const { width, height, project } = makeProjection(features);
  svg.setAttribute('viewBox', `0 0 ${width.toFixed(0)} ${height.toFixed(0)}`);
  const roadsLayer = el('g', { class: 'roads' });
  const nodesLayer = el('g', { class: 'nodes', 'aria-hidden': 'true' });
  svg.append(roadsLayer, nodesLayer);
  const paths = new Map();
  let selected = null;

  for (const f of features) {
    const p = f.properties ?? {};
    if (p.kind === 'road' && f.geometry?.type === 'LineString') {
      const path = el('path', {
        d: offsetPath(f.geometry.coordinates.map(project)),
        class: 'road none',
        tabindex: 0,
        role: 'button',
      });
      path.dataset.roadId = p.road_id;
      const title = el('title');
      path.append(title);
      path.addEventListener('click', () => onSelect(p.road_id));
      path.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onSelect(p.road_id);
        }
      });
      roadsLayer.append(path);
      paths.set(p.road_id, { path, title, props: p });
    } else if (p.kind === 'intersection' && f.geometry?.type === 'Point') {
      const [x, y] = project(f.geometry.coordinates);
      nodesLayer.append(el('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 5, class: 'node' }));
    }
  }

  return {
    roadIds: () => [...paths.keys()],
    setScore(roadId, score) {
      const r = paths.get(roadId);
      if (!r) return;
      const lv = level(score);
      r.path.classList.remove('free', 'slow', 'jam', 'none');
      r.path.classList.add(lv);
      r.path.dataset.level = lv;
      const text = `${roadLabel(r.props)}: ${LEVEL_LABEL[lv]}${typeof score === 'number' ? `, score ${score.toFixed(2)}` : ''}`;
      r.title.textContent = text;
      r.path.setAttribute('aria-label', text);
    },
    select(roadId) {
      if (selected) paths.get(selected)?.path.classList.remove('selected');
      selected = roadId;
      const r = paths.get(roadId);
      if (r) {
        r.path.classList.add('selected');
        // Drawn last so the highlighted road is not hidden under its neighbours.
        r.path.parentNode.append(r.path);
      }
    },
  };
}
