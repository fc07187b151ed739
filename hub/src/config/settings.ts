/**
 * Every setting of the hub, once: its type and bounds (TypeBox), its environment variable, its
 * default, the form an error message asks for, and its help line. `optionsFromEnv`, `resolveConfig`,
 * the error lines and `cityflow-hub serve --help` are all read off this table.
 */
import { CONGESTED_THRESHOLD, DEFAULT_NETWORK_FILE, PortSchema } from '@cityflow/protocol';
import { CloneType, type SchemaOptions, type Static, type TSchema, Type } from '@sinclair/typebox';
import { FLEET_METRICS_MAX_AGENTS_DEFAULT } from '../fleet-metrics.js';
import { INGEST_QUEUE_DEFAULTS } from '../ingest/queue.js';
import { QUARANTINE_LIMITS } from '../store/quarantine-store.js';

export interface SettingMeta extends SchemaOptions {
  /** the environment variable (none: a `startHub` option only) */
  env?: string;
  /** what an error line asks for: `PORT: expected <this>, got …` */
  expected: string;
  description: string;
  default?: unknown;
  /** the default as the help shows it, where it is not a plain value */
  defaultText?: string;
  /** never echoed in an error line (its length is) */
  secret?: boolean;
  /** the variable is in units of 1/scale of the option (CITYFLOW_REVOCATION_POLL_S → ms: 1000) */
  scale?: number;
}

// meta after the schema: a setting may tighten its shape (JWT_SECRET: minLength 16 over Str's 1)
const s = <T extends TSchema>(schema: T, meta: SettingMeta) =>
  ({ ...CloneType(schema), ...meta }) as T & SettingMeta;
const Str = Type.String({ minLength: 1 });
const Bool = Type.Boolean();
const PosInt = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Share = Type.Number({ exclusiveMinimum: 0, maximum: 1 });
const port = (env: string, dflt: number, description: string) =>
  s(PortSchema, { env, default: dflt, expected: 'a port 0..65535', description });
const posInt = (env: string | undefined, dflt: number, description: string, defaultText?: string) =>
  s(PosInt, { env, default: dflt, expected: 'a positive integer', description, defaultText });
const flag = (env: string, dflt: boolean, description: string) =>
  s(Bool, { env, default: dflt, expected: 'true or false', description });
const share = (env: string, description: string, dflt?: number, defaultText?: string) =>
  s(Share, { env, default: dflt, expected: 'a number in (0, 1]', description, defaultText });
const text = (env: string, description: string, o: Partial<SettingMeta> = {}) =>
  Type.Optional(s(Str, { env, expected: 'a non-empty string', description, ...o }));

export const HubSettingsSchema = Type.Object({
  databaseUrl: s(Type.String({ pattern: '^(postgres(ql)?://.+|pglite(\\+timescaledb)?://.+)$' }), {
    env: 'DATABASE_URL',
    default: 'pglite://./data/hub',
    expected: 'postgres://..., pglite://<dir>|memory or pglite+timescaledb://<dir>|memory',
    description: 'PostgreSQL, or the embedded PGlite (with TimescaleDB: pglite+timescaledb)',
  }),
  redisUrl: Type.Optional(
    s(Type.String({ pattern: '^rediss?://.+' }), {
      env: 'REDIS_URL',
      expected: 'redis://host:port',
      description: 'shared cache, live bus and rate limits of the replicas (optional)',
    }),
  ),
  mqttUrl: Type.Optional(
    s(Type.String({ pattern: '^(mqtts?|wss?|tcp)://.+' }), {
      env: 'MQTT_URL',
      expected: 'mqtt://host:port',
      description: 'external broker; unset = the embedded broker on MQTT_PORT',
    }),
  ),
  mqttPort: port('MQTT_PORT', 1884, 'embedded broker port (0 = a free port)'),
  mqttTlsCert: text('MQTT_TLS_CERT', 'PEM certificate of the embedded broker’s mqtts listener'),
  mqttTlsKey: text('MQTT_TLS_KEY', 'PEM key of MQTT_TLS_CERT'),
  mqttTlsPort: port('MQTT_TLS_PORT', 8883, 'mqtts port (0 = a free port)'),
  mqttTlsCa: text('MQTT_TLS_CA', 'PEM CA of agent client certificates: mutual TLS, CN = agent id'),
  mqttPlaintext: flag('MQTT_PLAINTEXT', true, 'false: no plaintext listener for agents (production)'),
  mqttMaxConnections: s(Type.Integer({ minimum: 0 }), {
    env: 'MQTT_MAX_CONNECTIONS',
    default: 10_000,
    expected: 'an integer >= 0',
    description: 'embedded broker: open connections at once (0 = no limit)',
  }),
  mqttPublishRatePerS: s(Type.Number({ minimum: 0 }), {
    env: 'MQTT_PUBLISH_RATE',
    default: 200,
    expected: 'a number >= 0',
    description: 'embedded broker: publishes per second per agent connection (0 = no limit)',
  }),
  httpsCert: text('HTTPS_CERT', 'PEM certificate: the API and console are served over HTTPS'),
  httpsKey: text('HTTPS_KEY', 'PEM key of HTTPS_CERT'),
  port: port('PORT', 8081, 'HTTP port (0 = a free port)'),
  host: s(Str, { env: 'HOST', default: '0.0.0.0', expected: 'an address', description: 'HTTP address' }),
  jwtSecret: text('JWT_SECRET', 'HS256 key; required with postgres:// (the same on every replica)', {
    minLength: 16,
    expected: 'at least 16 characters',
    defaultText: 'random per process (PGlite only)',
    secret: true,
  }),
  networkFile: s(Str, {
    env: 'NETWORK_FILE',
    default: DEFAULT_NETWORK_FILE,
    defaultText: 'the default city',
    expected: 'a GeoJSON file',
    description: 'the road network',
  }),
  clock: s(Type.Union([Type.Literal('wall'), Type.Literal('data')]), {
    env: 'CITYFLOW_CLOCK',
    default: 'wall',
    expected: 'wall or data',
    description: 'data: cycles follow the data timestamps (replays)',
  }),
  cycleIntervalS: s(Type.Number({ exclusiveMinimum: 0 }), {
    env: 'CITYFLOW_CYCLE_INTERVAL_S',
    default: 60,
    expected: 'a positive number',
    description: 'prediction/reroute cycle period, seconds of the active clock',
  }),
  openRegistration: flag('CITYFLOW_OPEN_REGISTRATION', false, 'true: anyone may register as a viewer'),
  adminEmail: text('CITYFLOW_ADMIN_EMAIL', 'this admin exists at every start (with the password)'),
  adminPassword: text('CITYFLOW_ADMIN_PASSWORD', 'password of CITYFLOW_ADMIN_EMAIL', {
    minLength: 8,
    expected: 'at least 8 characters',
    secret: true,
  }),
  agentsFile: text(
    'CITYFLOW_AGENTS_FILE',
    'JSON [{"agent_id","password"}] (mode 600): agents seeded at start',
  ),
  redisPrefix: s(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }), {
    env: 'CITYFLOW_REDIS_PREFIX',
    default: 'cityflow:',
    expected: '1-64 characters [A-Za-z0-9_.:-]',
    description: 'prefix of every Redis key and channel',
  }),
  corsOrigins: s(Type.Array(Type.String()), {
    env: 'CITYFLOW_CORS_ORIGINS',
    default: [],
    defaultText: 'CORS off',
    expected: 'comma-separated origins',
    description: 'allowed CORS origins',
  }),
  loginRateLimit: posInt('CITYFLOW_LOGIN_RATE_LIMIT', 10, 'login attempts per minute per IP and email'),
  loginPasswordRateLimit: posInt(
    'CITYFLOW_LOGIN_PASSWORD_RATE_LIMIT',
    20,
    'logins per minute with one password',
  ),
  registerRateLimit: posInt('CITYFLOW_REGISTER_RATE_LIMIT', 5, 'accounts created per hour per client IP'),
  diagRateLimit: posInt(
    'CITYFLOW_DIAG_RATE_LIMIT',
    6,
    'diagnostics requests per minute, per user and per agent',
  ),
  revocationPollMs: s(Type.Number({ minimum: 50, maximum: 3_600_000 }), {
    env: 'CITYFLOW_REVOCATION_POLL_S',
    scale: 1000,
    default: 5000,
    expected: '0.05..3600 seconds',
    description: 'seconds between reloads of token revocations (the bound with Redis down)',
  }),
  trustProxy: flag('CITYFLOW_TRUST_PROXY', false, 'trust X-Forwarded-For (behind an ingress)'),
  metricsToken: text('CITYFLOW_METRICS_TOKEN', '/metrics needs Authorization: Bearer <token>', {
    secret: true,
    defaultText: 'public',
  }),
  metricsMaxAgents: s(Type.Integer({ minimum: 0 }), {
    env: 'CITYFLOW_METRICS_MAX_AGENTS',
    default: FLEET_METRICS_MAX_AGENTS_DEFAULT,
    expected: 'an integer >= 0',
    description: 'agents exported one series each in /metrics',
  }),
  cache: flag('CITYFLOW_CACHE', true, 'false disables the response cache (benchmarks)'),
  pgPool: posInt('CITYFLOW_PG_POOL', 10, 'PostgreSQL pool size of the API and cycles'),
  pgQueryTimeoutMs: posInt(
    'CITYFLOW_PG_QUERY_TIMEOUT_MS',
    15_000,
    'statement, query and connect timeout, ms',
  ),
  ingestQueueAgentBytes: posInt(
    'CITYFLOW_INGEST_QUEUE_AGENT_BYTES',
    INGEST_QUEUE_DEFAULTS.perAgentBytes,
    'unprocessed uplink bytes per agent',
  ),
  ingestQueueTotalBytes: posInt(
    'CITYFLOW_INGEST_QUEUE_TOTAL_BYTES',
    INGEST_QUEUE_DEFAULTS.totalBytes,
    'unprocessed uplink bytes in all',
  ),
  quarantineMaxBytes: posInt(
    'CITYFLOW_QUARANTINE_MAX_BYTES',
    QUARANTINE_LIMITS.defaultMaxTotalBytes,
    'quarantine byte bound, oldest deleted first',
  ),
  rerouteThreshold: share(
    'CITYFLOW_REROUTE_THRESHOLD',
    'congestion score that starts advice',
    CONGESTED_THRESHOLD,
  ),
  rerouteClear: Type.Optional(
    share('CITYFLOW_REROUTE_CLEAR', 'score below which advice ends', undefined, 'threshold − 0.1'),
  ),
  rerouteCompliance: share('CITYFLOW_REROUTE_COMPLIANCE', 'share of drivers expected to follow advice', 0.5),
  logLevel: s(
    Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    {
      env: 'LOG_LEVEL',
      default: 'info',
      expected: 'fatal, error, warn, info, debug, trace or silent',
      description: 'pino level',
    },
  ),
  wsHeartbeatMs: posInt(undefined, 30_000, 'WebSocket ping period, ms'),
  wsMaxBufferedBytes: posInt(
    undefined,
    1 << 20,
    'unsent WebSocket bytes beyond which a client is dropped',
    '1 MiB',
  ),
});

export type HubSettings = Static<typeof HubSettingsSchema>;
export type SettingKey = keyof HubSettings;

/** Each setting's schema with its metadata, in the table's order. */
export const SETTINGS = Object.entries(HubSettingsSchema.properties) as Array<
  [SettingKey, TSchema & SettingMeta]
>;

/** How an error line names a setting: its variable, or the `startHub` option that has none. */
export const settingName = (key: SettingKey): string => HubSettingsSchema.properties[key].env ?? key;
