#!/usr/bin/env node
/**
 * Generates the default city: a district of central Paris (around Beaubourg / Arts-et-Métiers),
 * 3 east-west streets x 3 north-south streets. Each crossing is a signalised intersection with its
 * own edge agent; each street continues to an unsignalised boundary node so traffic enters and
 * leaves the district. Every street is two-way (one directed road per direction, offset to the
 * right so both directions are visible on a map). Deterministic: same output every run.
 *
 *   node protocol/scripts/generate-network.mjs > protocol/networks/paris-district.geojson
 *
 * Coordinates follow the real streets only roughly: it is a plausible district, not a survey.
 */
const R = 6_371_008.8;
const ewStreets = [
  // name, latitude, lanes per direction, speed limit km/h
  ['Rue Réaumur', 48.8664, 2, 30],
  ['Rue Rambuteau', 48.8616, 1, 30],
  ['Rue de Rivoli', 48.8574, 2, 50],
];
const nsStreets = [
  ['Boulevard de Sébastopol', 2.3497, 2, 50],
  ['Rue Beaubourg', 2.3536, 2, 30],
  ['Rue du Temple', 2.3566, 1, 30],
];
const ewIds = ['REA', 'RAM', 'RIV'];
const nsIds = ['SEB', 'BEA', 'TEM'];
const BOUNDARY_M = 220; // length of the entry/exit stubs

const toRad = (d) => (d * Math.PI) / 180;
function distance([lon1, lat1], [lon2, lat2]) {
  const x = toRad(lon2 - lon1) * Math.cos(toRad((lat1 + lat2) / 2));
  const y = toRad(lat2 - lat1);
  return Math.hypot(x, y) * R;
}
function offsetMetres([lon, lat], dx, dy) {
  return [lon + (dx / (R * Math.cos(toRad(lat)))) * (180 / Math.PI), lat + (dy / R) * (180 / Math.PI)];
}
const round = ([lon, lat]) => [Number(lon.toFixed(7)), Number(lat.toFixed(7))];

const nodes = new Map(); // id -> {coord, signalised}
for (const [i, [, lat]] of ewStreets.entries())
  for (const [j, [, lon]] of nsStreets.entries())
    nodes.set(`${ewIds[i]}-${nsIds[j]}`, { coord: [lon, lat], signalised: true });

const roads = [];
function addStreetSegment(a, b, street, lanes, limit) {
  for (const [from, to] of [
    [a, b],
    [b, a],
  ]) {
    const p = nodes.get(from).coord;
    const q = nodes.get(to).coord;
    // Offset 4 m to the right of the direction of travel (traffic drives on the right).
    const len = distance(p, q);
    const ux = (toRad(q[0] - p[0]) * Math.cos(toRad(p[1])) * R) / len;
    const uy = (toRad(q[1] - p[1]) * R) / len;
    const [rx, ry] = [uy * 4, -ux * 4];
    const coords = [offsetMetres(p, rx, ry), offsetMetres(q, rx, ry)].map(round);
    roads.push({
      road_id: `${from}>${to}`.replace('>', '_TO_'),
      from_node: from,
      to_node: to,
      length_m: Number(len.toFixed(1)),
      lanes,
      speed_limit_kmh: limit,
      capacity_vph: lanes * (limit >= 50 ? 900 : 750),
      name: street,
      coords,
    });
  }
}
// Street segments between crossings, plus boundary stubs at both ends of every street.
for (const [i, [name, , lanes, limit]] of ewStreets.entries()) {
  const west = `${ewIds[i]}-W`;
  const east = `${ewIds[i]}-E`;
  nodes.set(west, {
    coord: offsetMetres(nodes.get(`${ewIds[i]}-${nsIds[0]}`).coord, -BOUNDARY_M, 0),
    signalised: false,
  });
  nodes.set(east, {
    coord: offsetMetres(nodes.get(`${ewIds[i]}-${nsIds[2]}`).coord, BOUNDARY_M, 0),
    signalised: false,
  });
  const chain = [west, ...nsIds.map((n) => `${ewIds[i]}-${n}`), east];
  for (let k = 0; k + 1 < chain.length; k++) addStreetSegment(chain[k], chain[k + 1], name, lanes, limit);
}
for (const [j, [name, , lanes, limit]] of nsStreets.entries()) {
  const north = `${nsIds[j]}-N`;
  const south = `${nsIds[j]}-S`;
  nodes.set(north, {
    coord: offsetMetres(nodes.get(`${ewIds[0]}-${nsIds[j]}`).coord, 0, BOUNDARY_M),
    signalised: false,
  });
  nodes.set(south, {
    coord: offsetMetres(nodes.get(`${ewIds[2]}-${nsIds[j]}`).coord, 0, -BOUNDARY_M),
    signalised: false,
  });
  const chain = [north, ...ewIds.map((e) => `${e}-${nsIds[j]}`), south];
  for (let k = 0; k + 1 < chain.length; k++) addStreetSegment(chain[k], chain[k + 1], name, lanes, limit);
}

const agentOf = (node) => (nodes.get(node).signalised ? `agent-${node}` : undefined);
const features = [];
for (const r of roads) {
  const { coords, ...props } = r;
  features.push({
    type: 'Feature',
    geometry: { type: 'LineString', coordinates: coords },
    properties: { kind: 'road', ...props },
  });
}
for (const [id, n] of nodes)
  if (n.signalised)
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: round(n.coord) },
      properties: { kind: 'intersection', node_id: id, agent_id: agentOf(id), name: id },
    });
// Sensors: one loop per lane near the stop line plus one mid-block loop, so 2-3 per road; each is
// read by the agent of the road's downstream intersection (or upstream if that one is a boundary).
for (const r of roads) {
  const agent = agentOf(r.to_node) ?? agentOf(r.from_node);
  const [p, q] = r.coords;
  const at = (f) => round([p[0] + (q[0] - p[0]) * f, p[1] + (q[1] - p[1]) * f]);
  const loops = [];
  for (let lane = 0; lane < r.lanes; lane++) loops.push({ id: `${r.road_id}-L${lane}`, pos: at(0.85) });
  loops.push({ id: `${r.road_id}-M`, pos: at(0.5) });
  for (const l of loops)
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: l.pos },
      properties: { kind: 'sensor', sensor_id: l.id, road_id: r.road_id, agent_id: agent },
    });
}
const fc = {
  type: 'FeatureCollection',
  name: 'cityflow-paris-district',
  metadata: { generator: 'protocol/scripts/generate-network.mjs', crs: 'WGS84 lon/lat (RFC 7946)' },
  features,
};
process.stdout.write(`${JSON.stringify(fc)}\n`);
