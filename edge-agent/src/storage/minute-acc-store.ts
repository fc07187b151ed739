import type { Db, Statement } from './sqlite.js';
import type { MinuteAggregate, StoredReading } from './readings-store.js';

/**
 * Running per sensor-minute sums, updated inside each group commit (one UPSERT per sensor-minute
 * of the batch, not per reading). Closing a minute moves its rows to the outbox and deletes them in
 * one transaction, so every reading lands in exactly one summary — including a reading that arrives
 * after its minute closed: it re-creates the row and goes out as a late summary of that minute.
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
         count = count + excluded.count,
         null_count = null_count + excluded.null_count,
         speed_sum = speed_sum + excluded.speed_sum,
         speed_min = CASE WHEN speed_min IS NULL THEN excluded.speed_min WHEN excluded.speed_min IS NULL THEN speed_min
                          ELSE min(speed_min, excluded.speed_min) END,
         speed_max = CASE WHEN speed_max IS NULL THEN excluded.speed_max WHEN excluded.speed_max IS NULL THEN speed_max
                          ELSE max(speed_max, excluded.speed_max) END,
         flow_sum = flow_sum + excluded.flow_sum,
         occ_sum = occ_sum + excluded.occ_sum,
         flagged = max(flagged, excluded.flagged)`,
    );
    this.selectBefore = db.prepare(
      `SELECT sensor_id, road_id, minute_ms, count, null_count, speed_sum, speed_min, speed_max, flow_sum, occ_sum, flagged
         FROM minute_acc WHERE minute_ms < ? ORDER BY minute_ms, sensor_id, road_id`,
    );
    this.deleteBefore = db.prepare('DELETE FROM minute_acc WHERE minute_ms < ?');
  }

  /** Call inside the group-commit transaction. */
  add(readings: StoredReading[]): void {
    const groups = new Map<
      string,
      {
        s: string;
        r: string;
        m: number;
        n: number;
        nulls: number;
        sum: number;
        min: number | null;
        max: number | null;
        flow: number;
        occ: number;
        flagged: number;
      }
    >();
    for (const x of readings) {
      const m = Math.floor(x.tsMs / 60_000) * 60_000;
      const key = `${x.sensorId}\u0000${x.roadId}\u0000${m}`;
      let g = groups.get(key);
      if (!g) {
        g = {
          s: x.sensorId,
          r: x.roadId,
          m,
          n: 0,
          nulls: 0,
          sum: 0,
          min: null,
          max: null,
          flow: 0,
          occ: 0,
          flagged: 0,
        };
        groups.set(key, g);
      }
      g.n++;
      if (x.speed === null) g.nulls++;
      else {
        g.sum += x.speed;
        g.min = g.min === null ? x.speed : Math.min(g.min, x.speed);
        g.max = g.max === null ? x.speed : Math.max(g.max, x.speed);
      }
      g.flow += x.flow;
      g.occ += x.occ;
      if (x.flagged) g.flagged = 1;
    }
    for (const g of groups.values())
      this.upsert.run(g.s, g.r, g.m, g.n, g.nulls, g.sum, g.min, g.max, g.flow, g.occ, g.flagged);
  }

  /** Aggregates of every minute starting before `beforeMs` (call inside the closing transaction). */
  take(beforeMs: number): MinuteAggregate[] {
    const rows = this.selectBefore.all(beforeMs) as Array<{
      sensor_id: string;
      road_id: string;
      minute_ms: number;
      count: number;
      null_count: number;
      speed_sum: number;
      speed_min: number | null;
      speed_max: number | null;
      flow_sum: number;
      occ_sum: number;
      flagged: number;
    }>;
    if (rows.length) this.deleteBefore.run(beforeMs);
    return rows.map((r) => {
      const speeds = r.count - r.null_count;
      return {
        sensor_id: r.sensor_id,
        road_id: r.road_id,
        minute_ms: r.minute_ms,
        count: r.count,
        null_speed_count: r.null_count,
        speed_mean: speeds > 0 ? r.speed_sum / speeds : null,
        speed_min: r.speed_min,
        speed_max: r.speed_max,
        flow_mean: r.flow_sum / r.count,
        occupancy_mean: r.occ_sum / r.count,
        flagged: r.flagged,
      };
    });
  }
}
