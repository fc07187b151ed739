import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { NetworkFileSchema } from './network.js';
import { READING_LIMITS, RFC3339_PATTERN, SensorReadingSchema } from './reading.js';
import { ID_PATTERN } from './topics.js';
import { compileValidator } from './validation.js';

/**
 * Agent <-> hub messages (protocol version 1). Every payload carries `v: 1` so a hub can serve
 * agents of two versions during a rolling upgrade. See protocol/README.md for topics and examples.
 */
export const PROTOCOL_VERSION = 1;
const V = Type.Literal(PROTOCOL_VERSION);
const Id = Type.String({ pattern: ID_PATTERN });
const Time = Type.String({ pattern: RFC3339_PATTERN });
/**
 * Bounds of every uplink number. A seq or count is stored as PostgreSQL bigint/int and a speed as
 * float8: an unbounded number (1.7e308, 2^31) fails the whole INSERT and wedges the stream, so each has
 * a physical bound here and a bad item is refused on its own (quarantined) instead.
 */
export const UPLINK_LIMITS = {
  /** 2^53 - 1: exact in a JS number and in bigint */
  maxSeq: Number.MAX_SAFE_INTEGER,
  /** a sensor reporting every 1 ms for a minute; int4 safe */
  maxReadingsPerMinute: 60_000,
  maxSpeedKmh: READING_LIMITS.maxSpeedKmh,
  maxFlowVph: READING_LIMITS.maxFlowVph,
  maxSensorsPerRoad: 1000,
  /** loops detailed in one road's live snapshot (16 lanes, a loop or two per lane) */
  maxLiveSensorsPerRoad: 32,
  /** live samples behind one road snapshot */
  maxSamples: 10_000_000,
  /** agent health counters (bigint-safe) and its backlog (int4 column) */
  maxCounter: Number.MAX_SAFE_INTEGER,
  maxBacklog: 2_147_483_647,
  /** agent clock skew, seconds: ten years either way is already nonsense, beyond is hostile */
  maxSkewS: 315_576_000,
  maxBatchItems: 5000,
} as const;

/**
 * The only forecast models an agent may send. The hub's own network model (`cityflow-network`) is
 * never accepted from an agent: it ranks first in the "best model" choice and feeds the reroutes.
 */
export const EDGE_MODEL_NAMES = ['cityflow-edge', 'ewma-lr-v2', 'persistence'] as const;
export type EdgeModelName = (typeof EDGE_MODEL_NAMES)[number];

const Seq = Type.Integer({ minimum: 1, maximum: UPLINK_LIMITS.maxSeq });
const Speed = Type.Number({ minimum: 0, maximum: UPLINK_LIMITS.maxSpeedKmh });
const NullableSpeed = Type.Union([Speed, Type.Null()]);
const Flow = Type.Number({ minimum: 0, maximum: UPLINK_LIMITS.maxFlowVph });
const Share = Type.Number({ minimum: 0, maximum: 1 });
const Counter = Type.Integer({ minimum: 0, maximum: UPLINK_LIMITS.maxCounter });
/**
 * Random id created with the agent's database (a wiped or re-imaged agent gets a new one), carried in
 * every sequenced batch and echoed in its ack: the hub keeps one watermark per (agent, incarnation,
 * stream). See protocol/README.md "Agent incarnations".
 */
export const IncarnationSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });

/** One sensor, one minute (`minute` = start of the minute, UTC). */
export const SummaryRecordSchema = Type.Object({
  seq: Seq,
  sensor_id: Id,
  road_id: Id,
  minute: Time,
  count: Type.Integer({ minimum: 1, maximum: UPLINK_LIMITS.maxReadingsPerMinute }),
  null_speed_count: Type.Integer({ minimum: 0, maximum: UPLINK_LIMITS.maxReadingsPerMinute }),
  speed_mean: NullableSpeed,
  speed_min: NullableSpeed,
  speed_max: NullableSpeed,
  flow_mean: Flow,
  occupancy_mean: Share,
  /** true when the sensor was not in a network slice (agent had none yet): kept, but flagged. */
  flagged: Type.Optional(Type.Boolean()),
  /**
   * When the agent closed the minute and queued this summary: wall time, corrected by the agent's skew
   * against the hub, on both clocks (under `--clock data`, `minute` is data time and says nothing about
   * delays). The hub's ingest latency is its storage time minus this. Absent from older agents and
   * from an agent whose clock is not trustworthy yet.
   */
  closed_at: Type.Optional(Time),
});
export type SummaryRecord = Static<typeof SummaryRecordSchema>;

/** One road, one horizon. Field names match `/api/predictions`. */
export const ForecastRecordSchema = Type.Object({
  seq: Seq,
  ts: Time,
  target_ts: Time,
  road_id: Id,
  horizon_min: Type.Integer({ minimum: 1, maximum: 24 * 60 }),
  speed_kmh: NullableSpeed,
  speed_lo_kmh: NullableSpeed,
  speed_hi_kmh: NullableSpeed,
  congestion_score: Share,
  confidence: Share,
  model_version: Type.Union(EDGE_MODEL_NAMES.map((m) => Type.Literal(m))),
});
export type ForecastRecord = Static<typeof ForecastRecordSchema>;

function sequencedBatch<S extends TSchema, N extends string>(stream: N, item: S) {
  return Type.Object({
    v: V,
    agent_id: Id,
    stream: Type.Literal(stream),
    sent_at: Time,
    /** absent from agents older than the incarnation rule: the hub files them under '' */
    incarnation: Type.Optional(IncarnationSchema),
    /** Strictly increasing seq within the batch; replay is ordered per stream. */
    items: Type.Array(item, { maxItems: UPLINK_LIMITS.maxBatchItems }),
    /**
     * Seq ranges [from, to] the agent dropped for good under its outbox policy: the hub counts them
     * as resolved so its contiguous watermark can pass them.
     */
    skipped: Type.Optional(Type.Array(Type.Tuple([Seq, Seq]), { maxItems: 1000 })),
  });
}
export const SummaryBatchSchema = sequencedBatch('summary', SummaryRecordSchema);
export const ForecastBatchSchema = sequencedBatch('forecast', ForecastRecordSchema);
export type SummaryBatch = Static<typeof SummaryBatchSchema>;
export type ForecastBatch = Static<typeof ForecastBatchSchema>;

/** One loop's last minute inside a road's live snapshot. */
export const LiveSensorSchema = Type.Object({
  sensor_id: Id,
  speed_kmh: NullableSpeed,
  flow_rate: Flow,
  occupancy: Share,
});
export type LiveSensor = Static<typeof LiveSensorSchema>;

/** Per-road live snapshot, best effort (QoS 0, not sequenced: a stale snapshot is worth nothing). */
export const LiveRoadSchema = Type.Object({
  road_id: Id,
  ts: Time,
  speed_kmh: NullableSpeed,
  flow_rate: Flow,
  occupancy: Share,
  congestion_score: Type.Union([Share, Type.Null()]),
  sensors: Type.Integer({ minimum: 0, maximum: UPLINK_LIMITS.maxSensorsPerRoad }),
  samples: Type.Integer({ minimum: 0, maximum: UPLINK_LIMITS.maxSamples }),
  /**
   * Each loop's own minute (optional; newer agents): the road's means hide a queue in one lane, such
   * as a left-turn lane backed up beside free-flowing through lanes, which the hub prices by movement.
   */
  by_sensor: Type.Optional(Type.Array(LiveSensorSchema, { maxItems: UPLINK_LIMITS.maxLiveSensorsPerRoad })),
});
export const LiveSnapshotSchema = Type.Object({
  v: V,
  agent_id: Id,
  stream: Type.Literal('live'),
  ts: Time,
  roads: Type.Array(LiveRoadSchema, { maxItems: UPLINK_LIMITS.maxBatchItems }),
});
export type LiveRoad = Static<typeof LiveRoadSchema>;
export type LiveSnapshot = Static<typeof LiveSnapshotSchema>;

export const ClockStateSchema = Type.Object({
  mode: Type.Union([Type.Literal('wall'), Type.Literal('data')]),
  /** false until the agent has evidence its clock is right (NTP sync, or hub time agreeing). */
  synced: Type.Boolean(),
  /** agent clock minus reference clock, seconds (positive = agent ahead); null when unknown. */
  skew_s: Type.Union([
    Type.Number({ minimum: -UPLINK_LIMITS.maxSkewS, maximum: UPLINK_LIMITS.maxSkewS }),
    Type.Null(),
  ]),
});

/** Retained on `status`; the broker publishes the `offline` form as the agent's last will. */
export const AgentStatusSchema = Type.Object({
  v: V,
  agent_id: Id,
  state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  ts: Time,
  version: Type.String({ maxLength: 64 }),
  reason: Type.Optional(Type.String({ maxLength: 200 })),
});
export type AgentStatus = Static<typeof AgentStatusSchema>;

/** A condition the agent raises until it clears (DESIGN.md: `alarms: [{code, since, message}]`). */
export const AgentAlarmSchema = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 64 }),
  since: Time,
  message: Type.String({ maxLength: 200 }),
});
export type AgentAlarm = Static<typeof AgentAlarmSchema>;
export const AgentAlarmsSchema = Type.Array(AgentAlarmSchema, { maxItems: 32 });

/** Periodic health (QoS 0). */
export const AgentHealthSchema = Type.Object({
  v: V,
  agent_id: Id,
  stream: Type.Literal('health'),
  ts: Time,
  version: Type.String({ maxLength: 64 }),
  uptime_s: Type.Number({ minimum: 0, maximum: UPLINK_LIMITS.maxCounter }),
  rss_bytes: Type.Number({ minimum: 0, maximum: UPLINK_LIMITS.maxCounter }),
  backlog: Type.Integer({ minimum: 0, maximum: UPLINK_LIMITS.maxBacklog }),
  oldest_unsent_age_s: Type.Union([
    Type.Number({ minimum: 0, maximum: UPLINK_LIMITS.maxCounter }),
    Type.Null(),
  ]),
  readings_total: Counter,
  quarantined_total: Counter,
  dropped: Type.Record(Type.String({ maxLength: 64 }), Counter),
  clock: ClockStateSchema,
  /** active alarms; absent = none (agents older than this field send none) */
  alarms: Type.Optional(AgentAlarmsSchema),
});
export type AgentHealth = Static<typeof AgentHealthSchema>;

/** Hub -> agent, retained: every seq <= watermark of this stream is stored or definitively rejected. */
export const AckSchema = Type.Object({
  v: V,
  agent_id: Id,
  stream: Type.Union([Type.Literal('summary'), Type.Literal('forecast')]),
  watermark: Type.Integer({ minimum: 0 }),
  /** the incarnation this watermark belongs to ('' for agents without one); an agent applies only its own */
  incarnation: Type.Optional(Type.String({ maxLength: 64 })),
  /** the highest seq the hub has resolved for this incarnation (>= watermark) */
  max_seq: Type.Optional(Type.Integer({ minimum: 0 })),
  /** hub time, so the agent can estimate its clock skew */
  hub_ts: Time,
  rejected: Type.Optional(
    Type.Array(Type.Object({ seq: Seq, code: Type.String(), message: Type.String() }), { maxItems: 1000 }),
  ),
});
export type Ack = Static<typeof AckSchema>;

/** Hub -> agent, retained: the agent's network slice and settings. The agent keeps the last one. */
export const AgentConfigSchema = Type.Object({
  v: V,
  agent_id: Id,
  issued_at: Time,
  network: NetworkFileSchema,
  settings: Type.Optional(
    Type.Object({
      live_interval_s: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
      forecast_interval_s: Type.Optional(Type.Number({ minimum: 5, maximum: 3600 })),
    }),
  ),
});
export type AgentConfig = Static<typeof AgentConfigSchema>;

/** One reroute recommendation (same shape as `/api/reroutes/recommended` items). */
export const RerouteSchema = Type.Object({
  ts: Time,
  route_id: Id,
  alt_route_id: Type.String(),
  reason: Type.String(),
  estimated_co2_gain: Type.Number(),
  eta_gain_min: Type.Number(),
  path: Type.Array(Id),
  decision_node: Type.String(),
  diverted_share: Type.Number({ minimum: 0, maximum: 1 }),
  valid_until: Time,
  co2_gain_g_per_vehicle: Type.Number(),
  /** set when a detected incident on `route_id` caused this advice (see `/api/incidents`) */
  incident_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
});
export type Reroute = Static<typeof RerouteSchema>;

/**
 * A detected incident: a road that stopped passing vehicles while its upstream fills, or a sudden
 * speed drop with high upstream occupancy. `cleared_at` is null while it is active.
 */
export const IncidentSchema = Type.Object({
  incident_id: Type.String({ maxLength: 64 }),
  road_id: Id,
  detected_at: Time,
  cleared_at: Type.Union([Time, Type.Null()]),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  reason: Type.String({ maxLength: 500 }),
});
export type Incident = Static<typeof IncidentSchema>;

/** Hub -> agent, retained; the agent re-publishes it locally (with its age) for roadside signs. */
export const AdviceSchema = Type.Object({
  v: V,
  agent_id: Id,
  issued_at: Time,
  items: Type.Array(RerouteSchema, { maxItems: 500 }),
});
export type Advice = Static<typeof AdviceSchema>;

/** Agent -> roadside signs on `cityflow/v1/local/advice`. */
export const LocalAdviceSchema = Type.Object({
  v: V,
  agent_id: Id,
  issued_at: Time,
  age_s: Type.Number({ minimum: 0 }),
  hub_connected: Type.Boolean(),
  items: Type.Array(RerouteSchema),
});
export type LocalAdvice = Static<typeof LocalAdviceSchema>;

/** Hub -> agent: fetch raw readings kept on the agent (they never cross the link otherwise). */
export const DiagRequestSchema = Type.Object({
  v: V,
  request_id: Type.String({ minLength: 1, maxLength: 64 }),
  kind: Type.Literal('raw'),
  sensor_id: Type.Optional(Id),
  road_id: Type.Optional(Id),
  from: Time,
  to: Time,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
});
export type DiagRequest = Static<typeof DiagRequestSchema>;

export const DiagResponseSchema = Type.Object({
  v: V,
  agent_id: Id,
  stream: Type.Literal('diag'),
  request_id: Type.String(),
  items: Type.Array(SensorReadingSchema),
  truncated: Type.Boolean(),
  error: Type.Optional(Type.String()),
});
export type DiagResponse = Static<typeof DiagResponseSchema>;

export const validateSummaryBatch = compileValidator(SummaryBatchSchema);
export const validateForecastBatch = compileValidator(ForecastBatchSchema);
export const validateLiveSnapshot = compileValidator(LiveSnapshotSchema);
export const validateAgentStatus = compileValidator(AgentStatusSchema);
export const validateAgentHealth = compileValidator(AgentHealthSchema);
export const validateAck = compileValidator(AckSchema);
export const validateAgentConfig = compileValidator(AgentConfigSchema);
export const validateAdvice = compileValidator(AdviceSchema);
export const validateDiagRequest = compileValidator(DiagRequestSchema);
export const validateDiagResponse = compileValidator(DiagResponseSchema);
