import type { Network } from '@cityflow/protocol';
import type { BrokerPool } from './broker-pool.js';
import type { SimClock } from './clock.js';
import type { Logger } from './logger.js';
import { FaultInjector } from './faults.js';
import { createRng, type Rng } from './rng.js';
import type { Scenario } from './scenarios/types.js';
import { sensorReading } from './sensor-model.js';

export interface FleetOptions {
  network: Network;
  pool: BrokerPool;
  scenario: Scenario;
  clock: SimClock;
  /** seconds between two readings of one sensor (wall clock) */
  intervalS: number;
  seed?: number;
  /** send this share of readings broken instead (fault injection); 0 = none */
  faultShare?: number;
  log: Logger;
}

/** Loop detectors count vehicles over a minute, whatever the publish interval (as in the seed data). */
const DETECTOR_WINDOW_S = 60;

/** Every sensor of the network publishing a reading every `intervalS` to its agent's broker. */
export class SensorFleet {
  private timer: NodeJS.Timeout | undefined;
  private readonly rng: Rng;
  readonly faults: FaultInjector;
  ticks = 0;
  /** rounds not started because the previous one was still unacknowledged (a slow or absent broker) */
  skipped = 0;
  private busy = false;

  constructor(private readonly opts: FleetOptions) {
    this.rng = createRng(opts.seed ?? 42);
    // Its own random stream, so turning faults on does not change the traffic readings.
    this.faults = new FaultInjector(opts.faultShare ?? 0, createRng((opts.seed ?? 42) + 1));
  }

  /** Publishes one round now, then every interval. */
  start(): void {
    const round = () => {
      // One round in flight at most: with a broker down, QoS 1 publishes queue up in memory.
      if (this.busy) return void this.skipped++;
      this.busy = true;
      void this.tick().finally(() => {
        this.busy = false;
      });
    };
    round();
    this.timer = setInterval(round, this.opts.intervalS * 1000);
  }

  /** One round: a reading for every sensor at the current simulated time. */
  async tick(): Promise<number> {
    const { network, pool, scenario, clock } = this.opts;
    const simMs = clock.now();
    const sends: Promise<void>[] = [];
    for (const s of network.sensors.values()) {
      const road = network.roads.get(s.road_id)!;
      const condition = scenario.condition(road, simMs);
      const reading = sensorReading({
        sensorId: s.sensor_id,
        road,
        condition,
        simMs,
        rng: this.rng,
        windowS: DETECTOR_WINDOW_S,
      });
      const fault = this.faults.maybe(reading);
      sends.push(fault ? pool.publishRaw(s.agent_id, fault) : pool.publish(s.agent_id, reading));
    }
    await Promise.all(sends);
    this.ticks++;
    if (this.ticks === 1 || this.ticks % 12 === 0)
      this.opts.log.info(
        {
          ticks: this.ticks,
          published: pool.published,
          failed: pool.failed,
          faults: this.faults.injected,
          skipped_rounds: this.skipped,
          sim_ts: new Date(simMs).toISOString(),
        },
        'fleet tick',
      );
    return sends.length;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
