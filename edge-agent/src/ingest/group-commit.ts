import { CityFlowError } from '@cityflow/protocol';
import type { Logger } from '../logger.js';
import { C, type MetaStore } from '../storage/meta-store.js';
import type { MinuteAccStore } from '../storage/minute-acc-store.js';
import type { QuarantineRow, ReadingsStore, StoredReading } from '../storage/readings-store.js';

export type IngestItem =
  | { kind: 'reading'; reading: StoredReading; recvMs: number }
  | { kind: 'quarantine'; row: QuarantineRow };
type Done = (err: Error | null) => void;
/** A socket whose writes can be batched (the PUBACKs of one commit leave in one write). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export interface CommitObserver {
  /** Called after each successful commit with the readings it stored. */
  committed(readings: StoredReading[]): void;
}

export interface CommitStats {
  batches: number;
  lastBatch: number;
  lastCommitMs: number;
}

/**
 * Group commit: everything that arrives in one event-loop turn goes into one SQLite transaction, and
 * the callbacks (which send the QoS 1 PUBACKs) run only after COMMIT returned. One fsync then covers
 * hundreds of readings, which is what makes durable ingest fast on an SD card.
 */
export class GroupCommit {
  private queue: IngestItem[] = [];
  private dones: Done[] = [];
  private corks = new Set<Corkable>();
  private scheduled = false;
  private closed = false;
  readonly stats: CommitStats = { batches: 0, lastBatch: 0, lastCommitMs: 0 };

  constructor(
    private readonly readings: ReadingsStore,
    private readonly acc: MinuteAccStore,
    private readonly meta: MetaStore,
    private readonly observer: CommitObserver,
    private readonly opts: {
      maxBatch: number;
      closedBeforeMs: () => number;
      onCommitMs?: (ms: number, n: number) => void;
      /** a commit failed (rolled back, nothing acked); true = handled as a known condition (disk full) */
      onFailed?: (e: unknown, items: number) => boolean;
      /** a commit succeeded */
      onCommitted?: () => void;
    },
    private readonly log: Logger,
  ) {}

  enqueue(item: IngestItem, done?: Done, conn?: Corkable): void {
    if (this.closed) {
      done?.(new CityFlowError('CF_DB_ERROR', 'agent is stopping: not accepting readings'));
      return;
    }
    this.queue.push(item);
    if (done) this.dones.push(done);
    if (conn) this.corks.add(conn);
    if (this.queue.length >= this.opts.maxBatch) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits whatever is queued now (synchronous: better-sqlite3 is). */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const items = this.queue;
    const dones = this.dones;
    const corks = this.corks;
    this.corks = new Set();
    this.queue = [];
    this.dones = [];
    const stored: StoredReading[] = [];
    const t0 = performance.now();
    let error: Error | null = null;
    try {
      this.meta.transaction(() => {
        const closedBefore = this.opts.closedBeforeMs();
        let readings = 0;
        let flagged = 0;
        let late = 0;
        let resent = 0;
        const quarantined = new Map<string, number>();
        for (const it of items) {
          if (it.kind === 'reading') {
            if (!this.readings.insert(it.reading, it.recvMs)) {
              resent++;
              continue;
            }
            stored.push(it.reading);
            readings++;
            if (it.reading.flagged) flagged++;
            if (it.reading.tsMs < closedBefore) late++;
          } else {
            this.readings.quarantine(it.row);
            quarantined.set(it.row.code, (quarantined.get(it.row.code) ?? 0) + 1);
          }
        }
        this.acc.add(stored);
        this.meta.add(C.readings, readings);
        this.meta.add(C.flagged, flagged);
        this.meta.add(C.late, late);
        this.meta.add(C.resent, resent);
        for (const [code, n] of quarantined) {
          this.meta.add(C.quarantined, n);
          this.meta.add(C.quarantinedBy(code), n);
        }
      });
    } catch (e) {
      // Rolled back: no row, counter or seq of this batch exists, so none of it may be acknowledged.
      // aedes then closes each sender's connection without a PUBACK and mqtt.js resends on reconnect.
      const known = this.opts.onFailed?.(e, items.length) ?? false;
      error = known
        ? new CityFlowError('CF_DISK_FULL', `group commit failed: ${(e as Error).message}`)
        : new CityFlowError('CF_DB_ERROR', `group commit failed: ${(e as Error).message}`);
      if (!known)
        this.log.error({ err: e, items: items.length }, 'group commit failed; nothing acknowledged');
    }
    const ms = performance.now() - t0;
    this.stats.batches++;
    this.stats.lastBatch = items.length;
    this.stats.lastCommitMs = ms;
    this.opts.onCommitMs?.(ms, items.length);
    if (!error) {
      this.opts.onCommitted?.();
      try {
        this.observer.committed(stored);
      } catch (e) {
        this.log.error({ err: e }, 'commit observer failed');
      }
    }
    // Cork each sensor connection so the PUBACKs of this commit go out in one write, not hundreds.
    for (const c of corks) c.cork();
    for (const d of dones) d(error);
    if (corks.size)
      process.nextTick(() => {
        for (const c of corks) c.uncork();
      });
  }

  /** Stop accepting, commit what is queued. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
