import type { Road } from '@cityflow/protocol';
import { CityFlowError } from '@cityflow/protocol';
import { IncidentScenario } from './incident.js';
import type { RoadCondition, Scenario, ScenarioContext } from './types.js';

/** An incident started on demand builds its queue faster than the scripted one: a demo should not wait. */
export const ON_DEMAND_RAMP_IN_MIN = 0.5;

export interface ActiveIncident {
  road_id: string;
  started_at: string;
  ended_at: string | null;
}

/**
 * Incidents started and ended while the simulation runs (`cityflow-sim incident start|end`), on top of
 * any scenario. Each one is an IncidentScenario (same spill-back onto the feeders) whose end is set
 * when it is ended; it then clears over the usual ramp-out and is forgotten.
 */
export class OnDemandIncidents implements Scenario {
  readonly name: string;
  private readonly incidents = new Map<string, { scenario: IncidentScenario; info: ActiveIncident }>();

  constructor(
    private readonly base: Scenario,
    private readonly ctx: ScenarioContext,
  ) {
    this.name = base.name;
  }

  start(roadId: string, simMs: number): ActiveIncident {
    if (!this.ctx.network.roads.has(roadId))
      throw new CityFlowError('CF_INVALID_CONFIG', `road ${roadId} is not a road of the network`);
    const running = this.incidents.get(roadId);
    if (running && running.info.ended_at === null) return running.info;
    const scenario = new IncidentScenario(this.ctx, {
      roadId,
      startMs: simMs,
      durationMin: Number.POSITIVE_INFINITY,
      rampInMin: ON_DEMAND_RAMP_IN_MIN,
    });
    const info = { road_id: roadId, started_at: new Date(simMs).toISOString(), ended_at: null };
    this.incidents.set(roadId, { scenario, info });
    return info;
  }

  end(roadId: string, simMs: number): ActiveIncident {
    const running = this.incidents.get(roadId);
    if (!running || running.info.ended_at !== null)
      throw new CityFlowError('CF_INVALID_CONFIG', `no incident running on road ${roadId}`);
    const startMs = Date.parse(running.info.started_at);
    running.scenario = new IncidentScenario(this.ctx, {
      roadId,
      startMs,
      durationMin: Math.max(0, simMs - startMs) / 60_000,
      rampInMin: ON_DEMAND_RAMP_IN_MIN,
    });
    running.info = { ...running.info, ended_at: new Date(simMs).toISOString() };
    return running.info;
  }

  list(): ActiveIncident[] {
    return [...this.incidents.values()].map((x) => x.info);
  }

  condition(road: Road, simMs: number): RoadCondition {
    let c = this.base.condition(road, simMs);
    for (const [id, x] of this.incidents) {
      // A cleared incident whose queue has dissolved is dropped.
      if (x.info.ended_at !== null && x.scenario.intensity(simMs) === 0 && simMs > x.scenario.endMs) {
        this.incidents.delete(id);
        continue;
      }
      if (!x.scenario.levels.has(road.road_id)) continue;
      const hit = x.scenario.condition(road, simMs);
      // The worst of overlapping disturbances wins on each factor.
      c = {
        demand: c.demand,
        speedFactor: Math.min(c.speedFactor, hit.speedFactor),
        flowFactor: Math.min(c.flowFactor, hit.flowFactor),
        occupancyFloor: Math.max(c.occupancyFloor, hit.occupancyFloor),
      };
    }
    return c;
  }
}
