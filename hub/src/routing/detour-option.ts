import type { Incident, Reroute } from '@cityflow/protocol';
import type { RoadCondition } from './road-conditions.js';

/** A scored detour: the stretch it replaces, the alternative, and what it gains per vehicle and per hour. */
export interface DetourOption {
  decision: string;
  rejoin: string;
  base: string[];
  alt: string[];
  /** per diverted vehicle: time now on the stretch minus time on the loaded alternative, s */
  gainS: number;
  /** the same once the diverted traffic has left the stretch: > 0 means the alternative stays better */
  gainAfterS: number;
  coverage: number;
  /** share of the road's traffic that passes the decision node: the part of the diverted the path carries */
  pathShare: number;
  co2PerVehicleG: number;
  co2RateKgH: number;
  divertedVph: number;
}

/** The reroute item the API, the WebSocket and the agents serve for a chosen detour (DESIGN.md fields). */
export function toReroute(
  c: RoadCondition,
  o: DetourOption,
  incident: Incident | undefined,
  share: number,
  nowMs: number,
  validForMs: number,
): Reroute {
  return {
    ts: new Date(nowMs).toISOString(),
    route_id: c.road.road_id,
    alt_route_id: `alt:${o.alt.join('>')}`,
    reason: `${incident ? 'incident' : 'congestion'} on ${c.road.road_id} (score ${c.score.toFixed(2)}: ${c.why}); ${Math.round(c.timeS)} s to cross, detour from ${o.decision} to ${o.rejoin}`,
    estimated_co2_gain: round(o.co2RateKgH, 3),
    eta_gain_min: round(o.gainS / 60, 2),
    path: o.alt,
    decision_node: o.decision,
    diverted_share: round(share, 3),
    valid_until: new Date(nowMs + validForMs).toISOString(),
    co2_gain_g_per_vehicle: round(o.co2PerVehicleG, 1),
    incident_id: incident?.incident_id ?? null,
  };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
