import { existsSync, renameSync } from 'node:fs';
import { SEQUENCED_STREAMS } from '@cityflow/protocol';
import { type Db, openFile } from './sqlite.js';

/** Raw readings copied from a corrupt file, newest first (diagnostics data; the time bound matters more). */
const READINGS_SALVAGE_MAX = 100_000;
/** Tables the fresh file rebuilds itself (trigger-kept totals) or that SQLite owns. */
const NOT_COPIED = new Set(['totals']);
const CHUNK = 500;

export interface SalvageReport {
  moved_to: string;
  /** rows copied per table */
  salvaged: Record<string, number>;
  /** outbox seqs that could not be read back, per stream: sent to the hub as skipped (`corrupt`) */
  lost_seqs: Record<string, number>;
  /** tables that could not be read at all */
  unreadable: string[];
}

/** Moves `file` and its -wal/-shm aside as `<file>.corrupt-<time>` (the WAL keeps its pairing). */
export function moveAside(file: string, nowMs = Date.now()): string {
  const stamp = new Date(nowMs).toISOString().replace(/[:.]/g, '-');
  const to = `${file}.corrupt-${stamp}`;
  renameSync(file, to);
  for (const ext of ['-wal', '-shm']) if (existsSync(file + ext)) renameSync(file + ext, to + ext);
  return to;
}

/**
 * Copies what still reads back from the moved-aside file into the fresh database (already migrated),
 * in one transaction. Integer-keyed tables are read in key order in chunks; when a chunk hits a
 * damaged page the reader jumps ahead (1, 2, 4, ... keys) until reads succeed again, so one bad page
 * costs the rows on it, not the rest of the table. The outbox keeps its seqs, and its stream counters
 * are carried over (or rebuilt from the rows), so the hub's watermark stays continuous: seqs that did
 * not read back become `skipped` ranges (reason `corrupt`), which the chaos table reports as lost.
 */
export function salvage(fromFile: string, fresh: Db): Omit<SalvageReport, 'moved_to'> {
  const report: Omit<SalvageReport, 'moved_to'> = { salvaged: {}, lost_seqs: {}, unreadable: [] };
  let old: Db;
  try {
    old = openFile(fromFile);
  } catch {
    report.unreadable.push('*');
    return report;
  }
  try {
    let tables: string[] = [];
    try {
      tables = (
        old
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
          .all() as Array<{
          name: string;
        }>
      ).map((r) => r.name);
    } catch {
      report.unreadable.push('sqlite_master');
      return report;
    }
    const freshTables = new Set(
      (
        fresh.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
      ).map((r) => r.name),
    );
    fresh.transaction(() => {
      const idBefore = kvValue(fresh, IDENTITY_KEY);
      for (const t of tables) {
        if (NOT_COPIED.has(t) || !freshTables.has(t)) continue;
        const n = copyTable(old, fresh, t);
        if (n === null) report.unreadable.push(t);
        else report.salvaged[t] = n;
      }
      // The fresh file made an identity (incarnation) and the old one's did not read back: the hub
      // knows nothing under the new identity, so its streams start again at seq 1.
      const identityLost = idBefore !== undefined && kvValue(fresh, IDENTITY_KEY) === idBefore;
      if (identityLost) fresh.prepare("DELETE FROM kv WHERE key LIKE ? || '.%'").run(IDENTITY_KEY);
      for (const s of SEQUENCED_STREAMS) {
        if (identityLost) renumberFromOne(fresh, s);
        const lost = repairStream(fresh, s);
        if (lost > 0) report.lost_seqs[s] = lost;
      }
    })();
  } finally {
    old.close();
  }
  return report;
}

/** The kv key of the database's identity, when the schema has one (the incarnation rule of fault 1). */
const IDENTITY_KEY = 'incarnation';

function kvValue(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

/** A stream under a new identity: rows keep their order as seqs 1..n, nothing acked, nothing skipped. */
function renumberFromOne(db: Db, stream: string): void {
  const rows = db.prepare('SELECT seq FROM outbox WHERE stream = ? ORDER BY seq').all(stream) as Array<{
    seq: number;
  }>;
  const move = db.prepare('UPDATE outbox SET seq = ?, sent = 0 WHERE stream = ? AND seq = ?');
  // ascending and never upwards (row i moves to i + 1 <= its seq), so no key collides
  for (const [i, r] of rows.entries()) move.run(i + 1, stream, r.seq);
  db.prepare('DELETE FROM skipped WHERE stream = ?').run(stream);
  db.prepare(
    `INSERT INTO streams (stream, next_seq, watermark) VALUES (?, ?, 0)
     ON CONFLICT (stream) DO UPDATE SET next_seq = excluded.next_seq, watermark = 0`,
  ).run(stream, rows.length + 1);
}

function columns(db: Db, table: string): string[] {
  return (db.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((r) => r.name);
}

/** Rows copied, or null when not even the first read worked. */
function copyTable(old: Db, fresh: Db, table: string): number | null {
  const freshCols = new Set(columns(fresh, table));
  let cols: string[];
  try {
    cols = columns(old, table).filter((c) => freshCols.has(c));
  } catch {
    return null;
  }
  const list = cols.map((c) => `"${c}"`).join(', ');
  const ins = fresh.prepare(
    `INSERT OR REPLACE INTO "${table}" (${list}) VALUES (${cols.map(() => '?').join(', ')})`,
  );
  const put = (rows: unknown[]) => {
    for (const r of rows) ins.run(...cols.map((c) => (r as Record<string, unknown>)[c]));
  };
  if (table === 'outbox') {
    let n = 0;
    for (const s of SEQUENCED_STREAMS)
      n += walk(
        (after) =>
          old
            .prepare(
              `SELECT ${list}, seq AS _k FROM outbox WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ${CHUNK}`,
            )
            .iterate(s, after),
        put,
        Number.MAX_SAFE_INTEGER,
      );
    return n;
  }
  const hasRowid = (() => {
    try {
      old.prepare(`SELECT rowid FROM "${table}" LIMIT 1`).all();
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasRowid) {
    // small WITHOUT ROWID tables (minute accumulators of the open minutes): all or nothing
    try {
      const rows = old.prepare(`SELECT ${list} FROM "${table}"`).all();
      put(rows);
      return rows.length;
    } catch {
      return null;
    }
  }
  const newestFirst = table === 'readings';
  return walk(
    (after) =>
      old
        .prepare(
          newestFirst
            ? `SELECT ${list}, rowid AS _k FROM "${table}" WHERE rowid < ? ORDER BY rowid DESC LIMIT ${CHUNK}`
            : `SELECT ${list}, rowid AS _k FROM "${table}" WHERE rowid > ? ORDER BY rowid LIMIT ${CHUNK}`,
        )
        .iterate(newestFirst ? -after : after),
    put,
    newestFirst ? READINGS_SALVAGE_MAX : Number.MAX_SAFE_INTEGER,
    newestFirst,
  );
}

/**
 * Reads rows keyed by an integer `_k` after `after`, chunk by chunk and row by row (rows read before
 * a damaged page are kept); on a read error jumps ahead of the last good key by 1, 2, 4, ... keys.
 * Returns the rows copied.
 */
function walk(
  read: (after: number) => Iterable<unknown>,
  put: (rows: unknown[]) => void,
  max: number,
  descending = false,
): number {
  // descending walks keep `after` as the negated key so one loop serves both directions
  let after = descending ? -Number.MAX_SAFE_INTEGER : 0;
  let n = 0;
  let jump = 1;
  let failures = 0;
  while (n < max && failures < 64) {
    let got = 0;
    try {
      for (const row of read(after)) {
        put([row]);
        n++;
        got++;
        const k = (row as { _k: number })._k;
        after = descending ? -k : k;
        jump = 1;
        if (n >= max) break;
      }
    } catch {
      failures++;
      after += jump;
      jump *= 2;
      continue;
    }
    if (got === 0) break;
  }
  return n;
}

/**
 * Makes a stream's counters agree with the rows salvaged: next_seq above every row, the watermark
 * below every row, and each seq in between that did not read back recorded as skipped (`corrupt`).
 */
function repairStream(db: Db, stream: string): number {
  const st = db.prepare('SELECT next_seq, watermark FROM streams WHERE stream = ?').get(stream) as
    | { next_seq: number; watermark: number }
    | undefined;
  const r = db.prepare('SELECT min(seq) AS lo, max(seq) AS hi FROM outbox WHERE stream = ?').get(stream) as {
    lo: number | null;
    hi: number | null;
  };
  if (!st && r.hi === null) return 0;
  const next = Math.max(st?.next_seq ?? 1, (r.hi ?? 0) + 1);
  const watermark = Math.min(st?.watermark ?? (r.lo ?? next) - 1, (r.lo ?? next) - 1);
  db.prepare(
    `INSERT INTO streams (stream, next_seq, watermark) VALUES (?, ?, ?)
     ON CONFLICT (stream) DO UPDATE SET next_seq = excluded.next_seq, watermark = excluded.watermark`,
  ).run(stream, next, watermark);
  const present = new Set(
    (
      db.prepare('SELECT seq FROM outbox WHERE stream = ? AND seq > ?').all(stream, watermark) as Array<{
        seq: number;
      }>
    ).map((x) => x.seq),
  );
  const skipped = db.prepare('SELECT from_seq, to_seq FROM skipped WHERE stream = ?').all(stream) as Array<{
    from_seq: number;
    to_seq: number;
  }>;
  const isSkipped = (s: number) => skipped.some((k) => s >= k.from_seq && s <= k.to_seq);
  const ins = db.prepare(
    "INSERT OR REPLACE INTO skipped (stream, from_seq, to_seq, reason) VALUES (?, ?, ?, 'corrupt')",
  );
  let lost = 0;
  let from: number | null = null;
  for (let s = watermark + 1; s <= next; s++) {
    const missing = s < next && !present.has(s) && !isSkipped(s);
    if (missing) {
      lost++;
      if (from === null) from = s;
    } else if (from !== null) {
      ins.run(stream, from, s - 1);
      from = null;
    }
  }
  return lost;
}
