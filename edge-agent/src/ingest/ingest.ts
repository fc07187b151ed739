import type { AgentClock } from '../clock.js';
import type { AgentConfig } from '../config.js';
import type { Metrics } from '../health/metrics.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../storage/meta-store.js';
import type { MinuteAccStore } from '../storage/minute-acc-store.js';
import type { ReadingsStore, StoredReading } from '../storage/readings-store.js';
import { type Corkable, GroupCommit } from './group-commit.js';
import { checkReading, type SensorDirectory, toIngestItem } from './reading-checks.js';

/** The sensor side of the agent: checks each message, queues it for the group commit, acks after it. */
export class Ingest {
  readonly commit: GroupCommit;

  constructor(
    readings: ReadingsStore,
    acc: MinuteAccStore,
    meta: MetaStore,
    private readonly dir: SensorDirectory,
    private readonly clock: AgentClock,
    private readonly cfg: AgentConfig,
    private readonly metrics: Metrics,
    closedBeforeMs: () => number,
    committed: (readings: StoredReading[]) => void,
    log: Logger,
    /** storage conditions (disk full): see GroupCommit's `onFailed` / `onCommitted` */
    storage: { onFailed?: (e: unknown, items: number) => boolean; onCommitted?: () => void } = {},
  ) {
    this.commit = new GroupCommit(
      readings,
      acc,
      meta,
      { committed },
      {
        maxBatch: cfg.commitMaxBatch,
        closedBeforeMs,
        onCommitMs: (ms, n) => {
          metrics.commitSeconds.observe(ms / 1000);
          metrics.commitBatch.observe(n);
        },
        ...storage,
      },
      log,
    );
  }

  /** QoS 1: PUBACK after COMMIT. QoS 0 is best effort by definition: queued, acknowledged at once. */
  onSensorMessage(
    sensorId: string,
    topic: string,
    payload: Buffer,
    qos: number,
    done: (e: Error | null) => void,
    conn?: Corkable,
  ): void {
    const recvMs = Date.now();
    const r = checkReading(sensorId, payload, this.dir, this.clock, this.cfg);
    if (!r.ok) this.metrics.quarantined.inc({ code: r.code });
    else this.clock.noteAccepted(r.reading.tsMs);
    const item = toIngestItem(r, topic, payload, recvMs);
    if (qos > 0) this.commit.enqueue(item, done, conn);
    else {
      this.commit.enqueue(item);
      done(null);
    }
  }

  /** A publish the broker's ACL refused: never silently lost, it goes to the quarantine. */
  onDenied(topic: string, payload: Buffer, reason: string): void {
    this.metrics.quarantined.inc({ code: 'CF_NOT_AUTHORIZED' });
    this.commit.enqueue({
      kind: 'quarantine',
      row: {
        recvMs: Date.now(),
        topic,
        code: 'CF_NOT_AUTHORIZED',
        errors: [`(root): ${reason}`],
        payload: payload.toString('utf8'),
      },
    });
  }
}
