import type { Network, Road } from '@cityflow/protocol';

/**
 * What a scenario says about one road at one instant; the sensor model turns it into readings.
 * A scenario never draws random numbers itself, so it can be tested as a pure function of time.
 */
export interface RoadCondition {
  /** volume / capacity the road would see without disturbance (0 = empty, 1 = at capacity) */
  demand: number;
  /** multiplier on the speed the demand alone gives (1 = undisturbed, 0.1 = nearly stopped) */
  speedFactor: number;
  /** multiplier on the flow that gets through (a blocked lane lets fewer vehicles pass) */
  flowFactor: number;
  /** lowest occupancy a detector reads (a standing queue keeps the loop occupied) */
  occupancyFloor: number;
}

export interface Scenario {
  readonly name: string;
  condition(road: Road, simMs: number): RoadCondition;
}

export interface ScenarioContext {
  network: Network;
  /** hours to add to UTC to get the network's local time of day */
  utcOffsetH: number;
}
