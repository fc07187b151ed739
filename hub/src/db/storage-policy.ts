import type { Logger } from 'pino';
import type { ClockMode } from '../config.js';
import type { Db, Queryable } from './db.js';

import { COMPRESS_AFTER_DAYS, RETENTION_DAYS } from './storage-policy-constants.js';
import { QUARANTINE_LIMITS, enforceQuarantineBytes } from '../store/quarantine-store.js';
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
 * Plain PostgreSQL / PGlite: the retention the Timescale policies would do. Ages count from the newest
 * row of each table: in `data` mode so a replay of last spring's dataset is not deleted as it arrives,
 * and in `wall` mode too whenever the newest row is older than the hub clock (`now`, an ISO time) — a
 * hub clock jumping a year ahead deletes nothing whose data lies within retention of the newest data.
 * Rows more than a day ahead of the clock are not taken as the newest, so one future timestamp cannot
 * age out the whole history. The quarantine is also bounded in bytes (oldest rows first).
 */
export function retentionStatements(mode: ClockMode = 'data', now?: string): string[] {
  const clock = now ? `'${new Date(now).toISOString()}'::timestamptz` : 'now()';
  const newest = (table: string, col: string) =>
    `(SELECT max(${col}) FROM ${table} WHERE ${col} <= ${clock} + INTERVAL '1 day')`;
  const ref = (table: string, col: string) =>
    mode === 'wall' ? `least(${clock}, ${newest(table, col)})` : newest(table, col);
  return [
    // (whole months of traffic_minute are dropped by maintainPartitions; this catches the DEFAULT partition)
    `DELETE FROM traffic_minute WHERE minute < ${ref('traffic_minute', 'minute')} - INTERVAL '${RETENTION_DAYS.traffic_minute} days'`,
    `DELETE FROM predictions WHERE ts < ${ref('predictions', 'ts')} - INTERVAL '${RETENTION_DAYS.predictions} days'`,
    `DELETE FROM reroutes WHERE ts < ${ref('reroutes', 'ts')} - INTERVAL '${RETENTION_DAYS.reroutes} days'`,
    `DELETE FROM incidents WHERE cleared_at < ${ref('incidents', 'detected_at')} - INTERVAL '${RETENTION_DAYS.incidents} days'`,
    `DELETE FROM quarantine WHERE received_at < least(${clock}, ${newest('quarantine', 'received_at')}) - INTERVAL '${RETENTION_DAYS.quarantine} days'`,
    `DELETE FROM revoked_tokens WHERE expires_at < ${clock}`,
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

export interface RetentionOptions {
  /** the hub clock (default the system clock); injected by tests of a clock jump */
  nowMs?: number;
  /** the quarantine's byte bound (default QUARANTINE_LIMITS.defaultMaxTotalBytes) */
  quarantineMaxBytes?: number;
}

/** Runs retention; returns the quarantine rows evicted by the byte bound. */
export async function runRetention(
  db: Db,
  mode: ClockMode = 'data',
  opts: RetentionOptions = {},
): Promise<{ quarantineEvicted: number }> {
  const nowMs = opts.nowMs ?? Date.now();
  await maintainPartitions(db, mode, nowMs);
  for (const sql of retentionStatements(mode, new Date(nowMs).toISOString())) await db.query(sql);
  const quarantineEvicted = await enforceQuarantineBytes(
    db,
    opts.quarantineMaxBytes ?? QUARANTINE_LIMITS.defaultMaxTotalBytes,
  );
  return { quarantineEvicted };
}
