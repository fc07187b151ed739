import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { type Db, openFile } from './sqlite.js';

/** Left next to the database when a write met SQLITE_CORRUPT: the next start checks every page. */
export const SUSPECT_FILE = 'agent.sqlite.suspect';
/** Tables whose size is bounded by the outbox/quarantine caps, checked in full at every start. */
const SKIP_FULL_CHECK = new Set(['readings']);
/** Rows of the newest raw readings read back at start (the pages a power cut hits are the last written). */
const READINGS_TAIL_ROWS = 5000;

export function isCorruptError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/**
 * The start-up check of `file`: null when it is usable, else what is wrong. Bounded so that a Pi
 * with a 1 GB file starts in seconds, not minutes:
 * 1. the 100-byte header: magic string, a legal page size, a file length that is whole pages;
 * 2. the schema (sqlite_master) parses;
 * 3. `PRAGMA quick_check(T)` of every table and its indexes except `readings` — those are bounded by
 *    the caps (outbox 64 MB, quarantine 10k rows, minute accumulators of one open minute), and they
 *    are what the agent cannot afford to get wrong (seqs, watermarks, pending summaries);
 * 4. `readings` (raw data kept for diagnostics only, up to `dbMaxBytes`): its newest rows and the
 *    newest entries of its timestamp index are read back — a power cut damages the pages being
 *    written, which are the newest. A full `quick_check` of a 1 GB file took minutes on an SD card.
 * A corrupt page found later, while running, surfaces as SQLITE_CORRUPT on a write: the agent then
 * leaves a `SUSPECT_FILE` marker and exits, and the next start runs the full check (`full`) once.
 */
export function checkDbFile(file: string, full = false): string | null {
  if (!existsSync(file)) return null;
  const size = statSync(file).size;
  if (size === 0) return null; // SQLite treats an empty file as an empty database
  const header = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (header.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') return 'bad header magic';
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `bad page size ${raw}`;
  if (size % pageSize !== 0) return `file length ${size} is not a whole number of ${pageSize}-byte pages`;
  let db: Db | null = null;
  try {
    db = openFile(file);
    db.pragma('busy_timeout = 5000');
    const tables = (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all() as Array<{
        name: string;
      }>
    ).map((r) => r.name);
    if (full) {
      const res = (db.pragma('quick_check') as Array<{ quick_check: string }>)
        .map((r) => r.quick_check)
        .join('; ');
      return res === 'ok' ? null : `quick_check: ${res.slice(0, 300)}`;
    }
    for (const t of tables) {
      if (SKIP_FULL_CHECK.has(t)) continue;
      const rows = db.pragma(`quick_check("${t}")`) as Array<{ quick_check: string }>;
      const res = rows.map((r) => r.quick_check).join('; ');
      if (res !== 'ok') return `quick_check(${t}): ${res.slice(0, 300)}`;
    }
    if (tables.includes('readings')) {
      db.prepare(`SELECT * FROM readings ORDER BY id DESC LIMIT ${READINGS_TAIL_ROWS}`).all();
      db.prepare(`SELECT ts_ms FROM readings ORDER BY ts_ms DESC LIMIT ${READINGS_TAIL_ROWS}`).all();
    }
    return null;
  } catch (e) {
    if (isCorruptError(e)) return `${(e as { code: string }).code}: ${(e as Error).message}`;
    throw e;
  } finally {
    db?.close();
  }
}
