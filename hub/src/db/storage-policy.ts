import type { Logger } from 'pino';
import type { ClockMode } from '../config.js';
import type { Db, Queryable } from './db.js';

import { COMPRESS_AFTER_DAYS, RETENTION_DAYS } from './storage-policy-constants.js';
import { maintainPartitions, partitionTrafficMinute } from './partitions.js';

export { COMPRESS_AFTER_DAYS, RETENTION_DAYS };

/**
 * TimescaleDB statements, in order: hypertable on the per-minute table, compression (segment by road and
 * sensor, newest first) with a policy, retention, and an hourly continuous aggregate with its refresh
 * policy. `time_bucket` is used only here; the rest of the SQL uses `date_bin`. Pure, so it is unit-tested.
 */
export function timescaleStatements(): string[] {
  return [
    `SELECT create_hypertable('traffic_minute', 'minute', chunk_time_interval => INTERVAL '1 day', migrate_data => true, if_not_exists => true)`,
    `ALTER TABLE traffic_minute SET (timescaledb.compress, timescaledb.compress_segmentby = 'road_id, sensor_id', timescaledb.compress_orderby = 'minute DESC')`,
    `SELECT add_compression_policy('traffic_minute', INTERVAL '${COMPRESS_AFTER_DAYS} days', if_not_exists => true)`,
    `SELECT add_retention_policy('traffic_minute', INTERVAL '${RETENTION_DAYS.traffic_minute} days', if_not_exists => true)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS traffic_hourly WITH (timescaledb.continuous) AS
       SELECT time_bucket(INTERVAL '1 hour', minute) AS bucket, road_id,
         sum(speed_mean * (count - null_speed_count)) FILTER (WHERE speed_mean IS NOT NULL) AS speed_weighted_sum,
         sum(count - null_speed_count) FILTER (WHERE speed_mean IS NOT NULL) AS speed_samples,
         avg(flow_mean) AS flow_rate, avg(occupancy_mean) AS occupancy, sum(count) AS samples
       FROM traffic_minute GROUP BY 1, 2 WITH NO DATA`,
    `SELECT add_continuous_aggregate_policy('traffic_hourly', start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes', if_not_exists => true)`,
  ];
}

/**
 * Plain PostgreSQL / PGlite: the retention the Timescale policies would do. In `wall` mode ages count
 * from the hub clock (`now()`). In `data` mode they count from the newest row, so a replay of last
 * spring's dataset is not deleted as it arrives; rows more than a day ahead of the wall clock are not
 * taken as the newest, so one future timestamp cannot age out the whole history.
 */
export function retentionStatements(mode: ClockMode = 'data'): string[] {
  const ref = (table: string, col: string) =>
    mode === 'wall' ? 'now()' : `(SELECT max(${col}) FROM ${table} WHERE ${col} <= now() + INTERVAL '1 day')`;
  return [
    // (whole months of traffic_minute are dropped by maintainPartitions; this catches the DEFAULT partition)
    `DELETE FROM traffic_minute WHERE minute < ${ref('traffic_minute', 'minute')} - INTERVAL '${RETENTION_DAYS.traffic_minute} days'`,
    `DELETE FROM predictions WHERE ts < ${ref('predictions', 'ts')} - INTERVAL '${RETENTION_DAYS.predictions} days'`,
    `DELETE FROM reroutes WHERE ts < ${ref('reroutes', 'ts')} - INTERVAL '${RETENTION_DAYS.reroutes} days'`,
    `DELETE FROM incidents WHERE cleared_at < ${ref('incidents', 'detected_at')} - INTERVAL '${RETENTION_DAYS.incidents} days'`,
    `DELETE FROM quarantine WHERE received_at < now() - INTERVAL '${RETENTION_DAYS.quarantine} days'`,
    'DELETE FROM quarantine WHERE id < (SELECT max(id) - 100000 FROM quarantine)',
    'DELETE FROM revoked_tokens WHERE expires_at < now()',
  ];
}

export type StoragePolicy = 'timescaledb' | 'plain';

/** Is the TimescaleDB extension installable here? (run-time detection, logged at start) */
export async function timescaleAvailable(db: Queryable): Promise<boolean> {
  try {
    const r = await db.query("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'");
    return r.rows.length > 0;
  } catch {
    return false;
  }
}

export async function applyStoragePolicy(db: Db, log: Logger): Promise<StoragePolicy> {
  if (db.kind === 'pg' && (await timescaleAvailable(db))) {
    try {
      await db.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
      for (const sql of timescaleStatements()) await db.query(sql);
      log.info('TimescaleDB detected: hypertable, compression, retention and continuous aggregate in place');
      return 'timescaledb';
    } catch (e) {
      log.warn(
        { err: (e as Error).message },
        'TimescaleDB present but not usable; plain tables with a retention job',
      );
    }
  }
  const converted = await partitionTrafficMinute(db);
  await maintainPartitions(db);
  log.info(
    { engine: db.kind, converted },
    'TimescaleDB not present: traffic_minute partitioned by month, retention job',
  );
  return 'plain';
}

export async function runRetention(db: Db, mode: ClockMode = 'data'): Promise<void> {
  await maintainPartitions(db, mode);
  for (const sql of retentionStatements(mode)) await db.query(sql);
}
