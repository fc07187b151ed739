import type { SummaryRecord } from '@cityflow/protocol';
import type { AgentClock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { MetaStore } from '../storage/meta-store.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import type { MinuteAccStore } from '../storage/minute-acc-store.js';
import type { MinuteAggregate } from '../storage/readings-store.js';

const CLOSED_KEY = 'summaries_closed_before_ms';
const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

export type SummaryBody = Omit<SummaryRecord, 'seq'>;

/**
 * Per-sensor minute summaries, from the minute accumulators in SQLite (not from memory), so a crash
 * between ingest and close loses nothing: the accumulator rows are deleted in the same transaction
 * that appends their summaries to the outbox — each reading is summarised exactly once.
 *
 * A minute closes `graceS` after its end by the agent clock (wall, or data time in `--clock data`).
 * A reading that arrives after its minute closed is still summarised, in a late record for the same
 * sensor and minute (counted as `readings_late_total`): its sample is never lost, and the hub's
 * per-minute totals add up.
 */
export class Summarizer {
  private closedBeforeMs: number;

  constructor(
    private readonly acc: MinuteAccStore,
    private readonly outbox: OutboxStore,
    private readonly meta: MetaStore,
    private readonly clock: AgentClock,
    private readonly graceS: number,
    private readonly onClosed: (aggs: MinuteAggregate[]) => void,
    private readonly log: Logger,
  ) {
    this.closedBeforeMs = meta.get<number>(CLOSED_KEY) ?? 0;
  }

  /** Start of the first minute that is still open; readings before it are late. */
  closedBefore(): number {
    return this.closedBeforeMs;
  }

  /** Closes every minute that ended more than `graceS` ago; returns how many summaries were queued. */
  tick(): number {
    const now = this.clock.now();
    if (now <= 0) return 0;
    const before = Math.floor((now - this.graceS * 1000) / 60_000) * 60_000;
    if (before <= 0) return 0;
    const target = Math.max(before, this.closedBeforeMs);
    let aggs: MinuteAggregate[] = [];
    this.meta.transaction(() => {
      aggs = this.acc.take(target);
      const closedAt = this.clock.trustedWall();
      for (const a of aggs) this.outbox.append('summary', toSummary(a, closedAt), Date.now());
      if (target !== this.closedBeforeMs) this.meta.set(CLOSED_KEY, target);
    });
    this.closedBeforeMs = target;
    if (aggs.length) {
      this.log.debug({ summaries: aggs.length, before: new Date(target).toISOString() }, 'minutes closed');
      this.onClosed(aggs);
    }
    return aggs.length;
  }
}

/** `closedAtMs`: the hub-referenced wall time of the close (null: not trustworthy, left out). */
export function toSummary(a: MinuteAggregate, closedAtMs: number | null): SummaryBody {
  const body: SummaryBody = {
    sensor_id: a.sensor_id,
    road_id: a.road_id,
    minute: new Date(a.minute_ms).toISOString(),
    count: a.count,
    null_speed_count: a.null_speed_count,
    speed_mean: round(a.speed_mean),
    speed_min: a.speed_min,
    speed_max: a.speed_max,
    flow_mean: round(a.flow_mean) ?? 0,
    occupancy_mean: Math.min(1, Math.max(0, round(a.occupancy_mean) ?? 0)),
  };
  if (a.flagged) body.flagged = true;
  if (closedAtMs !== null) body.closed_at = new Date(closedAtMs).toISOString();
  return body;
}
