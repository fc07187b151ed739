import {
  type SummarySums,
  addSummarySums,
  summaryFromSums,
  summarySumsMergeSqlite,
} from '@cityflow/protocol';
import type { Db, Statement } from './sqlite.js';
import type { MinuteAggregate, StoredReading } from './readings-store.js';

/** The accumulator's columns for each running sum (the table predates the protocol's names). */
const COLUMNS: Record<keyof SummarySums, string> = {
  count: 'count',
  null_speed_count: 'null_count',
  speed_sum: 'speed_sum',
  speed_min: 'speed_min',
  speed_max: 'speed_max',
  flow_sum: 'flow_sum',
  occupancy_sum: 'occ_sum',
  flagged: 'flagged',
};

/** A reading is a summary of one reading. */
export const readingSums = (x: StoredReading): SummarySums => ({
  count: 1,
  null_speed_count: x.speed === null ? 1 : 0,
  speed_sum: x.speed ?? 0,
  speed_min: x.speed,
  speed_max: x.speed,
  flow_sum: x.flow,
  occupancy_sum: x.occ,
  flagged: x.flagged,
});

/**
 * Running per sensor-minute sums, updated inside each group commit (one UPSERT per sensor-minute
 * of the batch, not per reading). Closing a minute moves its rows to the outbox and deletes them in
 * one transaction, so every reading lands in exactly one summary — including a reading that arrives
 * after its minute closed: it re-creates the row and goes out as a late summary of that minute.
 * Readings, the batch and the stored row all merge by the protocol's one rule (SUMMARY_MERGE_RULES).
 */
export class MinuteAccStore {
  private readonly upsert: Statement;
  private readonly selectBefore: Statement;
  private readonly deleteBefore: Statement;

  constructor(db: Db) {
    this.upsert = db.prepare(
      `INSERT INTO minute_acc (sensor_id, road_id, minute_ms, count, null_count, speed_sum, speed_min, speed_max, flow_sum, occ_sum, flagged)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sensor_id, road_id, minute_ms) DO UPDATE SET
       ${summarySumsMergeSqlite(COLUMNS, 'minute_acc')}`,
    );
    // read back under the protocol's names, so a row is a SummarySums as it is
    const sums = Object.entries(COLUMNS).map(([k, c]) => `${c} AS ${k}`);
    this.selectBefore = db.prepare(
      `SELECT sensor_id, road_id, minute_ms, ${sums.join(', ')}
         FROM minute_acc WHERE minute_ms < ? ORDER BY minute_ms, sensor_id, road_id`,
    );
    this.deleteBefore = db.prepare('DELETE FROM minute_acc WHERE minute_ms < ?');
  }

  /** Call inside the group-commit transaction. */
  add(readings: StoredReading[]): void {
    const groups = new Map<string, { s: string; r: string; m: number; sums: SummarySums }>();
    for (const x of readings) {
      const m = Math.floor(x.tsMs / 60_000) * 60_000;
      const key = `${x.sensorId}\u0000${x.roadId}\u0000${m}`;
      const g = groups.get(key);
      if (g) addSummarySums(g.sums, readingSums(x));
      else groups.set(key, { s: x.sensorId, r: x.roadId, m, sums: readingSums(x) });
    }
    for (const g of groups.values()) this.merge(g.s, g.r, g.m, g.sums);
  }

  /** Merges running sums into the sensor-minute's row (the UPSERT that `add` runs per group). */
  merge(sensorId: string, roadId: string, minuteMs: number, x: SummarySums): void {
    this.upsert.run(
      sensorId,
      roadId,
      minuteMs,
      x.count,
      x.null_speed_count,
      x.speed_sum,
      x.speed_min,
      x.speed_max,
      x.flow_sum,
      x.occupancy_sum,
      x.flagged ? 1 : 0,
    );
  }

  /** Aggregates of every minute starting before `beforeMs` (call inside the closing transaction). */
  take(beforeMs: number): MinuteAggregate[] {
    const rows = this.selectBefore.all(beforeMs) as Array<
      Omit<SummarySums, 'flagged'> & {
        sensor_id: string;
        road_id: string;
        minute_ms: number;
        flagged: number;
      }
    >;
    if (rows.length) this.deleteBefore.run(beforeMs);
    return rows.map(({ sensor_id, road_id, minute_ms, ...sums }) => ({
      sensor_id,
      road_id,
      minute_ms,
      ...summaryFromSums({ ...sums, flagged: sums.flagged === 1 }),
      flagged: sums.flagged,
    }));
  }
}
