import type { SensorReading } from '@cityflow/protocol';
import type { Db, Statement } from './sqlite.js';

export interface StoredReading {
  tsMs: number;
  sensorId: string;
  roadId: string;
  speed: number | null;
  flow: number;
  occ: number;
  flagged: boolean;
}

export interface QuarantineRow {
  recvMs: number;
  topic: string;
  code: string;
  errors: string[];
  payload: string;
}

export interface MinuteAggregate {
  sensor_id: string;
  road_id: string;
  minute_ms: number;
  count: number;
  null_speed_count: number;
  speed_mean: number | null;
  speed_min: number | null;
  speed_max: number | null;
  flow_mean: number;
  occupancy_mean: number;
  flagged: number;
}

/** Keeps the payload of a quarantined message readable but bounded. */
const MAX_QUARANTINE_PAYLOAD = 2048;

/** Raw readings (kept for a window, served to diagnostics) and the quarantine (dead letters). */
export class ReadingsStore {
  private readonly insertReading: Statement;
  private readonly insertQuarantine: Statement;
  private readonly pruneOld: Statement;
  private readonly thinOldest: Statement;
  private readonly pruneQuarantine: Statement;

  constructor(private readonly db: Db) {
    this.insertReading = db.prepare(
      'INSERT OR IGNORE INTO readings (ts_ms, sensor_id, road_id, speed, flow, occ, flagged, recv_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertQuarantine = db.prepare(
      'INSERT INTO quarantine (recv_ms, topic, code, errors, payload) VALUES (?, ?, ?, ?, ?)',
    );
    // Raw readings are never needed for summaries (minute_acc holds those), so retention and
    // thinning can delete any of them.
    this.pruneOld = db.prepare('DELETE FROM readings WHERE ts_ms < ?');
    this.thinOldest = db.prepare(
      'DELETE FROM readings WHERE id IN (SELECT id FROM readings ORDER BY ts_ms LIMIT ?)',
    );
    this.pruneQuarantine = db.prepare(
      'DELETE FROM quarantine WHERE id <= (SELECT max(id) FROM quarantine) - ?',
    );
  }

  /**
   * Call inside the group-commit transaction. Returns false for a resend of a reading already stored
   * (same sensor and timestamp): it is acknowledged again but counted and summarised once.
   */
  insert(r: StoredReading, recvMs: number): boolean {
    return (
      this.insertReading.run(r.tsMs, r.sensorId, r.roadId, r.speed, r.flow, r.occ, r.flagged ? 1 : 0, recvMs)
        .changes > 0
    );
  }

  quarantine(q: QuarantineRow): void {
    const payload =
      q.payload.length > MAX_QUARANTINE_PAYLOAD ? q.payload.slice(0, MAX_QUARANTINE_PAYLOAD) : q.payload;
    this.insertQuarantine.run(q.recvMs, q.topic, q.code, JSON.stringify(q.errors), payload);
  }

  /** Deletes raw readings older than the retention window; returns how many. */
  pruneBefore(beforeMs: number): number {
    return this.pruneOld.run(beforeMs).changes;
  }

  /** Thins the oldest raw readings (the least valuable data: their minute is already accumulated). */
  thin(count: number): number {
    return this.thinOldest.run(count).changes;
  }

  boundQuarantine(maxRows: number): number {
    return this.pruneQuarantine.run(maxRows).changes;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;
  }

  quarantineRows(limit: number): Array<QuarantineRow & { id: number }> {
    const rows = this.db
      .prepare('SELECT id, recv_ms, topic, code, errors, payload FROM quarantine ORDER BY id DESC LIMIT ?')
      .all(limit) as Array<{
      id: number;
      recv_ms: number;
      topic: string;
      code: string;
      errors: string;
      payload: string;
    }>;
    return rows.map((r) => ({
      id: r.id,
      recvMs: r.recv_ms,
      topic: r.topic,
      code: r.code,
      errors: JSON.parse(r.errors) as string[],
      payload: r.payload,
    }));
  }

  /** Raw readings for diagnostics, oldest first, `[fromMs, toMs)`. */
  query(q: {
    fromMs: number;
    toMs: number;
    sensorId?: string;
    roadId?: string;
    limit: number;
  }): SensorReading[] {
    const where = ['ts_ms >= ?', 'ts_ms < ?'];
    const args: Array<string | number> = [q.fromMs, q.toMs];
    if (q.sensorId) {
      where.push('sensor_id = ?');
      args.push(q.sensorId);
    }
    if (q.roadId) {
      where.push('road_id = ?');
      args.push(q.roadId);
    }
    const rows = this.db
      .prepare(
        `SELECT ts_ms, sensor_id, road_id, speed, flow, occ FROM readings WHERE ${where.join(' AND ')} ORDER BY ts_ms, id LIMIT ?`,
      )
      .all(...args, q.limit) as Array<{
      ts_ms: number;
      sensor_id: string;
      road_id: string;
      speed: number | null;
      flow: number;
      occ: number;
    }>;
    return rows.map((r) => ({
      ts: new Date(r.ts_ms).toISOString(),
      sensor_id: r.sensor_id,
      road_id: r.road_id,
      speed_kmh: r.speed,
      flow_rate: r.flow,
      occupancy: r.occ,
    }));
  }
}
