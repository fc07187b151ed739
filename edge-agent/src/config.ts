/**
 * The agent configuration: one schema (TypeBox) for the file, the flags and `startAgent` options.
 * File keys are the CLI flag names in camelCase; flags override the file; every problem is reported
 * at once as `path: message`.
 */
import { readFileSync } from 'node:fs';
import { CityFlowError, compileValidator, ID_PATTERN, PortSchema } from '@cityflow/protocol';
import { type Static, Type } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';

const Pos = (o: { minimum?: number; maximum?: number } = {}) => Type.Number({ exclusiveMinimum: 0, ...o });

export const AgentConfigFileSchema = Type.Object(
  {
    agentId: Type.String({ pattern: ID_PATTERN }),
    dataDir: Type.String({ minLength: 1 }),
    mqttPort: PortSchema,
    mqttHost: Type.String({ minLength: 1 }),
    httpPort: PortSchema,
    httpHost: Type.String({ minLength: 1 }),
    hubUrl: Type.Optional(Type.String({ pattern: '^mqtts?://|^wss?://' })),
    hubUsername: Type.Optional(Type.String()),
    hubPassword: Type.Optional(Type.String()),
    /** PEM files for an mqtts:// hub: the CA that must have signed the hub's certificate (pinning), and
     *  this agent's client certificate and key (mutual TLS). */
    hubCa: Type.Optional(Type.String({ minLength: 1 })),
    hubCert: Type.Optional(Type.String({ minLength: 1 })),
    hubKey: Type.Optional(Type.String({ minLength: 1 })),
    clock: Type.Union([Type.Literal('wall'), Type.Literal('data')]),
    /** Seconds between live snapshots / health messages / forecast cycles. */
    liveIntervalS: Pos({ maximum: 3600 }),
    healthIntervalS: Pos({ maximum: 3600 }),
    forecastIntervalS: Pos({ maximum: 3600 }),
    /** A minute is closed this many seconds after it ends (late readings then go in a late summary). */
    summaryGraceS: Type.Number({ minimum: 0, maximum: 600 }),
    /** Raw readings are kept this long for diagnostics once summarised. */
    rawRetentionH: Pos(),
    /** Outbox caps: bytes of pending items, and age of the oldest pending item. */
    outboxMaxBytes: Type.Integer({ minimum: 1024 }),
    outboxMaxAgeH: Pos(),
    /** Database file cap: raw readings are thinned (oldest summarised first) above it. */
    dbMaxBytes: Type.Integer({ minimum: 1024 * 1024 }),
    quarantineMax: Type.Integer({ minimum: 1 }),
    /** Uplink drain rate (items/s over all sequenced streams) and batch size. */
    drainRatePerS: Pos(),
    batchMaxItems: Type.Integer({ minimum: 1, maximum: 5000 }),
    ackTimeoutS: Pos(),
    /** A row sent this many times without being acked is parked (kept aside, reported as skipped). */
    maxTries: Type.Integer({ minimum: 1 }),
    backoffBaseMs: Pos(),
    backoffMaxMs: Pos(),
    /** Readings newer than now + maxFutureS or older than now − maxPastH are rejected. */
    maxFutureS: Type.Number({ minimum: 0 }),
    maxPastH: Pos(),
    /** `full`: survives power loss; `normal`: survives kill -9 only (faster on SD cards). */
    sync: Type.Union([Type.Literal('full'), Type.Literal('normal')]),
    commitMaxBatch: Type.Integer({ minimum: 1 }),
    /** WAL checkpoints in a worker thread (keeps their fsync off the PUBACK path); false = SQLite's own. */
    checkpointWorker: Type.Boolean(),
    /** SQLite page cache of the agent's connection, KiB (better-sqlite3's own default is 16,000). */
    sqliteCacheKb: Type.Integer({ minimum: 64 }),
    /** Sensor credentials for the local broker: sensor_id -> password. Empty = anonymous sensors. */
    sensorCredentials: Type.Record(Type.String({ pattern: ID_PATTERN }), Type.String({ minLength: 1 })),
    /** Local broker guard: open connections at once, and publishes per second per connection (0 = off). */
    mqttMaxConnections: Type.Integer({ minimum: 0 }),
    mqttPublishRatePerS: Type.Number({ minimum: 0 }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    ),
  },
  { additionalProperties: false },
);
export type AgentConfig = Static<typeof AgentConfigFileSchema>;

export const DEFAULTS: Omit<AgentConfig, 'agentId'> = {
  dataDir: './data/agent',
  mqttPort: 1883,
  mqttHost: '0.0.0.0',
  httpPort: 9464,
  httpHost: '0.0.0.0',
  clock: 'wall',
  liveIntervalS: 5,
  healthIntervalS: 30,
  forecastIntervalS: 60,
  summaryGraceS: 5,
  rawRetentionH: 24,
  outboxMaxBytes: 64 * 1024 * 1024,
  outboxMaxAgeH: 7 * 24,
  dbMaxBytes: 1024 * 1024 * 1024,
  quarantineMax: 10_000,
  drainRatePerS: 5000,
  batchMaxItems: 500,
  ackTimeoutS: 10,
  maxTries: 10,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  maxFutureS: 300,
  maxPastH: 7 * 24,
  sync: 'full',
  commitMaxBatch: 5000,
  checkpointWorker: false,
  sqliteCacheKb: 2048,
  sensorCredentials: {},
  // A cabinet has tens of sensors; one gateway connection may carry a whole intersection (the
  // simulator's fleet publishes up to ~1,000/s on one): a bound per connection, not a sensor's rate.
  mqttMaxConnections: 256,
  mqttPublishRatePerS: 5000,
  logLevel: 'info',
};

const checkFull = compileValidator(AgentConfigFileSchema);
const checkPartial = compileValidator(Type.Partial(AgentConfigFileSchema));

/** Reads a JSON or YAML config file (by extension, else by trying JSON first). */
export function readConfigFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    if (!/\.json$/i.test(file)) {
      try {
        return parseYaml(text);
      } catch {
        /* report the first error below */
      }
    }
    throw new CityFlowError('CF_INVALID_CONFIG', `${file}: cannot parse: ${(e as Error).message}`);
  }
}

/** Checks a config file's content on its own (every key optional except the shape). */
export function checkConfigFile(value: unknown): string[] {
  const r = checkPartial(value ?? {});
  return r.ok ? [] : r.errors;
}

/** Defaults < file < CITYFLOW_CLOCK < overrides (flags / options); the result is validated as a whole. */
export function resolveConfig(file: unknown, overrides: Partial<Record<string, unknown>>): AgentConfig {
  const fileErrors = checkConfigFile(file);
  if (fileErrors.length)
    throw new CityFlowError('CF_INVALID_CONFIG', 'invalid configuration file', fileErrors);
  const clean = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const envClock = process.env.CITYFLOW_CLOCK;
  const merged = {
    ...DEFAULTS,
    ...((file as object | null) ?? {}),
    ...(envClock ? { clock: envClock } : {}),
    ...clean,
  };
  const r = checkFull(merged);
  const errors = r.ok ? tlsErrors(r.value) : r.errors;
  if (!r.ok || errors.length) throw new CityFlowError('CF_INVALID_CONFIG', 'invalid configuration', errors);
  return r.value;
}

/** TLS files need an mqtts:// or wss:// hub; a client certificate needs its key and the other way round. */
function tlsErrors(c: AgentConfig): string[] {
  const errors: string[] = [];
  const tls = /^(mqtts|wss):\/\//.test(c.hubUrl ?? '');
  for (const k of ['hubCa', 'hubCert', 'hubKey'] as const)
    if (c[k] !== undefined && !tls) errors.push(`${k}: needs an mqtts:// or wss:// hubUrl`);
  if ((c.hubCert === undefined) !== (c.hubKey === undefined))
    errors.push('hubCert, hubKey: set both (mutual TLS) or neither');
  return errors;
}
