import type { Network, Road } from '@cityflow/protocol';
import { CityFlowError } from '@cityflow/protocol';
import { NormalScenario, roadWeight } from './normal.js';
import type { RoadCondition, ScenarioContext } from './types.js';

export interface IncidentOptions {
  /** road where the incident happens; default: the busiest road with the most feeders */
  roadId?: string;
  /** incident start (simulated ms since epoch) */
  startMs: number;
  /** Infinity = until ended on demand (see OnDemandIncidents) */
  durationMin: number;
  /** minutes for the queue to build (default RAMP_IN_MIN) */
  rampInMin?: number;
}

/** How hard the incident hits each level: the road itself, its feeders, their feeders. */
const IMPACT = [
  { speedFactor: 0.12, flowFactor: 0.3, occupancyFloor: 0.7 },
  { speedFactor: 0.4, flowFactor: 0.7, occupancyFloor: 0.35 },
  { speedFactor: 0.75, flowFactor: 0.9, occupancyFloor: 0.15 },
] as const;
/** A queue takes minutes to build and longer to clear. */
const RAMP_IN_MIN = 2;
const RAMP_OUT_MIN = 5;

/** Roads that feed `roadId` (their `to_node` is its `from_node`), excluding the U-turn back from it. */
function feeders(net: Network, road: Road): Road[] {
  return [...net.roads.values()].filter((r) => r.to_node === road.from_node && r.from_node !== road.to_node);
}

/**
 * Default incident road: an inner road (both ends signalised intersections, so there are detours
 * around it) with the most feeders; ties broken by demand weight, then id.
 */
export function defaultIncidentRoad(net: Network): string {
  const inner = (r: Road) => (net.intersections.has(r.from_node) && net.intersections.has(r.to_node) ? 1 : 0);
  const roads = [...net.roads.values()].sort(
    (a, b) =>
      inner(b) - inner(a) ||
      feeders(net, b).length - feeders(net, a).length ||
      roadWeight(b.road_id) - roadWeight(a.road_id) ||
      a.road_id.localeCompare(b.road_id),
  );
  return roads[0]!.road_id;
}

/**
 * The normal day plus one incident (e.g. a broken-down vehicle): the road's speed collapses for
 * `durationMin`, and the queue spills back onto the roads feeding it (level 1) and theirs (level 2).
 */
export class IncidentScenario extends NormalScenario {
  override readonly name = 'incident';
  readonly roadId: string;
  /** road id -> spillback level (0 = the incident road) */
  readonly levels = new Map<string, number>();

  constructor(
    ctx: ScenarioContext,
    private readonly opts: IncidentOptions,
  ) {
    super(ctx);
    const net = ctx.network;
    this.roadId = opts.roadId ?? defaultIncidentRoad(net);
    const road = net.roads.get(this.roadId);
    if (!road)
      throw new CityFlowError(
        'CF_INVALID_CONFIG',
        `incident road ${this.roadId} is not a road of the network`,
      );
    this.levels.set(road.road_id, 0);
    for (const f1 of feeders(net, road)) {
      if (!this.levels.has(f1.road_id)) this.levels.set(f1.road_id, 1);
      for (const f2 of feeders(net, f1)) if (!this.levels.has(f2.road_id)) this.levels.set(f2.road_id, 2);
    }
  }

  get endMs(): number {
    return this.opts.startMs + this.opts.durationMin * 60_000;
  }

  /** 0 outside the incident, ramping to 1 while it lasts and back to 0 after it clears. */
  intensity(simMs: number): number {
    const { startMs } = this.opts;
    if (simMs < startMs) return 0;
    const inMin = (simMs - startMs) / 60_000;
    if (simMs < this.endMs) return Math.min(1, inMin / (this.opts.rampInMin ?? RAMP_IN_MIN));
    const outMin = (simMs - this.endMs) / 60_000;
    return Math.max(0, 1 - outMin / RAMP_OUT_MIN);
  }

  override condition(road: Road, simMs: number): RoadCondition {
    const base = super.condition(road, simMs);
    const level = this.levels.get(road.road_id);
    const k = level === undefined ? 0 : this.intensity(simMs);
    if (k === 0 || level === undefined) return base;
    const hit = IMPACT[level]!;
    const mix = (full: number) => 1 - k * (1 - full);
    return {
      demand: base.demand,
      speedFactor: mix(hit.speedFactor),
      flowFactor: mix(hit.flowFactor),
      occupancyFloor: k * hit.occupancyFloor,
    };
  }
}
