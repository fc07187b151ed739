import type { Road, SensorReading } from '@cityflow/protocol';
import { type Rng, normal, poisson } from './rng.js';
import type { RoadCondition } from './scenarios/types.js';

/**
 * Turns a road condition into one loop-detector reading, the way a real loop reports it:
 * vehicles counted over a window, their mean speed (null when none passed), and occupancy.
 */
export const SENSOR_MODEL = {
  /** Urban signalised lane capacity when the network gives none (veh/h/lane, green share ~50 %). */
  laneCapacityVph: 900,
  /** Drivers keep a little under the limit in free flow. */
  freeFlowShare: 0.95,
  /** Effective vehicle length + loop length (km), for occupancy = flow · length / speed. */
  effectiveLengthKm: 0.0065,
  speedNoise: 0.08,
  occupancyNoise: 0.02,
} as const;

export function laneCapacity(road: Road): number {
  return road.capacity_vph ? road.capacity_vph / road.lanes : SENSOR_MODEL.laneCapacityVph;
}

/** Undisturbed mean speed for a demand ratio: BPR-like, half the free-flow speed at capacity. */
export function speedForDemand(road: Road, demand: number): number {
  const v0 = road.speed_limit_kmh * SENSOR_MODEL.freeFlowShare;
  return v0 / (1 + Math.min(demand, 1.5) ** 4);
}

/** Vehicles/hour through one lane: grows with demand, drops a little once oversaturated. */
export function laneFlow(road: Road, demand: number): number {
  const cap = laneCapacity(road);
  if (demand <= 1) return demand * cap;
  return cap * Math.max(0.6, 1 - 0.4 * (demand - 1));
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export interface ReadingInput {
  sensorId: string;
  road: Road;
  condition: RoadCondition;
  simMs: number;
  rng: Rng;
  /** the detector's counting window: flows and the null-speed chance follow from it */
  windowS: number;
}

export function sensorReading({
  sensorId,
  road,
  condition,
  simMs,
  rng,
  windowS,
}: ReadingInput): SensorReading {
  const flowVph = laneFlow(road, condition.demand) * condition.flowFactor;
  const count = poisson(rng, (flowVph * windowS) / 3600);
  const ts = new Date(Math.floor(simMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const occNoise = () => SENSOR_MODEL.occupancyNoise * normal(rng);
  if (count === 0) {
    // Nobody passed: an empty road (occupancy ~0), or a queue standing on the loop (high occupancy).
    const occupancy =
      condition.occupancyFloor > 0 ? clamp(condition.occupancyFloor + occNoise(), 0, 0.98) : 0;
    return {
      ts,
      sensor_id: sensorId,
      road_id: road.road_id,
      speed_kmh: null,
      flow_rate: 0,
      occupancy: round(occupancy, 3),
    };
  }
  const meanSpeed = speedForDemand(road, condition.demand) * condition.speedFactor;
  const speed = clamp(meanSpeed * (1 + SENSOR_MODEL.speedNoise * normal(rng)), 1, 249);
  const flowRate = (count * 3600) / windowS;
  const rawOcc = (flowRate * SENSOR_MODEL.effectiveLengthKm) / speed + occNoise();
  const occupancy = clamp(Math.max(rawOcc, condition.occupancyFloor), 0, 0.98);
  return {
    ts,
    sensor_id: sensorId,
    road_id: road.road_id,
    speed_kmh: round(speed, 1),
    flow_rate: round(flowRate, 1),
    occupancy: round(occupancy, 3),
  };
}
