import type { SensorReading } from '@cityflow/protocol';
import type { BrokerPool } from './broker-pool.js';
import type { Logger } from './logger.js';

export interface LoadSensor {
  sensorId: string;
  roadId: string;
  agentId: string;
}

export interface LoadOptions {
  pool: BrokerPool;
  sensors: LoadSensor[];
  /** readings per second over all sensors */
  ratePerS: number;
  durationS: number;
  /** unacknowledged publishes allowed at once; beyond it the generator falls behind (counted) */
  maxInFlight: number;
  log: Logger;
  now?: () => number;
}

export interface LoadStats {
  target: number;
  sent: number;
  acked: number;
  failed: number;
  seconds: number;
  rate_target_per_s: number;
  rate_achieved_per_s: number;
  /** publish -> broker acknowledgement (QoS 1) or socket write (QoS 0) */
  latency_ms: { p50: number | null; p99: number | null; max: number | null };
}

const TICK_MS = 5;
const pct = (sorted: number[], p: number) =>
  sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! * 100) / 100
    : null;

/**
 * Fixed-rate load: exactly `ratePerS · durationS` readings, paced on a 5 ms tick, round-robin over
 * the sensors, with a bound on publishes in flight so a slow broker shows up as a lower achieved rate
 * instead of unbounded memory.
 */
export class LoadGenerator {
  private inFlight = 0;
  private readonly latencies: number[] = [];
  private sent = 0;
  private acked = 0;

  constructor(private readonly opts: LoadOptions) {}

  private reading(i: number): { agentId: string; reading: SensorReading } {
    const s = this.opts.sensors[i % this.opts.sensors.length]!;
    const speed = 20 + (i % 30);
    return {
      agentId: s.agentId,
      reading: {
        ts: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        sensor_id: s.sensorId,
        road_id: s.roadId,
        speed_kmh: i % 17 === 0 ? null : speed,
        flow_rate: 60 * (1 + (i % 20)),
        occupancy: Math.round((0.02 + (i % 40) / 100) * 1000) / 1000,
      },
    };
  }

  async run(): Promise<LoadStats> {
    const { pool, ratePerS, durationS, maxInFlight } = this.opts;
    const now = this.opts.now ?? (() => performance.now());
    const target = Math.round(ratePerS * durationS);
    const failedBefore = pool.failed;
    const t0 = now();
    const pending = new Set<Promise<void>>();
    while (this.sent < target) {
      const due = Math.min(target, Math.floor(((now() - t0) / 1000) * ratePerS) + 1);
      while (this.sent < due && this.inFlight < maxInFlight) {
        const { agentId, reading } = this.reading(this.sent++);
        const start = now();
        this.inFlight++;
        const p = pool.publish(agentId, reading).then(() => {
          this.inFlight--;
          this.acked++;
          this.latencies.push(now() - start);
          pending.delete(p);
        });
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    await Promise.all(pending);
    const seconds = (now() - t0) / 1000;
    const failed = pool.failed - failedBefore;
    const sorted = this.latencies.sort((a, b) => a - b);
    const stats: LoadStats = {
      target,
      sent: this.sent,
      acked: this.acked - failed,
      failed,
      seconds: Math.round(seconds * 1000) / 1000,
      rate_target_per_s: ratePerS,
      rate_achieved_per_s: Math.round(this.sent / seconds),
      latency_ms: { p50: pct(sorted, 0.5), p99: pct(sorted, 0.99), max: pct(sorted, 1) },
    };
    this.opts.log.info(stats, 'load finished');
    return stats;
  }
}
