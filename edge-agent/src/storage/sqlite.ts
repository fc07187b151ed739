/**
 * The only module that loads the native SQLite addon (better-sqlite3), so a single-executable build
 * has one place to redirect the `.node` file. Everything else receives a `Db` handle.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';

export type Db = Database.Database;
export type Statement = Database.Statement;

export const DB_FILE = 'agent.sqlite';

/**
 * The addon as loaded by the single executable (process.dlopen of the copy it carries: it cannot be
 * `require`d from inside the executable). Unset, better-sqlite3 finds its own build in node_modules.
 */
let nativeBinding: object | undefined;

/** Makes every later `openDb` use this addon module (`process.dlopen` exports of better_sqlite3.node). */
export function useNativeBinding(addon: object | undefined): void {
  nativeBinding = addon;
}

export interface OpenOptions {
  /** `full` survives power loss (fsync per group commit); `normal` survives kill -9 of the process only. */
  sync?: 'full' | 'normal';
  readonly?: boolean;
  /** Page cache, KiB (default 2048: sized for a Pi; better-sqlite3 compiles in 16,000). */
  cacheKb?: number;
}

/** Schema migrations, applied in order; `user_version` records how far a file has come. */
const MIGRATIONS: string[] = [
  `CREATE TABLE readings (
     id INTEGER PRIMARY KEY,
     ts_ms INTEGER NOT NULL,
     sensor_id TEXT NOT NULL,
     road_id TEXT NOT NULL,
     speed REAL,
     flow REAL NOT NULL,
     occ REAL NOT NULL,
     flagged INTEGER NOT NULL DEFAULT 0,
     summarised INTEGER NOT NULL DEFAULT 0,
     recv_ms INTEGER NOT NULL
   );
   CREATE INDEX readings_open ON readings (ts_ms) WHERE summarised = 0;
   CREATE INDEX readings_ts ON readings (ts_ms);
   CREATE TABLE quarantine (
     id INTEGER PRIMARY KEY,
     recv_ms INTEGER NOT NULL,
     topic TEXT NOT NULL,
     code TEXT NOT NULL,
     errors TEXT NOT NULL,
     payload TEXT NOT NULL
   );
   CREATE TABLE outbox (
     stream TEXT NOT NULL,
     seq INTEGER NOT NULL,
     body TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     tries INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (stream, seq)
   ) WITHOUT ROWID;
   CREATE TABLE streams (
     stream TEXT PRIMARY KEY,
     next_seq INTEGER NOT NULL,
     watermark INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE skipped (
     stream TEXT NOT NULL,
     from_seq INTEGER NOT NULL,
     to_seq INTEGER NOT NULL,
     reason TEXT NOT NULL,
     PRIMARY KEY (stream, from_seq)
   );
   CREATE TABLE parked (
     stream TEXT NOT NULL,
     seq INTEGER NOT NULL,
     body TEXT NOT NULL,
     reason TEXT NOT NULL,
     parked_ms INTEGER NOT NULL
   );
   CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
   CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // v2: minute accumulators updated in each group commit, so closing a minute reads a few rows
  // instead of aggregating (and flagging) every raw reading of the minute — at 5k readings/s that
  // was a 300k-row UPDATE stalling ingest once a minute.
  `CREATE TABLE minute_acc (
     sensor_id TEXT NOT NULL,
     road_id TEXT NOT NULL,
     minute_ms INTEGER NOT NULL,
     count INTEGER NOT NULL,
     null_count INTEGER NOT NULL,
     speed_sum REAL NOT NULL,
     speed_min REAL,
     speed_max REAL,
     flow_sum REAL NOT NULL,
     occ_sum REAL NOT NULL,
     flagged INTEGER NOT NULL,
     PRIMARY KEY (sensor_id, road_id, minute_ms)
   ) WITHOUT ROWID;
   CREATE INDEX minute_acc_minute ON minute_acc (minute_ms);
   DROP INDEX readings_open;`,
  // v3: rows ever handed to the link; only never-sent rows may be rewritten by downsampling (the hub
  // may hold a sent row whose ack was lost, and it dedups by seq).
  `ALTER TABLE outbox ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;`,
  // v4: row and byte totals of the outbox (per stream) and of the parked table, kept by triggers in
  // the same transaction as the rows, so /health and /status read a few rows instead of summing a
  // 50 MB backlog on every probe (and a rollback, e.g. on SQLITE_FULL, rolls the totals back too).
  `CREATE TABLE totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL, bytes INTEGER NOT NULL);
   INSERT INTO totals (name, n, bytes)
     SELECT 'outbox:' || stream, count(*), sum(length(body)) FROM outbox GROUP BY stream;
   INSERT INTO totals (name, n, bytes) SELECT 'parked', count(*), coalesce(sum(length(body)), 0) FROM parked;
   CREATE TRIGGER outbox_totals_ins AFTER INSERT ON outbox BEGIN
     INSERT INTO totals (name, n, bytes) VALUES ('outbox:' || NEW.stream, 1, length(NEW.body))
       ON CONFLICT (name) DO UPDATE SET n = n + 1, bytes = bytes + excluded.bytes;
   END;
   CREATE TRIGGER outbox_totals_del AFTER DELETE ON outbox BEGIN
     UPDATE totals SET n = n - 1, bytes = bytes - length(OLD.body) WHERE name = 'outbox:' || OLD.stream;
   END;
   CREATE TRIGGER outbox_totals_upd AFTER UPDATE OF body ON outbox BEGIN
     UPDATE totals SET bytes = bytes - length(OLD.body) + length(NEW.body) WHERE name = 'outbox:' || NEW.stream;
   END;
   CREATE TRIGGER parked_totals_ins AFTER INSERT ON parked BEGIN
     INSERT INTO totals (name, n, bytes) VALUES ('parked', 1, length(NEW.body))
       ON CONFLICT (name) DO UPDATE SET n = n + 1, bytes = bytes + excluded.bytes;
   END;
   CREATE TRIGGER parked_totals_del AFTER DELETE ON parked BEGIN
     UPDATE totals SET n = n - 1, bytes = bytes - length(OLD.body) WHERE name = 'parked';
   END;`,
  // v5: one reading per (sensor, timestamp). QoS 1 is at-least-once: a kill -9 between COMMIT and
  // the PUBACK reaching the sensor makes it resend a reading already stored, which was then counted
  // twice in its minute summary. The group commit inserts OR IGNOREs against this index.
  `DELETE FROM readings WHERE id NOT IN (SELECT min(id) FROM readings GROUP BY sensor_id, ts_ms);
   CREATE UNIQUE INDEX readings_sensor_ts ON readings (sensor_id, ts_ms);`,
  // v6: the incarnation id, created with the database (protocol/README.md "Agent incarnations"): a
  // wiped or re-imaged agent gets a new one, so the hub's watermark of the old database never applies
  // to it. A database that already holds sequenced rows keeps the pre-incarnation identity ('').
  `INSERT OR IGNORE INTO kv (key, value) SELECT 'incarnation', json_quote(
     CASE WHEN EXISTS (SELECT 1 FROM streams) OR EXISTS (SELECT 1 FROM outbox) THEN ''
          ELSE lower(hex(randomblob(8))) END);`,
];

/** The schema version this build writes (`user_version` after all migrations). */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * A file as it is, no pragmas and no migrations (the start-up check and the salvage of a corrupt
 * file), through the same addon as `openDb`.
 */
export function openFile(file: string): Db {
  return new Database(file, {
    fileMustExist: true,
    ...(nativeBinding ? { nativeBinding: nativeBinding as unknown as string } : {}),
  });
}

/** `readonly`: for inspection (status, doctor, buffer) — no pragmas that write, no migrations. */
export function openDb(dataDir: string, opts: OpenOptions = {}): Db {
  if (!opts.readonly) mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DB_FILE), {
    readonly: opts.readonly ?? false,
    fileMustExist: opts.readonly ?? false,
    // better-sqlite3 12 takes the addon object too (lib/database.js); its @types say string only
    ...(nativeBinding ? { nativeBinding: nativeBinding as unknown as string } : {}),
  });
  // Readers (status CLI, diag queries) must not fail while a group commit holds the write lock.
  db.pragma('busy_timeout = 5000');
  // Memory sized for a Pi: a small page cache (the working set is the tail of `readings` and the
  // outbox), no memory-mapped I/O, temporary tables and indices on disk.
  db.pragma(`cache_size = -${Math.max(64, Math.round(opts.cacheKb ?? 2048))}`);
  db.pragma('mmap_size = 0');
  db.pragma('temp_store = FILE');
  if (opts.readonly) return db;
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.sync === 'normal' ? 'NORMAL' : 'FULL'}`);
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** `PRAGMA quick_check` result: 'ok' or the problems SQLite found. */
export function integrityCheck(db: Db): string {
  const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
  return rows.map((r) => r.quick_check).join('; ');
}

/**
 * WAL checkpoints in a worker thread. A checkpoint copies the WAL into the database file and fsyncs
 * it; on the main thread that stalls the event loop (and every PUBACK behind it) for several ms each
 * time the WAL reaches 1000 pages. The worker's PASSIVE checkpoints never block the writer; if the
 * worker dies, the main connection's automatic checkpoints come back.
 */
export function startCheckpointer(
  db: Db,
  dataDir: string,
  intervalMs: number,
  onError: (e: Error) => void,
): () => Promise<void> {
  if (nativeBinding) {
    // The worker would need better-sqlite3's JavaScript from node_modules, which the single
    // executable does not have: SQLite's own automatic checkpoints stay on.
    onError(new Error('checkpoint worker unavailable in the single executable'));
    return async () => {};
  }
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.module);
    const db = new Database(workerData.file);
    db.pragma('busy_timeout = 1000');
    const timer = setInterval(() => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} }, workerData.intervalMs);
    parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
  `;
  const worker = new Worker(code, {
    eval: true,
    workerData: {
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      file: join(dataDir, DB_FILE),
      intervalMs,
    },
  });
  db.pragma('wal_autocheckpoint = 0');
  let stopping = false;
  const fallBack = () => {
    try {
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
    } catch {
      /* closing */
    }
  };
  worker.on('error', (e) => {
    fallBack();
    onError(e);
  });
  let exited = false;
  const exit = new Promise<void>((r) =>
    worker.once('exit', () => {
      exited = true;
      if (!stopping) fallBack();
      r();
    }),
  );
  return async () => {
    stopping = true;
    if (exited) return;
    worker.postMessage('stop');
    // not unref'd: a pending stop must keep the process alive until the worker is gone
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exit, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    if (!exited) await worker.terminate();
  };
}
