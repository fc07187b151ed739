import type { Road } from '@cityflow/protocol';
import { hashString } from '../rng.js';
import { demandAt, hourOfDay } from './profile.js';
import type { RoadCondition, Scenario, ScenarioContext } from './types.js';

/**
 * Per-road share of the city's demand, stable across runs (hash of the road id): main axes carry
 * more than side streets, so at the peak some roads saturate while others stay fluid.
 * Range 0.6 .. 1.12.
 */
export function roadWeight(roadId: string): number {
  return 0.6 + ((hashString(roadId) % 1000) / 1000) * 0.52;
}

/** An ordinary day: the rush-hour profile times each road's weight, nothing disturbed. */
export class NormalScenario implements Scenario {
  readonly name: string = 'normal';
  constructor(protected readonly ctx: ScenarioContext) {}

  condition(road: Road, simMs: number): RoadCondition {
    const demand = demandAt(hourOfDay(simMs, this.ctx.utcOffsetH)) * roadWeight(road.road_id);
    return { demand, speedFactor: 1, flowFactor: 1, occupancyFloor: 0 };
  }
}
