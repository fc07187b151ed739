import type { ClockMode } from '../config.js';
import type { Db, Queryable } from './db.js';
import { RETENTION_DAYS } from './storage-policy-constants.js';
import { isHypertable } from './timescale.js';

/**
 * Plain PostgreSQL (and PGlite) without TimescaleDB: `traffic_minute` is declaratively partitioned by
 * month on `minute`, with a DEFAULT partition so an insert never fails for want of a partition. The
 * maintenance job creates the month partitions around the data and drops whole months past retention
 * (a DROP instead of a long DELETE). Month names: traffic_minute_yYYYYmMM.
 */
export async function partitionTrafficMinute(db: Db): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.query(
      "SELECT pg_advisory_xact_lock(hashtext($1 || '/' || current_database() || '/' || current_schema()))",
      ['cityflow-partitions'],
    );
    const r = await tx.query<{ relkind: string }>(
      "SELECT c.relkind::text AS relkind FROM pg_class c WHERE c.oid = to_regclass('traffic_minute')",
    );
    if (r.rows[0]?.relkind !== 'r') return false; // already partitioned
    // A hypertable is a plain table ('r') too: converting it would copy its chunks into partitions.
    if (await isHypertable(tx)) return false;
    await tx.exec(`
      ALTER TABLE traffic_minute RENAME TO traffic_minute_unpartitioned;
      ALTER INDEX traffic_minute_pkey RENAME TO traffic_minute_unpartitioned_pkey;
      ALTER INDEX traffic_minute_road_minute RENAME TO traffic_minute_unpartitioned_road_minute;
      CREATE TABLE traffic_minute (LIKE traffic_minute_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (minute);
      ALTER TABLE traffic_minute ADD PRIMARY KEY (sensor_id, minute);
      CREATE INDEX traffic_minute_road_minute ON traffic_minute (road_id, minute);
      CREATE TABLE traffic_minute_default PARTITION OF traffic_minute DEFAULT;
      INSERT INTO traffic_minute SELECT * FROM traffic_minute_unpartitioned;
      DROP TABLE traffic_minute_unpartitioned;
    `);
    return true;
  });
}

const monthStart = (ms: number, add = 0) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
};
export const monthPartitionName = (ms: number) => {
  const d = new Date(ms);
  return `traffic_minute_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

/**
 * Creates the month partition holding `ms` if missing. Rows already in DEFAULT for that month are
 * moved into it in the same transaction (PostgreSQL refuses the partition while DEFAULT holds them).
 */
export async function ensureMonthPartition(db: Db, ms: number): Promise<string> {
  const name = monthPartitionName(ms);
  const from = new Date(monthStart(ms)).toISOString();
  const to = new Date(monthStart(ms, 1)).toISOString();
  await db.transaction(async (tx) => {
    await tx.query(
      "SELECT pg_advisory_xact_lock(hashtext($1 || '/' || current_database() || '/' || current_schema()))",
      ['cityflow-partitions'],
    );
    if ((await tx.query('SELECT 1 FROM pg_class WHERE oid = to_regclass($1)', [name])).rows.length) return;
    await tx.exec(`
      CREATE TEMP TABLE moving ON COMMIT DROP AS
        SELECT * FROM traffic_minute_default WHERE minute >= '${from}' AND minute < '${to}';
      DELETE FROM traffic_minute_default WHERE minute >= '${from}' AND minute < '${to}';
      CREATE TABLE ${name} PARTITION OF traffic_minute FOR VALUES FROM ('${from}') TO ('${to}');
      INSERT INTO traffic_minute SELECT * FROM moving;
    `);
  });
  return name;
}

/**
 * Month partitions for the newest data's month and the next; drops months entirely past retention,
 * counted from now in `wall` mode and from the newest data in `data` mode. "Newest" ignores rows more
 * than a day ahead of the wall clock (one future timestamp must not age out the history).
 */
export async function maintainPartitions(
  db: Db,
  mode: ClockMode = 'data',
): Promise<{ created: string[]; dropped: string[] }> {
  const kind = await db.query<{ relkind: string }>(
    "SELECT relkind::text AS relkind FROM pg_class WHERE oid = to_regclass('traffic_minute')",
  );
  if (kind.rows[0]?.relkind !== 'p') return { created: [], dropped: [] };
  const newest = await db.query<{ m: Date | null }>(
    "SELECT max(minute) AS m FROM traffic_minute WHERE minute <= now() + INTERVAL '1 day'",
  );
  const ref = newest.rows[0]?.m ? new Date(newest.rows[0].m).getTime() : Date.now();
  const created = [await ensureMonthPartition(db, ref), await ensureMonthPartition(db, monthStart(ref, 1))];
  const cutoff = (mode === 'wall' ? Date.now() : ref) - RETENTION_DAYS.traffic_minute * 86_400_000;
  const parts = await listMonthPartitions(db);
  const dropped: string[] = [];
  for (const p of parts)
    if (monthStart(p.startMs, 1) <= cutoff) {
      await db.query(`DROP TABLE ${p.name}`);
      dropped.push(p.name);
    }
  return { created, dropped };
}

export async function listMonthPartitions(db: Queryable): Promise<Array<{ name: string; startMs: number }>> {
  const r = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass('traffic_minute') AND c.relname ~ '^traffic_minute_y[0-9]{4}m[0-9]{2}$'`,
  );
  return r.rows.map(({ name }) => {
    const m = name.match(/y(\d{4})m(\d{2})$/)!;
    return { name, startMs: Date.UTC(Number(m[1]), Number(m[2]) - 1, 1) };
  });
}
