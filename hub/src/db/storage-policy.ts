import { type Static, Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { ClockMode } from '../config.js';
import type { Db } from './db.js';
import { maintainPartitions, partitionTrafficMinute } from './partitions.js';
import { COMPRESS_AFTER_DAYS, RETENTION_DAYS } from './storage-policy-constants.js';
import {
  dropChunksFromNewest,
  isHypertable,
  retentionSchedulingStatement,
  timescaleAvailable,
  timescaleFeatures,
  timescaleStatements,
  timescaleVersion,
} from './timescale.js';

export { COMPRESS_AFTER_DAYS, RETENTION_DAYS, timescaleAvailable, timescaleStatements };

/**
 * Plain PostgreSQL / PGlite: the retention the Timescale policies would do. In `wall` mode ages count
 * from the hub clock (`now()`). In `data` mode they count from the newest row, so a replay of last
 * spring's dataset is not deleted as it arrives; rows more than a day ahead of the wall clock are not
 * taken as the newest, so one future timestamp cannot age out the whole history.
 */
export function retentionStatements(mode: ClockMode = 'data', hypertable = false): string[] {
  const ref = (table: string, col: string) =>
    mode === 'wall' ? 'now()' : `(SELECT max(${col}) FROM ${table} WHERE ${col} <= now() + INTERVAL '1 day')`;
  // Plain: whole months of traffic_minute are dropped by maintainPartitions; the DELETE catches the
  // DEFAULT partition. A hypertable loses whole chunks instead (`runRetention`): a DELETE there would
  // decompress old chunks only to empty them.
  const trafficMinute = `DELETE FROM traffic_minute WHERE minute < ${ref('traffic_minute', 'minute')} - INTERVAL '${RETENTION_DAYS.traffic_minute} days'`;
  return [
    ...(hypertable ? [] : [trafficMinute]),
    `DELETE FROM predictions WHERE ts < ${ref('predictions', 'ts')} - INTERVAL '${RETENTION_DAYS.predictions} days'`,
    `DELETE FROM reroutes WHERE ts < ${ref('reroutes', 'ts')} - INTERVAL '${RETENTION_DAYS.reroutes} days'`,
    `DELETE FROM incidents WHERE cleared_at < ${ref('incidents', 'detected_at')} - INTERVAL '${RETENTION_DAYS.incidents} days'`,
    `DELETE FROM quarantine WHERE received_at < now() - INTERVAL '${RETENTION_DAYS.quarantine} days'`,
    'DELETE FROM quarantine WHERE id < (SELECT max(id) - 100000 FROM quarantine)',
    'DELETE FROM revoked_tokens WHERE expires_at < now()',
  ];
}

export type StoragePolicy = 'timescaledb' | 'plain';

/**
 * Applies the storage layout at start: with TimescaleDB installable (a PostgreSQL server that has it,
 * or pglite+timescaledb) the hypertable and its policies; otherwise month partitions. A table already
 * partitioned by month (a plain start before TimescaleDB was installed) stays plain: TimescaleDB cannot
 * convert a partitioned table. A hypertable is never turned into partitions, even when a policy
 * statement fails at a later start.
 */
export async function applyStoragePolicy(
  db: Db,
  log: Logger,
  mode: ClockMode = 'wall',
): Promise<StoragePolicy> {
  if (await timescaleAvailable(db)) {
    try {
      await db.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
      const kind = await db.query<{ relkind: string }>(
        "SELECT relkind::text AS relkind FROM pg_class WHERE oid = to_regclass('traffic_minute')",
      );
      if (kind.rows[0]?.relkind === 'p')
        throw new Error('traffic_minute is already partitioned by month (TimescaleDB cannot convert it)');
      for (const sql of timescaleStatements()) await db.query(sql);
      await db.query(retentionSchedulingStatement(mode));
      log.info(
        { backend: db.backend, retention: mode === 'wall' ? 'policy' : 'hub (data clock)' },
        'TimescaleDB detected: hypertable, compression, retention and continuous aggregate in place',
      );
      return 'timescaledb';
    } catch (e) {
      if (await isHypertable(db)) {
        log.error(
          { err: (e as Error).message },
          'TimescaleDB policy setup failed; traffic_minute stays a hypertable',
        );
        return 'timescaledb';
      }
      log.warn(
        { err: (e as Error).message },
        'TimescaleDB present but not usable; plain tables with a retention job',
      );
    }
  }
  const converted = await partitionTrafficMinute(db);
  await maintainPartitions(db);
  log.info(
    { backend: db.backend, converted },
    'TimescaleDB not in use: traffic_minute partitioned by month, retention job',
  );
  return 'plain';
}

/**
 * The retention job (at start and hourly on the cycle leader). On a hypertable in `wall` mode the
 * TimescaleDB retention policy drops old chunks (background workers, or the hub's job runner on PGlite);
 * in `data` mode the policy is paused and chunks are dropped here, counted from the newest row.
 */
export async function runRetention(db: Db, mode: ClockMode = 'data'): Promise<void> {
  const hypertable = await isHypertable(db);
  if (!hypertable) await maintainPartitions(db, mode);
  else if (mode === 'data') await dropChunksFromNewest(db);
  for (const sql of retentionStatements(mode, hypertable)) await db.query(sql);
}

/** What `/health` says about storage: the backend, and which TimescaleDB features are in place. */
export const StorageInfoSchema = Type.Object({
  backend: Type.Union([Type.Literal('postgres'), Type.Literal('pglite'), Type.Literal('pglite+timescaledb')]),
  timescaledb: Type.Object({
    active: Type.Boolean(),
    version: Type.Union([Type.String(), Type.Null()]),
    hypertables: Type.Boolean(),
    compression: Type.Boolean(),
    continuous_aggregates: Type.Boolean(),
    retention: Type.Boolean(),
    /** who runs the policy jobs: the server's background workers, or the hub's cycle (PGlite has no workers) */
    jobs_run_by: Type.Union([Type.Literal('database'), Type.Literal('hub'), Type.Null()]),
  }),
});
export type StorageInfo = Static<typeof StorageInfoSchema>;

/** Reads back from the catalogs what storage is in place (at start, after `applyStoragePolicy`). */
export async function describeStorage(db: Db): Promise<StorageInfo> {
  const version = await timescaleVersion(db);
  const features = version
    ? await timescaleFeatures(db)
    : { hypertables: false, compression: false, continuous_aggregates: false, retention: false };
  return {
    backend: db.backend,
    timescaledb: {
      active: features.hypertables,
      version,
      ...features,
      jobs_run_by: features.hypertables ? (db.kind === 'pglite' ? 'hub' : 'database') : null,
    },
  };
}
