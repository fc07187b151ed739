import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { CityFlowError, type Network, type SensorReading, validateReading } from '@cityflow/protocol';
import type { BrokerPool } from './broker-pool.js';
import type { Logger } from './logger.js';

/** Columns of the long CSV layout (as `../shared/data/sumo-grid/sensors.csv`). */
export const CSV_COLUMNS = ['ts', 'sensor_id', 'road_id', 'speed_kmh', 'flow_rate', 'occupancy'] as const;

export interface ReplayOptions {
  csvPath: string;
  network: Network | undefined;
  pool: BrokerPool;
  /** agent key used for sensors the network does not know (only when one broker serves all) */
  fallbackAgent?: string;
  /** data seconds per wall second; Infinity = as fast as possible */
  speedup: number;
  /** shift every timestamp so the first row lands at this time (ms), e.g. now for a wall-clock city */
  rebaseToMs?: number;
  /** unacknowledged publishes allowed at once (default 2000) */
  maxInFlight?: number;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
  wallNow?: () => number;
}

export interface ReplayStats {
  rows: number;
  published: number;
  invalid: number;
  unknownSensor: number;
  firstTs: string | null;
  lastTs: string | null;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Parses one CSV line into a reading candidate (validation happens after, in one place). */
export function parseCsvRow(cols: Map<string, number>, line: string): Record<string, unknown> {
  const f = line.split(',');
  const get = (name: string) => (f[cols.get(name)!] ?? '').trim();
  const num = (s: string) => (s === '' ? Number.NaN : Number(s));
  const speed = get('speed_kmh');
  return {
    ts: get('ts'),
    sensor_id: get('sensor_id'),
    road_id: get('road_id'),
    // An empty speed is the detector's "no vehicle passed" (SUMO writes -1, the export leaves it empty).
    speed_kmh: speed === '' ? null : num(speed),
    flow_rate: num(get('flow_rate')),
    occupancy: num(get('occupancy')),
  };
}

/**
 * Replays a long-layout CSV in timestamp order: rows with the same `ts` go out together, and
 * groups are paced by their timestamps divided by `speedup`. The file is streamed, never loaded whole.
 */
export class CsvReplay {
  private stopped = false;
  readonly stats: ReplayStats = {
    rows: 0,
    published: 0,
    invalid: 0,
    unknownSensor: 0,
    firstTs: null,
    lastTs: null,
  };

  constructor(private readonly opts: ReplayOptions) {}

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<ReplayStats> {
    const { opts } = this;
    const sleep = opts.sleep ?? defaultSleep;
    const wallNow = opts.wallNow ?? Date.now;
    const lines = createInterface({
      input: createReadStream(opts.csvPath, 'utf8'),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let cols: Map<string, number> | undefined;
    let firstMs: number | undefined;
    let wallStart = 0;
    let groupTs: string | undefined;
    let groupMs = 0;
    let group: SensorReading[] = [];
    const pending = new Set<Promise<void>>();
    const maxInFlight = opts.maxInFlight ?? 2000;
    const flush = async () => {
      if (!group.length) return;
      const due = wallStart + (groupMs - firstMs!) / opts.speedup;
      const wait = due - wallNow();
      if (wait > 0 && Number.isFinite(wait)) await sleep(wait);
      // Groups are not awaited one by one: an agent acknowledges QoS 1 only after its group commit,
      // so waiting per group caps a fast replay at one commit per timestamp. MQTT keeps the order
      // per connection; the in-flight bound keeps memory flat.
      for (const r of group) {
        const p: Promise<void> = this.publish(r).then(() => void pending.delete(p));
        pending.add(p);
        if (pending.size >= maxInFlight) await Promise.race(pending);
      }
      group = [];
    };
    for await (const line of lines) {
      if (this.stopped) break;
      if (!line.trim()) continue;
      if (!cols) {
        cols = new Map(line.split(',').map((c, i) => [c.trim(), i]));
        const missing = CSV_COLUMNS.filter((c) => !cols!.has(c));
        if (missing.length)
          throw new CityFlowError(
            'CF_INVALID_CONFIG',
            `${opts.csvPath}: missing column(s) ${missing.join(', ')}`,
          );
        continue;
      }
      this.stats.rows++;
      const checked = validateReading(parseCsvRow(cols, line));
      if (!checked.ok) {
        this.stats.invalid++;
        if (this.stats.invalid <= 5)
          opts.log.warn({ row: this.stats.rows, errors: checked.errors }, 'invalid CSV row skipped');
        continue;
      }
      const reading = { ...checked.reading };
      if (firstMs === undefined) {
        firstMs = checked.tsMs;
        wallStart = wallNow();
        this.stats.firstTs = reading.ts;
      }
      if (opts.rebaseToMs !== undefined) reading.ts = iso(checked.tsMs + opts.rebaseToMs - firstMs);
      if (groupTs !== undefined && checked.reading.ts !== groupTs) await flush();
      groupTs = checked.reading.ts;
      groupMs = checked.tsMs;
      this.stats.lastTs = checked.reading.ts;
      group.push(reading);
    }
    if (!this.stopped) await flush();
    await Promise.all(pending);
    opts.log.info({ ...this.stats }, 'replay finished');
    return this.stats;
  }

  private async publish(r: SensorReading): Promise<void> {
    const agent = this.opts.network?.sensors.get(r.sensor_id)?.agent_id ?? this.opts.fallbackAgent;
    if (!agent) {
      this.stats.unknownSensor++;
      return;
    }
    await this.opts.pool.publish(agent, r);
    this.stats.published++;
  }
}
