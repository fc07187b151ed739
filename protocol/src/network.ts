import { type Static, Type } from '@sinclair/typebox';
import { ID_PATTERN } from './topics.js';
import { type Validated, compileValidator } from './validation.js';

/**
 * The network file: a GeoJSON FeatureCollection (WGS84 [lon, lat]) of directed roads, intersections
 * and sensors, `kind` in `properties`. Features of other kinds and extra members are ignored.
 */
const Id = Type.String({ pattern: ID_PATTERN });
const Position = Type.Tuple(
  [Type.Number({ minimum: -180, maximum: 180 }), Type.Number({ minimum: -90, maximum: 90 })],
  {
    additionalItems: true,
  },
);

export const RoadPropsSchema = Type.Object({
  kind: Type.Literal('road'),
  road_id: Id,
  from_node: Id,
  to_node: Id,
  length_m: Type.Number({ exclusiveMinimum: 0 }),
  lanes: Type.Integer({ minimum: 1, maximum: 16 }),
  speed_limit_kmh: Type.Number({ exclusiveMinimum: 0, maximum: 200 }),
  capacity_vph: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  name: Type.Optional(Type.String()),
});
export const IntersectionPropsSchema = Type.Object({
  kind: Type.Literal('intersection'),
  node_id: Id,
  agent_id: Type.Optional(Id),
  name: Type.Optional(Type.String()),
});
/**
 * The lane a loop sits on, 0 = the rightmost lane in the direction of travel (SUMO's numbering;
 * `lanes - 1` is the leftmost). Optional: with it the hub prices turning movements by the lanes that
 * serve them (a queue in the left-turn lane delays left-turners, not the through traffic beside it).
 */
const LaneProps = { lane_index: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 })) };
export const SensorPropsSchema = Type.Object({
  kind: Type.Literal('sensor'),
  sensor_id: Id,
  road_id: Id,
  agent_id: Id,
  ...LaneProps,
});
/**
 * A sensor no agent covers yet (`agent_id` null or missing, as SUMO exports produce for loops away from
 * signals): the file stays valid, the sensor is listed apart and its readings are ignored (counted).
 */
const UncoveredSensorPropsSchema = Type.Object({
  kind: Type.Literal('sensor'),
  sensor_id: Id,
  road_id: Id,
  ...LaneProps,
  agent_id: Type.Optional(Type.Null()),
});

export const RoadFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  geometry: Type.Object({
    type: Type.Literal('LineString'),
    coordinates: Type.Array(Position, { minItems: 2 }),
  }),
  properties: RoadPropsSchema,
});
export const IntersectionFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  geometry: Type.Object({ type: Type.Literal('Point'), coordinates: Position }),
  properties: IntersectionPropsSchema,
});
export const SensorFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  geometry: Type.Object({ type: Type.Literal('Point'), coordinates: Position }),
  properties: SensorPropsSchema,
});
const UncoveredSensorFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  geometry: Type.Object({ type: Type.Literal('Point'), coordinates: Position }),
  properties: UncoveredSensorPropsSchema,
});

export type RoadFeature = Static<typeof RoadFeatureSchema>;
export type IntersectionFeature = Static<typeof IntersectionFeatureSchema>;
export type SensorFeature = Static<typeof SensorFeatureSchema>;
export type Road = Static<typeof RoadPropsSchema> & { coordinates: number[][] };
export type Intersection = Static<typeof IntersectionPropsSchema> & { coordinates: number[] };
export type Sensor = Static<typeof SensorPropsSchema> & { coordinates: number[] };

/** The file as written on disk (only the envelope is checked here; features are checked by kind). */
export const NetworkFileSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(
    Type.Object({
      type: Type.Literal('Feature'),
      properties: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    }),
  ),
});
export type NetworkFile = {
  type: 'FeatureCollection';
  features: Array<RoadFeature | IntersectionFeature | SensorFeature>;
} & Record<string, unknown>;

/** A loaded, cross-checked network with lookups. */
export interface Network {
  roads: Map<string, Road>;
  intersections: Map<string, Intersection>;
  sensors: Map<string, Sensor>;
  /** sensors of the file that no agent covers: known, but their readings are ignored */
  uncoveredSensors: Map<string, { sensor_id: string; road_id: string; coordinates: number[] }>;
  /** agent id -> its sensors, roads and intersections */
  agents: Map<string, { sensors: string[]; roads: string[]; intersections: string[] }>;
}

const checkFile = compileValidator(NetworkFileSchema);
const checkRoad = compileValidator(RoadFeatureSchema);
const checkIntersection = compileValidator(IntersectionFeatureSchema);
const checkSensor = compileValidator(SensorFeatureSchema);
const checkUncoveredSensor = compileValidator(UncoveredSensorFeatureSchema);

/** Validates and indexes a network file; reports every problem (schema and cross-references). */
export function loadNetwork(value: unknown): Validated<Network> {
  const env = checkFile(value);
  if (!env.ok) return env;
  const errors: string[] = [];
  const net: Network = {
    roads: new Map(),
    intersections: new Map(),
    sensors: new Map(),
    uncoveredSensors: new Map(),
    agents: new Map(),
  };
  const features = (value as { features: Array<{ properties: Record<string, unknown> | null }> }).features;
  features.forEach((f, i) => {
    errors.push(...indexFeature(net, f, `features.${i}`));
  });
  for (const s of [...net.sensors.values(), ...net.uncoveredSensors.values()])
    if (!net.roads.has(s.road_id))
      errors.push(`sensor ${s.sensor_id}: road_id ${s.road_id} is not a road of the network`);
  if (net.roads.size === 0) errors.push('features: the network has no road');
  if (errors.length) return { ok: false, errors };

  const agent = (id: string) => {
    const existing = net.agents.get(id);
    if (existing) return existing;
    const created = { sensors: [] as string[], roads: [] as string[], intersections: [] as string[] };
    net.agents.set(id, created);
    return created;
  };
  for (const s of net.sensors.values()) {
    const a = agent(s.agent_id);
    a.sensors.push(s.sensor_id);
    if (!a.roads.includes(s.road_id)) a.roads.push(s.road_id);
  }
  for (const n of net.intersections.values()) if (n.agent_id) agent(n.agent_id).intersections.push(n.node_id);
  return { ok: true, value: net };
}

/** Checks one feature by its kind and adds it to the index; returns its problems. */
function indexFeature(net: Network, f: { properties: Record<string, unknown> | null }, at: string): string[] {
  const kind = f.properties?.kind;
  const prefixed = (errs: string[]) => errs.map((e) => `${at}.${e}`);
  if (kind === 'road') {
    const r = checkRoad(f);
    if (!r.ok) return prefixed(r.errors);
    const p = r.value.properties;
    if (net.roads.has(p.road_id)) return [`${at}.properties.road_id: duplicate ${p.road_id}`];
    net.roads.set(p.road_id, { ...p, coordinates: r.value.geometry.coordinates as number[][] });
  } else if (kind === 'intersection') {
    const r = checkIntersection(f);
    if (!r.ok) return prefixed(r.errors);
    const p = r.value.properties;
    if (net.intersections.has(p.node_id)) return [`${at}.properties.node_id: duplicate ${p.node_id}`];
    net.intersections.set(p.node_id, { ...p, coordinates: r.value.geometry.coordinates as number[] });
  } else if (kind === 'sensor') {
    const agentId = f.properties?.agent_id;
    if (agentId === null || agentId === undefined) {
      const u = checkUncoveredSensor(f);
      if (!u.ok) return prefixed(u.errors);
      const p = u.value.properties;
      if (net.sensors.has(p.sensor_id) || net.uncoveredSensors.has(p.sensor_id))
        return [`${at}.properties.sensor_id: duplicate ${p.sensor_id}`];
      net.uncoveredSensors.set(p.sensor_id, {
        sensor_id: p.sensor_id,
        road_id: p.road_id,
        coordinates: u.value.geometry.coordinates as number[],
      });
      return [];
    }
    const r = checkSensor(f);
    if (!r.ok) return prefixed(r.errors);
    const p = r.value.properties;
    if (net.sensors.has(p.sensor_id) || net.uncoveredSensors.has(p.sensor_id))
      return [`${at}.properties.sensor_id: duplicate ${p.sensor_id}`];
    net.sensors.set(p.sensor_id, { ...p, coordinates: r.value.geometry.coordinates as number[] });
  }
  return [];
}

/** Rebuilds a GeoJSON FeatureCollection, optionally restricted to one agent's slice. */
export function networkToGeoJSON(net: Network, agentId?: string): NetworkFile {
  const slice = agentId ? net.agents.get(agentId) : undefined;
  const keepRoad = (id: string) => !agentId || (slice?.roads.includes(id) ?? false);
  const features: NetworkFile['features'] = [];
  for (const { coordinates, ...p } of net.roads.values())
    if (keepRoad(p.road_id))
      features.push({
        type: 'Feature',
        geometry: { type: 'LineString', coordinates: coordinates as never },
        properties: p,
      });
  for (const { coordinates, ...p } of net.intersections.values())
    if (!agentId || p.agent_id === agentId)
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: coordinates as never },
        properties: p,
      });
  for (const { coordinates, ...p } of net.sensors.values())
    if (!agentId || p.agent_id === agentId)
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: coordinates as never },
        properties: p,
      });
  return { type: 'FeatureCollection', features };
}
