import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { checkDbFile, SUSPECT_FILE } from './db-check.js';
import { moveAside, type SalvageReport, salvage } from './db-salvage.js';
import { DB_FILE, type Db, type OpenOptions, openDb } from './sqlite.js';

/** kv key of the last recovery (what was moved where, what was salvaged): the CF_DB_CORRUPT alarm. */
export const RECOVERY_KEY = 'db_recovery';
export interface RecoveryRecord extends SalvageReport {
  at_ms: number;
  reason: string;
  check_ms: number;
}

/**
 * Opens the agent's database, checking it first (`checkDbFile`, bounded). A corrupt file — power
 * loss on a cheap SD card — is moved aside with a timestamp, what still reads back is salvaged into a
 * fresh file, and the agent starts on that instead of crash-looping. The record of it is kept in the
 * fresh file (`db_recovery`) and shown as the `CF_DB_CORRUPT` alarm.
 */
export function openOrRecover(
  dataDir: string,
  opts: OpenOptions,
  log: Logger,
): { db: Db; recovery: RecoveryRecord | null } {
  const file = join(dataDir, DB_FILE);
  const suspect = join(dataDir, SUSPECT_FILE);
  const full = existsSync(suspect);
  const t0 = performance.now();
  const problem = checkDbFile(file, full);
  const checkMs = Math.round(performance.now() - t0);
  if (full) rmSync(suspect, { force: true });
  if (problem === null) {
    log.info({ check_ms: checkMs, full }, 'database check passed');
    return { db: openDb(dataDir, opts), recovery: null };
  }
  log.error({ problem, file }, 'database file is corrupt: moving it aside and salvaging what reads back');
  const movedTo = moveAside(file);
  const db = openDb(dataDir, opts);
  const t1 = performance.now();
  const report = salvage(movedTo, db);
  const recovery: RecoveryRecord = {
    ...report,
    moved_to: movedTo,
    at_ms: Date.now(),
    reason: problem,
    check_ms: checkMs,
  };
  db.prepare(
    'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(RECOVERY_KEY, JSON.stringify(recovery));
  log.warn(
    { ...recovery, salvage_ms: Math.round(performance.now() - t1) },
    'started on a fresh database with what was salvaged',
  );
  return { db, recovery };
}
