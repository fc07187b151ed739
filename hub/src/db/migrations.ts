import type { Db } from './db.js';

/**
 * Versioned migrations, applied in order at start and by `cityflow-hub migrate`. Each runs in its own
 * transaction with its version row, so a crash leaves either all or nothing of a step. Never edit a
 * published step: add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'core tables',
    sql: `
CREATE TABLE users (
  id serial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE revoked_tokens (
  jti text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE TABLE agents (
  agent_id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  online boolean NOT NULL DEFAULT false,
  status_ts timestamptz,
  last_seen timestamptz,
  backlog integer,
  clock_skew_s double precision,
  version text
);
-- Agent secrets are 32 random bytes: a fast hash is enough (no dictionary to attack), and 1,000 agents
-- reconnecting at once must not cost a minute of KDF. mosquitto_hash is the same secret in Mosquitto's
-- own password-file format ($6$, salted SHA-512) so an external broker can be configured from here.
CREATE TABLE agent_credentials (
  agent_id text PRIMARY KEY REFERENCES agents (agent_id) ON DELETE CASCADE,
  username text NOT NULL UNIQUE,
  password_sha256 text NOT NULL,
  mosquitto_hash text NOT NULL,
  rotated_at timestamptz NOT NULL DEFAULT now()
);
-- Contiguous ack watermark per (agent, stream): every seq <= watermark is stored, rejected or skipped.
CREATE TABLE ingest_watermarks (
  agent_id text NOT NULL,
  stream text NOT NULL,
  watermark bigint NOT NULL DEFAULT 0,
  max_seq bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agent_id, stream)
);
-- Seq ranges above the watermark that are already resolved (arrived out of order); small by construction.
CREATE TABLE ingest_pending (
  agent_id text NOT NULL,
  stream text NOT NULL,
  seq_from bigint NOT NULL,
  seq_to bigint NOT NULL,
  PRIMARY KEY (agent_id, stream, seq_from)
);
-- One row per sensor per minute (the seed's traffic_raw, summarised on the edge).
CREATE TABLE traffic_minute (
  minute timestamptz NOT NULL,
  sensor_id text NOT NULL,
  road_id text NOT NULL,
  agent_id text NOT NULL,
  seq bigint NOT NULL,
  count integer NOT NULL,
  null_speed_count integer NOT NULL,
  speed_mean double precision,
  speed_min double precision,
  speed_max double precision,
  flow_mean double precision NOT NULL,
  occupancy_mean double precision NOT NULL,
  flagged boolean NOT NULL DEFAULT false,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sensor_id, minute)
);
CREATE INDEX traffic_minute_road_minute ON traffic_minute (road_id, minute);
CREATE TABLE road_live (
  road_id text PRIMARY KEY,
  ts timestamptz NOT NULL,
  speed_kmh double precision,
  flow_rate double precision,
  occupancy double precision,
  congestion_score double precision,
  sensors integer NOT NULL,
  samples integer NOT NULL DEFAULT 0,
  agent_id text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE predictions (
  id bigserial PRIMARY KEY,
  ts timestamptz NOT NULL,
  target_ts timestamptz NOT NULL,
  road_id text NOT NULL,
  horizon_min integer NOT NULL,
  speed_kmh double precision,
  speed_lo_kmh double precision,
  speed_hi_kmh double precision,
  congestion_score double precision NOT NULL,
  confidence double precision NOT NULL,
  model_version text NOT NULL,
  agent_id text,
  UNIQUE (road_id, horizon_min, model_version, ts)
);
CREATE INDEX predictions_latest ON predictions (horizon_min, ts DESC, id DESC);
CREATE TABLE reroutes (
  id bigserial PRIMARY KEY,
  ts timestamptz NOT NULL,
  route_id text NOT NULL,
  alt_route_id text NOT NULL,
  reason text NOT NULL,
  estimated_co2_gain double precision NOT NULL,
  eta_gain_min double precision NOT NULL,
  path jsonb NOT NULL,
  decision_node text NOT NULL,
  diverted_share double precision NOT NULL,
  valid_until timestamptz NOT NULL,
  co2_gain_g_per_vehicle double precision NOT NULL
);
CREATE INDEX reroutes_ts ON reroutes (ts DESC, id DESC);
-- Dead letters: what the hub refused, with the reason; bounded by the retention job.
CREATE TABLE quarantine (
  id bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  agent_id text,
  stream text,
  seq bigint,
  code text NOT NULL,
  message text NOT NULL,
  payload jsonb
);
`,
  },
  {
    version: 2,
    name: 'incidents, and the incident behind a reroute',
    sql: `
CREATE TABLE incidents (
  incident_id text PRIMARY KEY,
  road_id text NOT NULL,
  detected_at timestamptz NOT NULL,
  cleared_at timestamptz,
  confidence double precision NOT NULL,
  reason text NOT NULL
);
CREATE INDEX incidents_detected ON incidents (detected_at DESC, incident_id DESC);
CREATE INDEX incidents_active ON incidents (road_id) WHERE cleared_at IS NULL;
ALTER TABLE reroutes ADD COLUMN incident_id text;
`,
  },
  {
    version: 3,
    name: 'agent alarms',
    // The active alarms of the agent's latest health message (fleet metrics count them; NULL = none reported).
    sql: 'ALTER TABLE agents ADD COLUMN alarms jsonb',
  },
  {
    version: 4,
    name: 'user token versions',
    // Every token carries its user's version (claim `tv`); a role change, password reset or removal
    // bumps it, which ends every token issued before at once (logout still revokes one token by jti).
    sql: 'ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;',
  },
  {
    version: 5,
    name: 'agent disable',
    sql: `
-- Set: the agent may not log in (its credentials are kept, so enabling it needs no new secret).
ALTER TABLE agents ADD COLUMN disabled_at timestamptz;
`,
  },
  {
    version: 6,
    name: 'agent incarnations, quarantine kept as bytes',
    sql: `
-- One watermark per (agent, incarnation, stream): a wiped or re-imaged agent starts a new seq space
-- instead of having its first W rows taken for duplicates. '' is the incarnation of older agents.
ALTER TABLE ingest_watermarks ADD COLUMN incarnation text NOT NULL DEFAULT '';
ALTER TABLE ingest_watermarks DROP CONSTRAINT ingest_watermarks_pkey;
ALTER TABLE ingest_watermarks ADD PRIMARY KEY (agent_id, incarnation, stream);
ALTER TABLE ingest_pending ADD COLUMN incarnation text NOT NULL DEFAULT '';
ALTER TABLE ingest_pending DROP CONSTRAINT ingest_pending_pkey;
ALTER TABLE ingest_pending ADD PRIMARY KEY (agent_id, incarnation, stream, seq_from);
-- Dead letters keep their payload as bytes (any size up to the row cap, any content); \`payload\`
-- (jsonb) only when jsonb can hold it. \`bytes\` feeds the byte bound; \`replayed_at\` marks a replay.
ALTER TABLE quarantine ADD COLUMN incarnation text;
ALTER TABLE quarantine ADD COLUMN body bytea;
ALTER TABLE quarantine ADD COLUMN bytes integer NOT NULL DEFAULT 0;
ALTER TABLE quarantine ADD COLUMN truncated boolean NOT NULL DEFAULT false;
ALTER TABLE quarantine ADD COLUMN replayed_at timestamptz;
UPDATE quarantine SET body = convert_to(payload::text, 'UTF8'), bytes = octet_length(payload::text) WHERE payload IS NOT NULL;
`,
  },
  {
    version: 7,
    name: 'per-loop detail of the live state',
    sql: `
-- Each loop's last minute ([{sensor_id, speed_kmh, flow_rate, occupancy}]) beside the road's means:
-- the reroute cycle prices turning movements by the lanes that serve them.
ALTER TABLE road_live ADD COLUMN by_sensor jsonb;
`,
  },
  {
    version: 8,
    name: 'when the agent closed each minute',
    sql: `
-- The agent's wall time (skew-corrected) of closing the minute: ingest latency on both clocks.
ALTER TABLE traffic_minute ADD COLUMN closed_at timestamptz;
`,
  },
];

/** Applies pending migrations; returns the versions applied now. Serialised across replicas by an advisory lock. */
export async function migrate(db: Db): Promise<number[]> {
  await db.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    const done = await db.transaction(async (tx) => {
      // Two replicas starting together: the transaction-level lock makes the second wait, then skip.
      // (Keyed by database and schema: advisory locks are server-wide.)
      await tx.query(
        "SELECT pg_advisory_xact_lock(hashtext($1 || '/' || current_database() || '/' || current_schema()))",
        ['cityflow-migrate'],
      );
      const r = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (r.rows.length) return false;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
