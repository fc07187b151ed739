import { statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Alarms } from '../health/alarms.js';
import type { Logger } from '../logger.js';

/**
 * Free bytes the data directory's filesystem must have again before the disk-full alarm clears: room
 * for a few group commits and a WAL checkpoint. A constant rather than a setting: it only decides when
 * the alarm goes off, never whether a reading is stored (SQLite answers that, commit by commit).
 */
export const DISK_FULL_CLEAR_BYTES = 1024 * 1024;
/**
 * A file of this size kept in the data directory and deleted when the disk fills: SQLite needs room
 * in its WAL even to delete rows, so without it the policy could not free anything on a full disk.
 */
export const DISK_RESERVE_BYTES = 1024 * 1024;
export const RESERVE_FILE = 'disk-reserve.bin';
/** The emergency policy run at most this often while commits keep failing (one per second is plenty). */
const FREE_EVERY_MS = 1000;

export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL';
}

/** Free bytes of the filesystem that holds `dir` (null when the platform cannot tell). */
export function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * Disk full (`SQLITE_FULL`): the group commit rolled back, so nothing of it is acknowledged (sensors
 * retry) and no outbox seq moved (seqs are read from SQLite inside the transaction). This guard
 * raises `CF_DISK_FULL`, counts what was refused, deletes its reserve file (room for the WAL) and
 * runs the outbox policy's emergency pass (`free`: raw readings first, then forecasts, downsampling,
 * summaries) so SQLite can reuse the freed pages without growing the file. The alarm clears by itself
 * once the filesystem has the reserve plus `DISK_FULL_CLEAR_BYTES` free again and a commit
 * succeeded; the reserve is then written again.
 */
export class DiskFullGuard {
  private full = false;
  private lastFreeMs = 0;
  private lastCheckMs = 0;
  rejected = 0;

  constructor(
    private readonly dataDir: string,
    private readonly alarms: Alarms,
    private readonly free: () => Record<string, number>,
    private readonly onChange: (full: boolean, rejected: number) => void,
    private readonly log: Logger,
  ) {}

  /** Writes the reserve file (best effort: a disk already full at start has none to give back). */
  start(): void {
    try {
      writeFileSync(join(this.dataDir, RESERVE_FILE), Buffer.alloc(DISK_RESERVE_BYTES));
    } catch (err) {
      this.log.warn({ err }, 'could not write the disk reserve file');
      this.dropReserve();
    }
  }

  private dropReserve(): void {
    try {
      unlinkSync(join(this.dataDir, RESERVE_FILE));
    } catch {
      /* none */
    }
  }

  get isFull(): boolean {
    return this.full;
  }

  /** A write failed; returns true when it was the disk being full (handled here). */
  onWriteError(e: unknown, items: number): boolean {
    if (!isDiskFull(e)) return false;
    this.rejected += items;
    if (!this.full) {
      this.full = true;
      this.alarms.set('CF_DISK_FULL', true, `disk full in ${this.dataDir}: readings are not acknowledged`);
      this.log.error({ dataDir: this.dataDir, free: freeBytes(this.dataDir) }, 'disk full (SQLITE_FULL)');
    }
    this.onChange(true, this.rejected);
    const now = Date.now();
    if (now - this.lastFreeMs >= FREE_EVERY_MS) {
      this.lastFreeMs = now;
      this.dropReserve();
      try {
        const dropped = this.free();
        this.log.warn({ dropped }, 'disk full: outbox policy freed space');
      } catch (err) {
        this.log.warn({ err }, 'disk full: freeing space failed (will retry)');
      }
    }
    return true;
  }

  /** A write succeeded (or housekeeping runs): clears the alarm once space is back. */
  check(force = false): void {
    if (!this.full) return;
    const now = Date.now();
    if (!force && now - this.lastCheckMs < FREE_EVERY_MS) return;
    this.lastCheckMs = now;
    const free = freeBytes(this.dataDir);
    if (free !== null && free < DISK_FULL_CLEAR_BYTES + DISK_RESERVE_BYTES) return;
    this.full = false;
    this.start();
    this.alarms.set('CF_DISK_FULL', false);
    this.onChange(false, this.rejected);
    this.log.info({ free, rejected: this.rejected }, 'disk space is back; disk-full alarm cleared');
  }
}
