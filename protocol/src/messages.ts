import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { NetworkFileSchema } from './network.js';
import { RFC3339_PATTERN, SensorReadingSchema } from './reading.js';
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
const Seq = Type.Integer({ minimum: 1 });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

/** One sensor, one minute (`minute` = start of the minute, UTC). */
export const SummaryRecordSchema = Type.Object({
  seq: Seq,
  sensor_id: Id,
  road_id: Id,
  minute: Time,
  count: Type.Integer({ minimum: 1 }),
  null_speed_count: Type.Integer({ minimum: 0 }),
  speed_mean: NullableNumber,
  speed_min: NullableNumber,
  speed_max: NullableNumber,
  flow_mean: Type.Number({ minimum: 0 }),
  occupancy_mean: Type.Number({ minimum: 0, maximum: 1 }),
  /** true when the sensor was not in a network slice (agent had none yet): kept, but flagged. */
  flagged: Type.Optional(Type.Boolean()),
});
export type SummaryRecord = Static<typeof SummaryRecordSchema>;

/** One road, one horizon. Field names match `/api/predictions`. */
export const ForecastRecordSchema = Type.Object({
  seq: Seq,
  ts: Time,
  target_ts: Time,
  road_id: Id,
  horizon_min: Type.Integer({ minimum: 1, maximum: 24 * 60 }),
  speed_kmh: NullableNumber,
  speed_lo_kmh: NullableNumber,
  speed_hi_kmh: NullableNumber,
  congestion_score: Type.Number({ minimum: 0, maximum: 1 }),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  model_version: Type.String({ minLength: 1, maxLength: 64 }),
});
export type ForecastRecord = Static<typeof ForecastRecordSchema>;

function sequencedBatch<S extends TSchema, N extends string>(stream: N, item: S) {
  return Type.Object({
    v: V,
    agent_id: Id,
    stream: Type.Literal(stream),
    sent_at: Time,
    /** Strictly increasing seq within the batch; replay is ordered per stream. */
    items: Type.Array(item, { maxItems: 5000 }),
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

/** Per-road live snapshot, best effort (QoS 0, not sequenced: a stale snapshot is worth nothing). */
export const LiveRoadSchema = Type.Object({
  road_id: Id,
  ts: Time,
  speed_kmh: NullableNumber,
  flow_rate: Type.Number({ minimum: 0 }),
  occupancy: Type.Number({ minimum: 0, maximum: 1 }),
  congestion_score: NullableNumber,
  sensors: Type.Integer({ minimum: 0 }),
  samples: Type.Integer({ minimum: 0 }),
});
export const LiveSnapshotSchema = Type.Object({
  v: V,
  agent_id: Id,
  stream: Type.Literal('live'),
  ts: Time,
  roads: Type.Array(LiveRoadSchema, { maxItems: 5000 }),
});
export type LiveRoad = Static<typeof LiveRoadSchema>;
export type LiveSnapshot = Static<typeof LiveSnapshotSchema>;

export const ClockStateSchema = Type.Object({
  mode: Type.Union([Type.Literal('wall'), Type.Literal('data')]),
  /** false until the agent has evidence its clock is right (NTP sync, or hub time agreeing). */
  synced: Type.Boolean(),
  /** agent clock minus reference clock, seconds (positive = agent ahead); null when unknown. */
  skew_s: NullableNumber,
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

/** Periodic health (QoS 0). */
export const AgentHealthSchema = Type.Object({
  v: V,
  agent_id: Id,
  stream: Type.Literal('health'),
  ts: Time,
  version: Type.String({ maxLength: 64 }),
  uptime_s: Type.Number({ minimum: 0 }),
  rss_bytes: Type.Number({ minimum: 0 }),
  backlog: Type.Integer({ minimum: 0 }),
  oldest_unsent_age_s: NullableNumber,
  readings_total: Type.Integer({ minimum: 0 }),
  quarantined_total: Type.Integer({ minimum: 0 }),
  dropped: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  clock: ClockStateSchema,
  /** active alarms; absent = none (agents older than this field send none) */
  alarms: Type.Optional(Type.Array(AgentAlarmSchema, { maxItems: 32 })),
});
export type AgentHealth = Static<typeof AgentHealthSchema>;

/** Hub -> agent, retained: every seq <= watermark of this stream is stored or definitively rejected. */
export const AckSchema = Type.Object({
  v: V,
  agent_id: Id,
  stream: Type.Union([Type.Literal('summary'), Type.Literal('forecast')]),
  watermark: Type.Integer({ minimum: 0 }),
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
