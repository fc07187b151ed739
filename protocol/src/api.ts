import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { AgentAlarmsSchema, IncidentSchema, RerouteSchema } from './messages.js';

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

/** WebSocket `/ws/live` server -> client messages. */
export type LiveMessage =
  | { type: 'traffic'; data: LiveTraffic }
  | { type: 'prediction'; data: Prediction }
  | { type: 'reroute'; data: Static<typeof RerouteSchema> }
  | { type: 'incident'; data: Static<typeof IncidentSchema> }
  | { type: 'agent'; data: AgentInfo };
