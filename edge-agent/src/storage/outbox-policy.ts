import type { SequencedStream } from '@cityflow/protocol';
import type { AgentConfig } from '../config.js';
import { C, type MetaStore } from './meta-store.js';
import type { OutboxStore } from './outbox-store.js';
import type { Db } from './sqlite.js';
import type { ReadingsStore } from './readings-store.js';
import { downsampleGroups, mergeSummaries } from './downsample.js';

export interface Caps {
  outboxMaxBytes: number;
  outboxMaxAgeMs: number;
  dbMaxBytes: number;
  rawRetentionMs: number;
  quarantineMax: number;
  /** raw readings deleted per statement when thinning (small under disk full: each delete needs WAL room) */
  thinChunk?: number;
}

export function capsOf(c: AgentConfig): Caps {
  return {
    outboxMaxBytes: c.outboxMaxBytes,
    outboxMaxAgeMs: c.outboxMaxAgeH * 3_600_000,
    dbMaxBytes: c.dbMaxBytes,
    rawRetentionMs: c.rawRetentionH * 3_600_000,
    quarantineMax: c.quarantineMax,
  };
}

/**
 * The stated policy when storage runs out, least valuable data first:
 * 1. raw readings already summarised: deleted after `rawRetentionH` (retention, not a drop), and
 *    thinned oldest-first when the database file passes `dbMaxBytes` (`raw_thinned`);
 * 2. outbox items older than `outboxMaxAgeH` (`age`) — nobody acts on week-old traffic;
 * 3. over `outboxMaxBytes`: oldest forecasts first (`full_forecast`: a forecast whose target time has
 *    passed is worth least); then never-sent minute summaries are downsampled to 5-minute ones,
 *    oldest first (`downsampled`: sample counts stay exact, per-minute detail goes); only then the
 *    oldest summaries are dropped (`full_summary`);
 * 4. status, last will and alarms never go through the outbox, so nothing here can drop them.
 * Dropped seqs become `skipped` ranges for the hub; every drop is counted by reason.
 * Byte-cap drops free 10 % headroom so the cap is not hit again on the next tick.
 */
export function enforceCaps(
  db: Db,
  outbox: OutboxStore,
  readings: ReadingsStore,
  meta: MetaStore,
  caps: Caps,
  nowMs: number,
  /** "now" for reading timestamps (the data clock in `--clock data`), for raw retention */
  readingsNowMs: number = nowMs,
): Record<string, number> {
  const dropped: Record<string, number> = {};
  const count = (reason: string, n: number) => {
    if (n <= 0) return;
    dropped[reason] = (dropped[reason] ?? 0) + n;
    meta.add(C.droppedBy(reason), n);
  };

  if (readingsNowMs > 0) readings.pruneBefore(readingsNowMs - caps.rawRetentionMs);
  readings.boundQuarantine(caps.quarantineMax);
  for (let i = 0; i < 100 && dbBytes(db) > caps.dbMaxBytes; i++) {
    const n = readings.thin(caps.thinChunk ?? 10_000);
    count('raw_thinned', n);
    if (n === 0) break;
  }

  const streams: SequencedStream[] = ['forecast', 'summary'];
  for (const s of streams)
    count('age', outbox.drop(s, outbox.olderThan(s, nowMs - caps.outboxMaxAgeMs), 'age'));

  let excess = streams.reduce((a, s) => a + outbox.stats(s).bytes, 0) - caps.outboxMaxBytes;
  if (excess > 0) {
    excess += Math.floor(caps.outboxMaxBytes * 0.1);
    // forecasts first (dropped), then summaries are downsampled before any is dropped
    while (excess > 0) {
      const rows = outbox.oldest('forecast', 1000);
      if (rows.length === 0) break;
      const pick: number[] = [];
      for (const r of rows) {
        if (excess <= 0) break;
        pick.push(r.seq);
        excess -= r.bytes;
      }
      count('full_forecast', outbox.drop('forecast', pick, 'full_forecast'));
    }
    excess -= downsample(outbox, excess, count);
    for (const s of streams) {
      while (excess > 0) {
        const rows = outbox.oldest(s, 1000);
        if (rows.length === 0) break;
        const pick: number[] = [];
        for (const r of rows) {
          if (excess <= 0) break;
          pick.push(r.seq);
          excess -= r.bytes;
        }
        count(`full_${s}`, outbox.drop(s, pick, `full_${s}`));
      }
    }
  }
  return dropped;
}

/**
 * Merges never-sent minute summaries into 5-minute ones, oldest first, until `excess` bytes are freed.
 * The merged record keeps the group's smallest seq; the others become `skipped` (`downsampled`).
 * Returns the bytes freed.
 */
function downsample(outbox: OutboxStore, excess: number, count: (reason: string, n: number) => void): number {
  let freed = 0;
  for (let round = 0; freed < excess && round < 100; round++) {
    const rows = outbox.oldestUnsent('summary', 2000);
    const groups = downsampleGroups(rows);
    if (groups.length === 0) break;
    for (const g of groups) {
      if (freed >= excess) break;
      const before = g.reduce((a, r) => a + JSON.stringify(r.body).length, 0);
      const merged = mergeSummaries(g.map((r) => r.body));
      const [keep, ...rest] = g;
      outbox.rewrite('summary', keep!.seq, merged);
      count(
        'downsampled',
        outbox.drop(
          'summary',
          rest.map((r) => r.seq),
          'downsampled',
        ),
      );
      freed += before - JSON.stringify(merged).length;
    }
  }
  return freed;
}

/** Bytes in use in the database file (pages minus free pages; the WAL is checkpointed separately). */
export function dbBytes(db: Db): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}

/**
 * Disk full: the same policy, in the same order, with caps just under what is held now, so it frees
 * pages SQLite can reuse without growing the file. Raw readings first (10 % of the file's used
 * bytes); only when none are left to thin does it lower the outbox cap 10 % below the backlog
 * (forecasts, then downsampling, then the oldest summaries, each drop counted and sent as skipped).
 */
export function freeForDiskFull(
  db: Db,
  outbox: OutboxStore,
  readings: ReadingsStore,
  meta: MetaStore,
  caps: Caps,
  nowMs: number,
  readingsNowMs: number = nowMs,
): Record<string, number> {
  // Move the WAL's content into the file so the next writes restart at the WAL's beginning instead
  // of growing it (the file pages exist already; a checkpoint needs no new space unless pages were added).
  db.pragma('wal_checkpoint(PASSIVE)');
  const used = dbBytes(db);
  const tight = { ...caps, dbMaxBytes: Math.min(caps.dbMaxBytes, Math.floor(used * 0.9)), thinChunk: 500 };
  const dropped = enforceCaps(db, outbox, readings, meta, tight, nowMs, readingsNowMs);
  if ((dropped.raw_thinned ?? 0) > 0) return dropped;
  const backlog = outbox.stats('summary').bytes + outbox.stats('forecast').bytes;
  const tighter = { ...tight, outboxMaxBytes: Math.max(1, Math.floor(backlog * 0.9)) };
  const more = enforceCaps(db, outbox, readings, meta, tighter, nowMs, readingsNowMs);
  for (const [k, v] of Object.entries(more)) dropped[k] = (dropped[k] ?? 0) + v;
  return dropped;
}
