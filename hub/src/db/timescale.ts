import type { ClockMode } from '../config.js';
import { SPEED_SAMPLES, SPEED_WEIGHTED_SUM } from '../store/speed-weighting.js';
import type { Queryable } from './db.js';
import { COMPRESS_AFTER_DAYS, RETENTION_DAYS } from './storage-policy-constants.js';

/**
 * TimescaleDB statements, in order: hypertable on the per-minute table, compression (segment by road and
 * sensor, newest first) with a policy, retention, and an hourly continuous aggregate with its refresh
 * policy. Every one is idempotent (the hub applies them at each start). `time_bucket` is used only here;
 * the rest of the SQL uses `date_bin`. Pure, so it is unit-tested; run for real on pglite+timescaledb.
 */
export function timescaleStatements(): string[] {
  return [
    `SELECT create_hypertable('traffic_minute', 'minute', chunk_time_interval => INTERVAL '1 day', migrate_data => true, if_not_exists => true)`,
    `ALTER TABLE traffic_minute SET (timescaledb.compress, timescaledb.compress_segmentby = 'road_id, sensor_id', timescaledb.compress_orderby = 'minute DESC')`,
    `SELECT add_compression_policy('traffic_minute', INTERVAL '${COMPRESS_AFTER_DAYS} days', if_not_exists => true)`,
    `SELECT add_retention_policy('traffic_minute', INTERVAL '${RETENTION_DAYS.traffic_minute} days', if_not_exists => true)`,
    // materialized_only = false (a real-time aggregate): the hours not yet refreshed are computed from
    // traffic_minute at query time, so the view is complete even between refreshes.
    `CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_hourly WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
       SELECT time_bucket(INTERVAL '1 hour', minute) AS bucket, road_id,
         ${SPEED_WEIGHTED_SUM} AS speed_weighted_sum,
         ${SPEED_SAMPLES} AS speed_samples,
         avg(flow_mean) AS flow_rate, avg(occupancy_mean) AS occupancy, sum(count) AS samples
       FROM traffic_minute GROUP BY 1, 2 WITH NO DATA`,
    `SELECT add_continuous_aggregate_policy('traffic_hourly', start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes', if_not_exists => true)`,
  ];
}

/** The policy jobs of this schema's objects (`timescaledb_information.jobs` lists every schema's). */
const OWN_JOBS = `FROM timescaledb_information.jobs
  WHERE hypertable_schema = current_schema() AND hypertable_name IN ('traffic_minute', 'traffic_hourly')`;

/**
 * The retention policy ages rows from `now()`. In `data` mode (a replay of last spring) that would drop
 * the replay as it arrives, so there the policy is paused and the hub's retention job drops chunks
 * counted from the newest row instead (`dataModeDropChunks`). In `wall` mode the policy runs.
 */
export function retentionSchedulingStatement(mode: ClockMode): string {
  return `SELECT alter_job(job_id, scheduled => ${mode === 'wall'}) ${OWN_JOBS} AND proc_name = 'policy_retention'`;
}

/**
 * `data` mode: drops whole chunks older than the newest row (not a day ahead of the wall clock) minus
 * retention. Two statements: drop_chunks refuses to drop a chunk that the same statement is reading.
 */
export async function dropChunksFromNewest(db: Queryable): Promise<void> {
  const r = await db.query<{ m: Date | null }>(
    "SELECT max(minute) AS m FROM traffic_minute WHERE minute <= now() + INTERVAL '1 day'",
  );
  const newest = r.rows[0]?.m;
  if (newest)
    await db.query(
      `SELECT drop_chunks('traffic_minute', older_than => $1::timestamptz - INTERVAL '${RETENTION_DAYS.traffic_minute} days')`,
      [newest],
    );
}

/** Is the TimescaleDB extension installable here? (run-time detection on every backend, logged at start) */
export async function timescaleAvailable(db: Queryable): Promise<boolean> {
  try {
    const r = await db.query("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'");
    return r.rows.length > 0;
  } catch {
    return false;
  }
}

/** Installed TimescaleDB version in this database, or null. */
export async function timescaleVersion(db: Queryable): Promise<string | null> {
  const r = await db.query<{ v: string }>(
    "SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'",
  );
  return r.rows[0]?.v ?? null;
}

/** Is `traffic_minute` (of the current schema) a hypertable? False without the extension. */
export async function isHypertable(db: Queryable): Promise<boolean> {
  if (!(await timescaleVersion(db))) return false;
  const r = await db.query(
    "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_schema = current_schema() AND hypertable_name = 'traffic_minute'",
  );
  return r.rows.length > 0;
}

/** Which TimescaleDB features are in place for the hub's tables, read back from the catalogs. */
export async function timescaleFeatures(db: Queryable) {
  const r = await db.query<{
    hypertables: boolean;
    compression: boolean;
    continuous_aggregates: boolean;
    retention: boolean;
  }>(
    `SELECT
       EXISTS (SELECT 1 FROM timescaledb_information.hypertables
               WHERE hypertable_schema = current_schema() AND hypertable_name = 'traffic_minute') AS hypertables,
       EXISTS (SELECT 1 FROM timescaledb_information.hypertables
               WHERE hypertable_schema = current_schema() AND hypertable_name = 'traffic_minute' AND compression_enabled)
         AND EXISTS (SELECT 1 ${OWN_JOBS} AND proc_name = 'policy_compression') AS compression,
       EXISTS (SELECT 1 FROM timescaledb_information.continuous_aggregates
               WHERE view_schema = current_schema() AND view_name = 'traffic_hourly') AS continuous_aggregates,
       EXISTS (SELECT 1 ${OWN_JOBS} AND proc_name = 'policy_retention') AS retention`,
  );
  return r.rows[0]!;
}
