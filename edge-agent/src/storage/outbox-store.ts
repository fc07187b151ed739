import type { SequencedStream } from '@cityflow/protocol';
import type { Db, Statement } from './sqlite.js';

export interface OutboxRow {
  seq: number;
  body: string;
  created_ms: number;
  tries: number;
}

export interface StreamStats {
  pending: number;
  bytes: number;
  oldestMs: number | null;
  watermark: number;
  highestSeq: number;
}

/** Ranges `[from, to]` from a sorted list of integers. */
export function toRanges(seqs: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

/**
 * The store-and-forward outbox: one row per item, a persisted per-stream seq (1, 2, 3, ...), rows
 * deleted only when the hub's contiguous ack watermark covers them. Bodies are stored without their
 * seq (it is spliced in at send time) so renumbering after a wiped agent is a single UPDATE.
 */
export class OutboxStore {
  private readonly insertRow: Statement;
  private readonly saveNext: Statement;
  private readonly selectStream: Statement;
  private readonly selectAfter: Statement;
  private readonly deleteUpTo: Statement;
  private readonly bumpTries: Statement;
  private readonly selectTotals: Statement;
  private readonly selectOldest: Statement;

  /** rows created before this (the process start) belong to the database as it was found */
  private readonly startedMs = Date.now();

  constructor(private readonly db: Db) {
    this.insertRow = db.prepare('INSERT INTO outbox (stream, seq, body, created_ms) VALUES (?, ?, ?, ?)');
    this.saveNext = db.prepare(
      `INSERT INTO streams (stream, next_seq, watermark) VALUES (?, ?, ?)
       ON CONFLICT (stream) DO UPDATE SET next_seq = excluded.next_seq, watermark = excluded.watermark`,
    );
    this.selectStream = db.prepare(PROBE_SQL.stream);
    this.selectAfter = db.prepare(
      'SELECT seq, body, created_ms, tries FROM outbox WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.deleteUpTo = db.prepare('DELETE FROM outbox WHERE stream = ? AND seq <= ?');
    this.bumpTries = db.prepare('UPDATE outbox SET tries = tries + 1 WHERE stream = ? AND seq = ?');
    this.selectTotals = db.prepare(PROBE_SQL.totals);
    this.selectOldest = db.prepare(PROBE_SQL.oldest);
  }

  /**
   * The stream's next seq and watermark, read from SQLite every time rather than cached: inside a
   * transaction that later rolls back (SQLITE_FULL) a cached counter would already have moved on and
   * left a seq gap the hub's contiguous watermark never passes. A primary-key lookup costs microseconds.
   */
  private stream(stream: SequencedStream): { next: number; watermark: number } {
    const r = this.selectStream.get(stream) as { next_seq: number; watermark: number } | undefined;
    return { next: r?.next_seq ?? 1, watermark: r?.watermark ?? 0 };
  }

  /** Appends one item (call inside a transaction); returns its seq. */
  append(stream: SequencedStream, body: object, nowMs: number): number {
    const { next: seq, watermark } = this.stream(stream);
    this.insertRow.run(stream, seq, JSON.stringify(body), nowMs);
    this.saveNext.run(stream, seq + 1, watermark);
    return seq;
  }

  /**
   * The incarnation a stream's batches carry ('' for a database older than the rule). A stream forked
   * from a restored image moves to `<incarnation>.<n>` (see applyAck).
   */
  incarnation(stream: SequencedStream): string {
    const kv = this.db.prepare('SELECT value FROM kv WHERE key = ?');
    const own = kv.get(`incarnation.${stream}`) as { value: string } | undefined;
    const base = kv.get('incarnation') as { value: string } | undefined;
    return JSON.parse((own ?? base)?.value ?? '""') as string;
  }

  watermark(stream: SequencedStream): number {
    return this.stream(stream).watermark;
  }

  highestSeq(stream: SequencedStream): number {
    return this.stream(stream).next - 1;
  }

  after(stream: SequencedStream, afterSeq: number, limit: number): OutboxRow[] {
    return this.selectAfter.all(stream, afterSeq, limit) as OutboxRow[];
  }

  /** Marks rows as handed to the link (one UPDATE per batch: seqs of a batch are ascending). */
  markSent(stream: SequencedStream, seqs: number[]): void {
    if (seqs.length === 0) return;
    const set = this.db.prepare('UPDATE outbox SET sent = 1 WHERE stream = ? AND seq = ?');
    this.db.transaction(() => {
      for (const s of seqs) set.run(stream, s);
    })();
  }

  /** The oldest never-sent rows with their bodies (candidates for downsampling). */
  oldestUnsent(stream: SequencedStream, limit: number): Array<{ seq: number; body: string }> {
    return this.db
      .prepare('SELECT seq, body FROM outbox WHERE stream = ? AND sent = 0 ORDER BY seq LIMIT ?')
      .all(stream, limit) as Array<{ seq: number; body: string }>;
  }

  /** Replaces the body of a never-sent row (downsampling keeps the smallest seq of a group). */
  rewrite(stream: SequencedStream, seq: number, body: object): void {
    this.db
      .prepare('UPDATE outbox SET body = ? WHERE stream = ? AND seq = ? AND sent = 0')
      .run(JSON.stringify(body), stream, seq);
  }

  markTried(stream: SequencedStream, seqs: number[]): void {
    this.db.transaction(() => {
      for (const s of seqs) this.bumpTries.run(stream, s);
    })();
  }

  /**
   * Applies an ack watermark of this stream's incarnation (the caller drops acks of other ones).
   * A watermark above every seq this database ever assigned proves the database is an old copy of
   * one that lived on (a restored SD image): the hub holds every seq up to it. Rows found in the
   * database at start (`created_ms` before the process started) with such seqs are the image's own
   * rows, which the hub already has: they are deleted. Rows created since are new data and move to a
   * fresh incarnation of the stream, renumbered from 1, so the hub neither drops them as duplicates
   * nor counts the image's rows twice (protocol/README.md "Agent incarnations").
   */
  applyAck(stream: SequencedStream, watermark: number): { deleted: number; renumbered: number } {
    return this.db.transaction(() => {
      const highest = this.highestSeq(stream);
      if (watermark > highest) {
        const deleted = this.db
          .prepare('DELETE FROM outbox WHERE stream = ? AND created_ms < ?')
          .run(stream, this.startedMs).changes;
        const min = (
          this.db.prepare('SELECT min(seq) AS m FROM outbox WHERE stream = ?').get(stream) as {
            m: number | null;
          }
        ).m;
        let renumbered = 0;
        let next = 1;
        this.db.prepare('DELETE FROM skipped WHERE stream = ?').run(stream);
        if (min !== null) {
          // offset < 0 and rows are moved in ascending order, so the UPDATE never collides on the key
          const offset = 1 - min;
          const rows = this.db
            .prepare('SELECT seq FROM outbox WHERE stream = ? ORDER BY seq')
            .all(stream) as Array<{
            seq: number;
          }>;
          const move = this.db.prepare('UPDATE outbox SET seq = ?, sent = 0 WHERE stream = ? AND seq = ?');
          for (const r of rows) move.run(r.seq + offset, stream, r.seq);
          renumbered = rows.length;
          next = highest + offset + 1;
        }
        const fork = `${this.incarnation(stream) || 'legacy'}-${Date.now().toString(36)}`;
        this.db
          .prepare(
            'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          )
          .run(`incarnation.${stream}`, JSON.stringify(fork.slice(-64)));
        this.saveNext.run(stream, next, 0);
        return { deleted, renumbered };
      }
      if (watermark <= this.watermark(stream)) return { deleted: 0, renumbered: 0 };
      const deleted = this.deleteUpTo.run(stream, watermark).changes;
      this.db.prepare('DELETE FROM skipped WHERE stream = ? AND to_seq <= ?').run(stream, watermark);
      this.saveNext.run(stream, highest + 1, watermark);
      return { deleted, renumbered: 0 };
    })();
  }

  /** Skipped ranges above the watermark, to tell the hub (bounded by the batch schema's 1000). */
  skipped(stream: SequencedStream): Array<[number, number]> {
    return (
      this.db
        .prepare(
          'SELECT from_seq, to_seq FROM skipped WHERE stream = ? AND to_seq > ? ORDER BY from_seq LIMIT 1000',
        )
        .all(stream, this.watermark(stream)) as Array<{ from_seq: number; to_seq: number }>
    ).map((r) => [Math.max(r.from_seq, this.watermark(stream) + 1), r.to_seq]);
  }

  /** Removes rows for good (outbox policy or parking) and records their seqs as skipped. */
  drop(stream: SequencedStream, seqs: number[], reason: string, park = false): number {
    if (seqs.length === 0) return 0;
    const sorted = [...seqs].sort((a, b) => a - b);
    return this.db.transaction(() => {
      const del = this.db.prepare('DELETE FROM outbox WHERE stream = ? AND seq = ? RETURNING body');
      const parkRow = this.db.prepare(
        'INSERT INTO parked (stream, seq, body, reason, parked_ms) VALUES (?, ?, ?, ?, ?)',
      );
      let n = 0;
      for (const s of sorted) {
        const row = del.get(stream, s) as { body: string } | undefined;
        if (!row) continue;
        n++;
        if (park) parkRow.run(stream, s, row.body, reason, Date.now());
      }
      const ins = this.db.prepare(
        'INSERT OR REPLACE INTO skipped (stream, from_seq, to_seq, reason) VALUES (?, ?, ?, ?)',
      );
      for (const [from, to] of toRanges(sorted)) ins.run(stream, from, to, reason);
      return n;
    })();
  }

  /** Oldest rows first (seq order == age order within a stream). */
  oldest(stream: SequencedStream, limit: number): Array<{ seq: number; bytes: number; created_ms: number }> {
    return this.db
      .prepare(
        'SELECT seq, length(body) AS bytes, created_ms FROM outbox WHERE stream = ? ORDER BY seq LIMIT ?',
      )
      .all(stream, limit) as Array<{ seq: number; bytes: number; created_ms: number }>;
  }

  olderThan(stream: SequencedStream, createdBeforeMs: number): number[] {
    return (
      this.db
        .prepare('SELECT seq FROM outbox WHERE stream = ? AND created_ms < ? ORDER BY seq')
        .all(stream, createdBeforeMs) as Array<{
        seq: number;
      }>
    ).map((r) => r.seq);
  }

  overTries(stream: SequencedStream, maxTries: number): number[] {
    return (
      this.db
        .prepare('SELECT seq FROM outbox WHERE stream = ? AND tries >= ? ORDER BY seq')
        .all(stream, maxTries) as Array<{
        seq: number;
      }>
    ).map((r) => r.seq);
  }

  /** O(1) in the backlog: the trigger-kept totals and the first row of the primary key. */
  stats(stream: SequencedStream): StreamStats {
    const t = this.selectTotals.get(`outbox:${stream}`) as { n: number; bytes: number } | undefined;
    const oldest = this.selectOldest.get(stream) as { created_ms: number } | undefined;
    return {
      pending: t?.n ?? 0,
      bytes: t?.bytes ?? 0,
      oldestMs: oldest?.created_ms ?? null,
      watermark: this.watermark(stream),
      highestSeq: this.highestSeq(stream),
    };
  }

  parkedCount(): number {
    return (this.selectTotals.get('parked') as { n: number } | undefined)?.n ?? 0;
  }
}

/**
 * The statements a health/status probe runs against the outbox: each must be a primary-key search,
 * never a scan (a test checks their query plans).
 */
export const PROBE_SQL = {
  totals: 'SELECT n, bytes FROM totals WHERE name = ?',
  oldest: 'SELECT created_ms FROM outbox WHERE stream = ? ORDER BY seq LIMIT 1',
  stream: 'SELECT next_seq, watermark FROM streams WHERE stream = ?',
} as const;
