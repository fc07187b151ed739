import type { Db, Statement } from './sqlite.js';

/**
 * Durable counters and small key/value state (network slice, last advice, runtime flags).
 * Counters are bumped inside the same transaction as the data they count, so `status` read from the
 * file after a crash agrees with what is stored.
 */
export class MetaStore {
  private readonly addStmt: Statement;
  private readonly getStmt: Statement;
  private readonly allStmt: Statement;
  private readonly kvGet: Statement;
  private readonly kvSet: Statement;

  constructor(private readonly db: Db) {
    this.addStmt = db.prepare(
      'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value',
    );
    this.getStmt = db.prepare('SELECT value FROM counters WHERE name = ?');
    this.allStmt = db.prepare('SELECT name, value FROM counters');
    this.kvGet = db.prepare('SELECT value FROM kv WHERE key = ?');
    this.kvSet = db.prepare(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  add(name: string, by = 1): void {
    if (by !== 0) this.addStmt.run(name, by);
  }

  counter(name: string): number {
    return (this.getStmt.get(name) as { value: number } | undefined)?.value ?? 0;
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.allStmt.all() as Array<{ name: string; value: number }>) out[r.name] = r.value;
    return out;
  }

  get<T>(key: string): T | undefined {
    const row = this.kvGet.get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    this.kvSet.run(key, JSON.stringify(value));
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}

/** Counter names shared by the store, metrics and `status`. */
export const C = {
  readings: 'readings_total',
  flagged: 'readings_flagged_total',
  quarantined: 'quarantined_total',
  quarantinedBy: (code: string) => `quarantined.${code}`,
  droppedBy: (reason: string) => `dropped.${reason}`,
  late: 'readings_late_total',
  /** resends of a reading already stored (a PUBACK lost to a crash or a cut): acked, not counted again */
  resent: 'readings_resent_total',
  rejectedByHub: 'rejected_by_hub_total',
  parked: 'parked_total',
} as const;
