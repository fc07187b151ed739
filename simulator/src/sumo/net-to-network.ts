import { readFileSync } from 'node:fs';

/**
 * Converts a SUMO network (`.net.xml`) and its induction loops (an additional file of
 * `<inductionLoop id lane pos>`) into a CityFlow network file: one road per non-internal edge, one
 * intersection (and agent) per traffic-light junction, one sensor per loop, its agent the one at the
 * road's downstream junction (else upstream; none when neither is signalised: such a sensor is kept
 * with `agent_id: null`, as the network-file contract allows). Coordinates: SUMO metres projected
 * equirectangularly around `origin` (SUMO's own geo-reference is ignored: grids have none).
 */
export interface NetToNetworkOptions {
  netXml: string;
  detectorsXml?: string;
  origin?: { lat: number; lon: number };
  name?: string;
}

const EARTH_R = 6371008.8;
const ATTR = /([\w:.-]+)="([^"]*)"/g;
const attrs = (tag: string) => {
  const o: Record<string, string> = {};
  for (const m of tag.matchAll(ATTR)) o[m[1]!] = m[2]!;
  return o;
};

export function sumoNetToNetwork(o: NetToNetworkOptions): Record<string, unknown> {
  const xml = readFileSync(o.netXml, 'utf8');
  const origin = o.origin ?? { lat: 48.8566, lon: 2.3522 };
  const loc = /<location\s([^>]*)>/.exec(xml);
  const b = (loc ? attrs(loc[1]!).convBoundary : '0,0,0,0')!.split(',').map(Number);
  const cx = (b[0]! + b[2]!) / 2;
  const cy = (b[1]! + b[3]!) / 2;
  const rad = Math.PI / 180;
  const proj = (x: number, y: number) => [
    Math.round((origin.lon + (x - cx) / (EARTH_R * Math.cos(origin.lat * rad)) / rad) * 1e7) / 1e7,
    Math.round((origin.lat + (y - cy) / EARTH_R / rad) * 1e7) / 1e7,
  ];
  const shape = (s: string) => s.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
  const features: unknown[] = [];
  const lanes = new Map<
    string,
    { edge: string; index: number; shape: Array<[number, number]>; length: number }
  >();
  const junctions = new Map<string, { x: number; y: number; tls: boolean }>();
  for (const m of xml.matchAll(/<junction\s([^>]*?)\/?>/g)) {
    const a = attrs(m[1]!);
    if (a.type === 'internal' || a.id?.startsWith(':')) continue;
    junctions.set(a.id!, { x: Number(a.x), y: Number(a.y), tls: a.type === 'traffic_light' });
  }
  const agentOf = (node: string) => (junctions.get(node)?.tls ? `agent-${node}` : null);
  const roads = new Map<string, { from: string; to: string }>();
  for (const m of xml.matchAll(/<edge\s([^>]*?)>([\s\S]*?)<\/edge>/g)) {
    const a = attrs(m[1]!);
    if (!a.from || !a.to || a.function === 'internal' || a.id!.startsWith(':')) continue;
    const ls = [...m[2]!.matchAll(/<lane\s([^>]*?)\/?>/g)].map((l) => attrs(l[1]!));
    if (!ls.length) continue;
    for (const l of ls)
      lanes.set(l.id!, {
        edge: a.id!,
        index: Number(l.index),
        shape: shape(l.shape!),
        length: Number(l.length),
      });
    const geom = a.shape ? shape(a.shape) : shape(ls[0]!.shape!);
    roads.set(a.id!, { from: a.from, to: a.to });
    features.push({
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: geom.map(([x, y]) => proj(x, y)) },
      properties: {
        kind: 'road',
        road_id: a.id,
        from_node: a.from,
        to_node: a.to,
        length_m: Math.round(Number(ls[0]!.length) * 10) / 10,
        lanes: ls.length,
        speed_limit_kmh: Math.round(Number(ls[0]!.speed) * 36) / 10,
      },
    });
  }
  for (const [id, j] of [...junctions].sort(([a], [b]) => a.localeCompare(b))) {
    if (!j.tls) continue;
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: proj(j.x, j.y) },
      properties: { kind: 'intersection', node_id: id, agent_id: agentOf(id) },
    });
  }
  if (o.detectorsXml) {
    const dx = readFileSync(o.detectorsXml, 'utf8');
    for (const m of dx.matchAll(/<(?:inductionLoop|e1Detector)\s([^>]*?)\/?>/g)) {
      const a = attrs(m[1]!);
      const lane = lanes.get(a.lane ?? '');
      if (!lane) continue;
      const road = roads.get(lane.edge)!;
      const pos = Number(a.pos ?? 0);
      const at = pointAlong(lane.shape, (pos < 0 ? lane.length + pos : pos) / (lane.length || 1));
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: proj(at[0], at[1]) },
        properties: {
          kind: 'sensor',
          sensor_id: a.id,
          road_id: lane.edge,
          agent_id: agentOf(road.to) ?? agentOf(road.from),
          lane_index: lane.index,
        },
      });
    }
  }
  return { type: 'FeatureCollection', name: o.name ?? 'sumo-network', features };
}

function pointAlong(shape: Array<[number, number]>, frac: number): [number, number] {
  const seg = shape.slice(1).map((p, i) => Math.hypot(p[0] - shape[i]![0], p[1] - shape[i]![1]));
  let left = Math.max(0, Math.min(1, frac)) * seg.reduce((s, x) => s + x, 0);
  for (let i = 0; i < seg.length; i++) {
    if (left <= seg[i]! || i === seg.length - 1) {
      const f = seg[i]! > 0 ? Math.min(1, left / seg[i]!) : 0;
      const a = shape[i]!;
      const b = shape[i + 1]!;
      return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
    }
    left -= seg[i]!;
  }
  return shape[0]!;
}
