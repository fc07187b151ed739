import type { Network } from '@cityflow/protocol';
import { BrokerPool } from './broker-pool.js';
import { type ClockMode, SimClock } from './clock.js';
import { SensorFleet } from './fleet.js';
import type { Logger } from './logger.js';
import { IncidentScenario } from './scenarios/incident.js';
import { NormalScenario } from './scenarios/normal.js';
import { OnDemandIncidents } from './scenarios/on-demand.js';
import type { Scenario } from './scenarios/types.js';

export type ScenarioName = 'normal' | 'incident';
export const SCENARIOS: readonly ScenarioName[] = ['normal', 'incident'];

export interface SimulationOptions {
  network: Network;
  brokers: Map<string, string>;
  scenario: ScenarioName;
  intervalS: number;
  clock: ClockMode;
  speedup: number;
  /** simulated start (data clock only); default now */
  startMs?: number;
  qos: 0 | 1;
  seed?: number;
  utcOffsetH: number;
  incident?: { roadId?: string; startAfterMin: number; durationMin: number };
  /** share of readings sent broken (fault injection) */
  faultShare?: number;
  /** how long to wait for every broker at start (default 10 s) */
  connectTimeoutMs?: number;
  log: Logger;
}

export function buildScenario(
  opts: Pick<SimulationOptions, 'network' | 'scenario' | 'utcOffsetH' | 'incident'>,
  simStartMs: number,
): Scenario {
  const ctx = { network: opts.network, utcOffsetH: opts.utcOffsetH };
  if (opts.scenario === 'normal') return new NormalScenario(ctx);
  const inc = opts.incident ?? { startAfterMin: 1, durationMin: 20 };
  return new IncidentScenario(ctx, {
    roadId: inc.roadId,
    startMs: simStartMs + inc.startAfterMin * 60_000,
    durationMin: inc.durationMin,
  });
}

/** A running simulator: the broker connections and the fleet publishing on them. */
export class Simulation {
  readonly clock: SimClock;
  readonly pool: BrokerPool;
  readonly scenario: Scenario;
  /** incidents started and ended while running (`cityflow-sim incident start|end`) */
  readonly incidents: OnDemandIncidents;
  private fleet: SensorFleet | undefined;

  constructor(private readonly opts: SimulationOptions) {
    this.clock = new SimClock(opts.clock, opts.startMs, opts.speedup);
    this.pool = new BrokerPool(opts.brokers, opts.qos, opts.log, opts.connectTimeoutMs);
    this.scenario = buildScenario(opts, this.clock.now());
    this.incidents = new OnDemandIncidents(this.scenario, {
      network: opts.network,
      utcOffsetH: opts.utcOffsetH,
    });
  }

  async start(): Promise<void> {
    await this.pool.start();
    this.clock.reset();
    this.fleet = new SensorFleet({
      network: this.opts.network,
      pool: this.pool,
      scenario: this.incidents,
      clock: this.clock,
      intervalS: this.opts.intervalS,
      seed: this.opts.seed,
      faultShare: this.opts.faultShare,
      log: this.opts.log,
    });
    this.fleet.start();
    const s = this.scenario;
    this.opts.log.info(
      {
        scenario: s.name,
        sensors: this.opts.network.sensors.size,
        interval_s: this.opts.intervalS,
        ...(s instanceof IncidentScenario
          ? { incident_road: s.roadId, incident_end: new Date(s.endMs).toISOString() }
          : {}),
      },
      'simulator started',
    );
  }

  async stop(): Promise<void> {
    this.fleet?.stop();
    await this.pool.stop();
  }
}
