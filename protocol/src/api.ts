import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { AgentAlarmsSchema, IncidentSchema, RerouteSchema } from './messages.js';
import { RFC3339_PATTERN } from './reading.js';

/** HTTP API DTOs, shared by the hub (route schemas, OpenAPI) and the console. */
const Time = Type.String({ format: 'date-time' });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const ApiErrorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});
export type ApiError = Static<typeof ApiErrorSchema>;

export const RoleSchema = Type.Union([
  Type.Literal('viewer'),
  Type.Literal('operator'),
  Type.Literal('admin'),
]);
export type Role = Static<typeof RoleSchema>;

export const UserSchema = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  role: RoleSchema,
  created_at: Time,
});
export type User = Static<typeof UserSchema>;

export const CredentialsSchema = Type.Object({
  email: Type.String({ format: 'email', maxLength: 254 }),
  password: Type.String({ minLength: 8, maxLength: 256 }),
});
export type Credentials = Static<typeof CredentialsSchema>;

export const AuthResponseSchema = Type.Object({ token: Type.String(), user: UserSchema });
export type AuthResponse = Static<typeof AuthResponseSchema>;

export const LiveTrafficSchema = Type.Object({
  ts: Time,
  road_id: Type.String(),
  speed_kmh: NullableNumber,
  flow_rate: NullableNumber,
  occupancy: NullableNumber,
  congestion_score: NullableNumber,
  sensors: Type.Integer(),
});
export type LiveTraffic = Static<typeof LiveTrafficSchema>;

export const PredictionSchema = Type.Object({
  ts: Time,
  target_ts: Time,
  road_id: Type.String(),
  horizon_min: Type.Integer(),
  speed_kmh: NullableNumber,
  speed_lo_kmh: NullableNumber,
  speed_hi_kmh: NullableNumber,
  congestion_score: Type.Number(),
  confidence: Type.Number(),
  model_version: Type.String(),
});
export type Prediction = Static<typeof PredictionSchema>;

export { IncidentSchema, RerouteSchema };
export type { Incident, Reroute } from './messages.js';

/** `GET /api/incidents?active=true&limit&before` */
export const IncidentQuerySchema = Type.Object({
  active: Type.Optional(Type.Boolean()),
});

export const HistoryBucketSchema = Type.Object({
  ts: Time,
  road_id: Type.String(),
  speed_kmh: NullableNumber,
  flow_rate: NullableNumber,
  occupancy: NullableNumber,
  samples: Type.Integer(),
});
export type HistoryBucket = Static<typeof HistoryBucketSchema>;
export const HISTORY_BUCKETS = ['1m', '5m', '15m', '1h'] as const;
/**
 * Widest `to − from` per bucket size (seconds): a request scans every sensor-minute of its range, so
 * the range is bounded by what its bucket makes readable (≈ 1,440–8,800 buckets per road). Wider
 * answers 400 `CF_RANGE_TOO_LARGE`; clients pick a coarser bucket.
 */
export const HISTORY_MAX_RANGE_S: Record<(typeof HISTORY_BUCKETS)[number], number> = {
  '1m': 86_400,
  '5m': 7 * 86_400,
  '15m': 31 * 86_400,
  '1h': 366 * 86_400,
};

export const AgentInfoSchema = Type.Object({
  agent_id: Type.String(),
  online: Type.Boolean(),
  last_seen: Type.Union([Time, Type.Null()]),
  backlog: Type.Union([Type.Integer(), Type.Null()]),
  clock_skew_s: NullableNumber,
  version: Type.Union([Type.String(), Type.Null()]),
  /** the alarms of the agent's last health message (empty when it had none) */
  alarms: AgentAlarmsSchema,
});
export type AgentInfo = Static<typeof AgentInfoSchema>;

export const AgentCredentialsSchema = Type.Object({
  agent_id: Type.String(),
  username: Type.String(),
  password: Type.String(),
});
export type AgentCredentials = Static<typeof AgentCredentialsSchema>;

/** Cursor page: `limit` default 50, max 200; `before` = opaque `next_cursor` (or an RFC 3339 time). */
export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 200;
export const PageQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_LIMIT_MAX, default: PAGE_LIMIT_DEFAULT })),
  before: Type.Optional(Type.String({ maxLength: 200 })),
});
export function PageSchema<T extends TSchema>(item: T) {
  return Type.Object({
    data: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
    has_more: Type.Boolean(),
  });
}
export type Page<T> = { data: T[]; next_cursor: string | null; has_more: boolean };

/**
 * `GET /api/traffic/history/network?from&to&bucket`: every road's history in one compact answer for
 * the console's time view (not paginated; the window is bounded to NETWORK_HISTORY_MAX_BUCKETS).
 * `ts` lists the bucket starts; for each road, `speed_kmh[i]` and `congestion_score[i]` belong to
 * `ts[i]` (null = no reading in that bucket). The score is protocol's `congestionScore` of the bucket's
 * mean speed and occupancy against the road's speed limit.
 */
export const NETWORK_HISTORY_MAX_BUCKETS = 720;
export const NetworkHistoryQuerySchema = Type.Object({
  from: Type.String({ pattern: RFC3339_PATTERN }),
  to: Type.String({ pattern: RFC3339_PATTERN }),
  bucket: Type.Optional(Type.Union(HISTORY_BUCKETS.map((b) => Type.Literal(b)))),
});
export const NetworkHistorySchema = Type.Object({
  from: Time,
  to: Time,
  bucket: Type.Union(HISTORY_BUCKETS.map((b) => Type.Literal(b))),
  ts: Type.Array(Time),
  roads: Type.Record(
    Type.String(),
    Type.Object({
      speed_kmh: Type.Array(NullableNumber),
      congestion_score: Type.Array(NullableNumber),
    }),
  ),
});
export type NetworkHistory = Static<typeof NetworkHistorySchema>;

/**
 * `GET /api/kpis`: the demo KPIs, city-wide (computed from the shared database, so every replica
 * answers the same). Windows are the last KPI_WINDOW_MIN settled minutes of the active clock.
 * - `ingest_latency_s`: median delay, in wall seconds on both clocks, between an agent closing a minute
 *   (its summary's `closed_at`) and the hub storing that summary: outbox wait, uplink and ingest, so a
 *   backlog draining after an outage shows; over summaries stored in the last KPI_WINDOW_MIN wall
 *   minutes that carry `closed_at`; null when there are none
 * - `messages_per_s`: sensor readings per second behind the stored summaries
 * - `error_rate`: quarantined uplink records / (stored summaries + quarantined), by ingestion time
 * - `mean_forecast_congestion`: mean T+30 congestion score over the roads' best forecasts
 * - `co2_gain_kg_per_h`: sum of the still-valid reroutes' `estimated_co2_gain`
 */
export const KPI_WINDOW_MIN = 5;
export const KpisSchema = Type.Object({
  as_of: Time,
  clock: Type.Union([Type.Literal('wall'), Type.Literal('data')]),
  window_min: Type.Integer(),
  ingest_latency_s: NullableNumber,
  messages_per_s: Type.Number(),
  error_rate: NullableNumber,
  mean_forecast_congestion: NullableNumber,
  co2_gain_kg_per_h: Type.Number(),
  agents_online: Type.Integer(),
  agents_total: Type.Integer(),
});
export type Kpis = Static<typeof KpisSchema>;

/** WebSocket `/ws/live` server -> client messages. */
export type LiveMessage =
  | { type: 'traffic'; data: LiveTraffic }
  | { type: 'prediction'; data: Prediction }
  | { type: 'reroute'; data: Static<typeof RerouteSchema> }
  | { type: 'incident'; data: Static<typeof IncidentSchema> }
  | { type: 'agent'; data: AgentInfo };
