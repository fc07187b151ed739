import { randomBytes } from 'node:crypto';
import { CityFlowError } from '@cityflow/protocol';
import * as protocol from '@cityflow/protocol';
import { type SeedAgent, readAgentsFile } from './agents-file.js';
import {
  type TransportConfig,
  type TransportOptions,
  resolveTransport,
  transportFromEnv,
} from './transport-config.js';
import { FLEET_METRICS_MAX_AGENTS_DEFAULT } from './fleet-metrics.js';

export type ClockMode = 'wall' | 'data';

/** Options of `startHub` (the programmatic API); every field falls back to the environment rules of DESIGN.md. */
export interface HubOptions extends TransportOptions {
  databaseUrl?: string;
  redisUrl?: string;
  mqttUrl?: string;
  /** embedded broker port; 0 = a free port */
  mqttPort?: number;
  /** HTTP port; 0 = a free port */
  port?: number;
  host?: string;
  jwtSecret?: string;
  networkFile?: string;
  clock?: ClockMode;
  openRegistration?: boolean;
  adminEmail?: string;
  adminPassword?: string;
  /** prediction/reroute cycle period in seconds (of the active clock); default 60 */
  cycleIntervalS?: number;
  /** CORS origins (comma-separated in CITYFLOW_CORS_ORIGINS); empty = CORS off */
  corsOrigins?: string[];
  /** login attempts per minute per IP */
  loginRateLimit?: number;
  /** login attempts per minute with one password, over every IP and email (password spraying) */
  loginPasswordRateLimit?: number;
  /** accounts created per hour per client IP (when registration is open) */
  registerRateLimit?: number;
  /** diagnostics requests per minute, per user and per agent */
  diagRateLimit?: number;
  /** how often each replica reloads token revocations and user token versions from the database (ms) */
  revocationPollMs?: number;
  /** when set, /metrics needs `Authorization: Bearer <token>` */
  metricsToken?: string;
  /** trust X-Forwarded-For (behind an ingress); default false */
  trustProxy?: boolean;
  /** false disables the Redis/in-process response cache (benchmarks compare both) */
  cache?: boolean;
  /** pino level; 'silent' in tests */
  logLevel?: string;
  /** WebSocket ping period (ms, default 30,000) and unsent bytes beyond which a client is dropped (default 1 MiB) */
  wsHeartbeatMs?: number;
  wsMaxBufferedBytes?: number;
  /** where logs go (default stdout); tests capture them to check redaction */
  logStream?: { write(line: string): void };
  /** prefix of every Redis key and channel (default `cityflow:`), so deployments/tests can share a Redis */
  redisPrefix?: string;
  /** JSON file `[{"agent_id","password"}]` (owner-only permissions): these agents exist with exactly these secrets at start */
  agentsFile?: string;
  /** reroutes: congestion score that starts advice (default 0.5), score below which it ends (0.4) */
  rerouteThreshold?: number;
  rerouteClear?: number;
  /** reroutes: share of drivers expected to follow advice, the load it puts on a detour (0.5) */
  rerouteCompliance?: number;
  /** cap on the agents exported one series each in /metrics (CITYFLOW_METRICS_MAX_AGENTS, default 1000) */
  metricsMaxAgents?: number;
  /** quarantine byte bound, oldest rows deleted first (CITYFLOW_QUARANTINE_MAX_BYTES, default 256 MiB) */
  quarantineMaxBytes?: number;
  /** unprocessed uplink bytes per agent / in total before messages are shed unacked (default 8 MiB / 256 MiB) */
  ingestQueueAgentBytes?: number;
  ingestQueueTotalBytes?: number;
  /** PostgreSQL statement and client query timeout, ms (CITYFLOW_PG_QUERY_TIMEOUT_MS, default 15,000) */
  pgQueryTimeoutMs?: number;
}

export interface HubConfig extends TransportConfig {
  databaseUrl: string;
  redisUrl: string | undefined;
  mqttUrl: string | undefined;
  mqttPort: number;
  port: number;
  host: string;
  jwtSecret: string;
  jwtSecretGenerated: boolean;
  networkFile: string;
  clock: ClockMode;
  openRegistration: boolean;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  cycleIntervalS: number;
  corsOrigins: string[];
  loginRateLimit: number;
  loginPasswordRateLimit: number;
  registerRateLimit: number;
  diagRateLimit: number;
  revocationPollMs: number;
  metricsToken: string | undefined;
  trustProxy: boolean;
  cache: boolean;
  logLevel: string;
  wsHeartbeatMs: number;
  wsMaxBufferedBytes: number;
  redisPrefix: string;
  agentsFile: string | undefined;
  /** parsed from agentsFile (secrets: never log) */
  seedAgents: SeedAgent[];
  rerouteThreshold: number;
  rerouteClear: number;
  rerouteCompliance: number;
  metricsMaxAgents: number;
  quarantineMaxBytes: number;
  ingestQueueAgentBytes: number;
  ingestQueueTotalBytes: number;
  pgQueryTimeoutMs: number;
}

const defaultNetworkFile = (): string | undefined =>
  (protocol as unknown as { DEFAULT_NETWORK_FILE?: string }).DEFAULT_NETWORK_FILE;

function parseBool(name: string, v: string | undefined, errors: string[]): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  errors.push(`${name}: expected true or false, got ${JSON.stringify(v)}`);
  return undefined;
}

function parsePort(name: string, v: string | undefined, errors: string[]): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    errors.push(`${name}: expected a port 0..65535, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return n;
}

/** Reads the hub's environment variables (DESIGN.md "Hub configuration by environment"). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  const errors: string[] = [];
  const clock = env.CITYFLOW_CLOCK;
  const opts: HubOptions = {
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    mqttUrl: env.MQTT_URL || undefined,
    mqttPort: parsePort('MQTT_PORT', env.MQTT_PORT, errors),
    port: parsePort('PORT', env.PORT, errors),
    host: env.HOST || undefined,
    jwtSecret: env.JWT_SECRET || undefined,
    networkFile: env.NETWORK_FILE || undefined,
    clock: clock ? (clock as ClockMode) : undefined,
    openRegistration: parseBool('CITYFLOW_OPEN_REGISTRATION', env.CITYFLOW_OPEN_REGISTRATION, errors),
    adminEmail: env.CITYFLOW_ADMIN_EMAIL || undefined,
    adminPassword: env.CITYFLOW_ADMIN_PASSWORD || undefined,
    cycleIntervalS: env.CITYFLOW_CYCLE_INTERVAL_S ? Number(env.CITYFLOW_CYCLE_INTERVAL_S) : undefined,
    corsOrigins: env.CITYFLOW_CORS_ORIGINS
      ? env.CITYFLOW_CORS_ORIGINS.split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
    loginRateLimit: env.CITYFLOW_LOGIN_RATE_LIMIT ? Number(env.CITYFLOW_LOGIN_RATE_LIMIT) : undefined,
    loginPasswordRateLimit: env.CITYFLOW_LOGIN_PASSWORD_RATE_LIMIT
      ? Number(env.CITYFLOW_LOGIN_PASSWORD_RATE_LIMIT)
      : undefined,
    registerRateLimit: env.CITYFLOW_REGISTER_RATE_LIMIT
      ? Number(env.CITYFLOW_REGISTER_RATE_LIMIT)
      : undefined,
    diagRateLimit: env.CITYFLOW_DIAG_RATE_LIMIT ? Number(env.CITYFLOW_DIAG_RATE_LIMIT) : undefined,
    revocationPollMs: env.CITYFLOW_REVOCATION_POLL_S
      ? Number(env.CITYFLOW_REVOCATION_POLL_S) * 1000
      : undefined,
    metricsToken: env.CITYFLOW_METRICS_TOKEN || undefined,
    trustProxy: parseBool('CITYFLOW_TRUST_PROXY', env.CITYFLOW_TRUST_PROXY, errors),
    cache: parseBool('CITYFLOW_CACHE', env.CITYFLOW_CACHE, errors),
    logLevel: env.LOG_LEVEL || undefined,
    redisPrefix: env.CITYFLOW_REDIS_PREFIX || undefined,
    agentsFile: env.CITYFLOW_AGENTS_FILE || undefined,
    ...transportFromEnv(env, errors, (n, v) => parseBool(n, v, errors)),
    rerouteThreshold: env.CITYFLOW_REROUTE_THRESHOLD ? Number(env.CITYFLOW_REROUTE_THRESHOLD) : undefined,
    rerouteClear: env.CITYFLOW_REROUTE_CLEAR ? Number(env.CITYFLOW_REROUTE_CLEAR) : undefined,
    rerouteCompliance: env.CITYFLOW_REROUTE_COMPLIANCE ? Number(env.CITYFLOW_REROUTE_COMPLIANCE) : undefined,
    metricsMaxAgents: env.CITYFLOW_METRICS_MAX_AGENTS ? Number(env.CITYFLOW_METRICS_MAX_AGENTS) : undefined,
    quarantineMaxBytes: env.CITYFLOW_QUARANTINE_MAX_BYTES
      ? Number(env.CITYFLOW_QUARANTINE_MAX_BYTES)
      : undefined,
    ingestQueueAgentBytes: env.CITYFLOW_INGEST_QUEUE_AGENT_BYTES
      ? Number(env.CITYFLOW_INGEST_QUEUE_AGENT_BYTES)
      : undefined,
    ingestQueueTotalBytes: env.CITYFLOW_INGEST_QUEUE_TOTAL_BYTES
      ? Number(env.CITYFLOW_INGEST_QUEUE_TOTAL_BYTES)
      : undefined,
    pgQueryTimeoutMs: env.CITYFLOW_PG_QUERY_TIMEOUT_MS ? Number(env.CITYFLOW_PG_QUERY_TIMEOUT_MS) : undefined,
  };
  if (errors.length)
    throw new CityFlowError('CF_INVALID_CONFIG', `invalid configuration:\n  ${errors.join('\n  ')}`, errors);
  return opts;
}

/** Validates options and fills defaults; reports every problem at once (CF_INVALID_CONFIG). */
export function resolveConfig(opts: HubOptions): HubConfig {
  const errors: string[] = [];
  const databaseUrl = opts.databaseUrl ?? 'pglite://./data/hub';
  if (!/^(postgres(ql)?:\/\/.+|pglite(\+timescaledb)?:\/\/.+)$/.test(databaseUrl))
    errors.push(
      `DATABASE_URL: expected postgres://..., pglite://<dir>|memory or pglite+timescaledb://<dir>|memory, got ${JSON.stringify(databaseUrl)}`,
    );
  if (opts.redisUrl !== undefined && !/^rediss?:\/\/.+/.test(opts.redisUrl))
    errors.push(`REDIS_URL: expected redis://host:port, got ${JSON.stringify(opts.redisUrl)}`);
  if (opts.mqttUrl !== undefined && !/^(mqtts?|wss?|tcp):\/\/.+/.test(opts.mqttUrl))
    errors.push(`MQTT_URL: expected mqtt://host:port, got ${JSON.stringify(opts.mqttUrl)}`);
  const clock = opts.clock ?? 'wall';
  if (clock !== 'wall' && clock !== 'data')
    errors.push(`CITYFLOW_CLOCK: expected wall or data, got ${JSON.stringify(clock)}`);
  const cycleIntervalS = opts.cycleIntervalS ?? 60;
  if (!(Number.isFinite(cycleIntervalS) && cycleIntervalS > 0))
    errors.push(`CITYFLOW_CYCLE_INTERVAL_S: expected a positive number, got ${cycleIntervalS}`);
  const positiveInt = (name: string, v: number) => {
    if (!(Number.isInteger(v) && v > 0)) errors.push(`${name}: expected a positive integer, got ${v}`);
    return v;
  };
  const loginRateLimit = positiveInt('CITYFLOW_LOGIN_RATE_LIMIT', opts.loginRateLimit ?? 10);
  const loginPasswordRateLimit = positiveInt(
    'CITYFLOW_LOGIN_PASSWORD_RATE_LIMIT',
    opts.loginPasswordRateLimit ?? 20,
  );
  const registerRateLimit = positiveInt('CITYFLOW_REGISTER_RATE_LIMIT', opts.registerRateLimit ?? 5);
  const diagRateLimit = positiveInt('CITYFLOW_DIAG_RATE_LIMIT', opts.diagRateLimit ?? 6);
  const revocationPollMs = opts.revocationPollMs ?? 5000;
  if (!(Number.isFinite(revocationPollMs) && revocationPollMs >= 50 && revocationPollMs <= 3_600_000))
    errors.push(`CITYFLOW_REVOCATION_POLL_S: expected 0.05..3600 seconds, got ${revocationPollMs / 1000}`);
  for (const [name, v] of [
    ['PORT', opts.port],
    ['MQTT_PORT', opts.mqttPort],
  ] as const)
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 65535))
      errors.push(`${name}: expected a port 0..65535, got ${v}`);
  const networkFile = opts.networkFile ?? defaultNetworkFile();
  if (!networkFile) errors.push('NETWORK_FILE: not set and @cityflow/protocol has no DEFAULT_NETWORK_FILE');
  if ((opts.adminEmail === undefined) !== (opts.adminPassword === undefined))
    errors.push('CITYFLOW_ADMIN_EMAIL and CITYFLOW_ADMIN_PASSWORD: set both or neither');
  if (opts.adminPassword !== undefined && opts.adminPassword.length < 8)
    errors.push('CITYFLOW_ADMIN_PASSWORD: at least 8 characters');
  if (opts.jwtSecret !== undefined && opts.jwtSecret.length < 16)
    errors.push('JWT_SECRET: at least 16 characters');
  // A random secret per process is only sound for the embedded (single-process) database: replicas
  // sharing a PostgreSQL must share the secret, or a token from one is refused by the other.
  if (opts.jwtSecret === undefined && /^postgres(ql)?:\/\//.test(databaseUrl))
    errors.push('JWT_SECRET: required with a postgres:// DATABASE_URL (every replica must use the same one)');
  const redisPrefix = opts.redisPrefix ?? 'cityflow:';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(redisPrefix))
    errors.push(
      `CITYFLOW_REDIS_PREFIX: expected 1-64 characters [A-Za-z0-9_.:-], got ${JSON.stringify(redisPrefix)}`,
    );
  const metricsMaxAgents = opts.metricsMaxAgents ?? FLEET_METRICS_MAX_AGENTS_DEFAULT;
  if (!(Number.isInteger(metricsMaxAgents) && metricsMaxAgents >= 0))
    errors.push(`CITYFLOW_METRICS_MAX_AGENTS: expected an integer >= 0, got ${metricsMaxAgents}`);
  const seedAgents = opts.agentsFile ? readAgentsFile(opts.agentsFile, errors) : [];
  const transport = resolveTransport(opts, opts.mqttUrl !== undefined, errors);
  const rerouteThreshold = opts.rerouteThreshold ?? protocol.CONGESTED_THRESHOLD;
  const rerouteClear = opts.rerouteClear ?? Math.max(0, rerouteThreshold - 0.1);
  const rerouteCompliance = opts.rerouteCompliance ?? 0.5;
  for (const [name, v] of [
    ['CITYFLOW_REROUTE_THRESHOLD', rerouteThreshold],
    ['CITYFLOW_REROUTE_CLEAR', rerouteClear],
    ['CITYFLOW_REROUTE_COMPLIANCE', rerouteCompliance],
  ] as const)
    if (!(Number.isFinite(v) && v > 0 && v <= 1))
      errors.push(`${name}: expected a number in (0, 1], got ${v}`);
  if (rerouteClear > rerouteThreshold)
    errors.push(
      `CITYFLOW_REROUTE_CLEAR: must not exceed CITYFLOW_REROUTE_THRESHOLD (${rerouteThreshold}), got ${rerouteClear}`,
    );
  const positive = (name: string, v: number | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    if (!(Number.isSafeInteger(v) && v > 0)) errors.push(`${name}: expected a positive integer, got ${v}`);
    return v;
  };
  const quarantineMaxBytes = positive('CITYFLOW_QUARANTINE_MAX_BYTES', opts.quarantineMaxBytes, 256 << 20);
  const ingestQueueAgentBytes = positive(
    'CITYFLOW_INGEST_QUEUE_AGENT_BYTES',
    opts.ingestQueueAgentBytes,
    8 << 20,
  );
  const ingestQueueTotalBytes = positive(
    'CITYFLOW_INGEST_QUEUE_TOTAL_BYTES',
    opts.ingestQueueTotalBytes,
    256 << 20,
  );
  const pgQueryTimeoutMs = positive('CITYFLOW_PG_QUERY_TIMEOUT_MS', opts.pgQueryTimeoutMs, 15_000);
  if (errors.length)
    throw new CityFlowError(
      'CF_INVALID_CONFIG',
      `invalid hub configuration:\n  ${errors.join('\n  ')}`,
      errors,
    );
  return {
    databaseUrl,
    redisUrl: opts.redisUrl,
    mqttUrl: opts.mqttUrl,
    mqttPort: opts.mqttPort ?? 1884,
    port: opts.port ?? 8081,
    host: opts.host ?? '0.0.0.0',
    jwtSecret: opts.jwtSecret ?? randomBytes(32).toString('base64url'),
    jwtSecretGenerated: opts.jwtSecret === undefined,
    networkFile: networkFile!,
    clock,
    // Closed unless asked for: an open hub lets anyone on the internet read the city's live data.
    openRegistration: opts.openRegistration ?? false,
    adminEmail: opts.adminEmail,
    adminPassword: opts.adminPassword,
    cycleIntervalS,
    corsOrigins: opts.corsOrigins ?? [],
    loginRateLimit,
    loginPasswordRateLimit,
    registerRateLimit,
    diagRateLimit,
    revocationPollMs,
    metricsToken: opts.metricsToken,
    trustProxy: opts.trustProxy ?? false,
    cache: opts.cache ?? true,
    logLevel: opts.logLevel ?? 'info',
    wsHeartbeatMs: opts.wsHeartbeatMs ?? 30_000,
    wsMaxBufferedBytes: opts.wsMaxBufferedBytes ?? 1 << 20,
    redisPrefix,
    agentsFile: opts.agentsFile,
    seedAgents,
    ...transport,
    rerouteThreshold,
    rerouteClear,
    rerouteCompliance,
    metricsMaxAgents,
    quarantineMaxBytes,
    ingestQueueAgentBytes,
    ingestQueueTotalBytes,
    pgQueryTimeoutMs,
  };
}
