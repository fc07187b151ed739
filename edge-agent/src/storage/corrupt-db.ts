import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Alarms } from '../health/alarms.js';
import type { Logger } from '../logger.js';
import { SUSPECT_FILE } from './db-check.js';
import type { MetaStore } from './meta-store.js';
import { RECOVERY_KEY, type RecoveryRecord } from './open-or-recover.js';

/**
 * CF_DB_CORRUPT after a start that moved a corrupt file aside: the alarm stays while the moved-aside
 * file is there for an operator to look at.
 */
export function raiseRecoveryAlarm(meta: MetaStore, alarms: Alarms): void {
  const rec = meta.get<RecoveryRecord>(RECOVERY_KEY);
  if (rec && existsSync(rec.moved_to))
    alarms.set(
      'CF_DB_CORRUPT',
      true,
      `corrupt database moved to ${rec.moved_to} (${rec.reason}); salvaged ${JSON.stringify(rec.salvaged)}, lost seqs ${JSON.stringify(rec.lost_seqs)}`,
      rec.at_ms,
    );
}

/**
 * SQLITE_CORRUPT on a write while running: the file is marked so the next start checks every page
 * (and moves it aside if the damage is real). A marker that cannot be written is logged, not thrown:
 * the caller still has to stop the agent.
 */
export function markSuspect(dataDir: string, e: unknown, log: Logger): void {
  try {
    writeFileSync(join(dataDir, SUSPECT_FILE), `${new Date().toISOString()} ${(e as Error).message}\n`);
  } catch (err) {
    log.error({ err }, 'could not write the corruption marker');
  }
}
