import type { Network, Reroute } from '@cityflow/protocol';
import { createRng, hashString } from '../rng.js';
import { CMD, put, TraciClient, TraciError, VAR } from './traci-client.js';

/**
 * A complying driver who cannot take the advised path reroutes with the advised road's travel time
 * penalised by what the advice says it costs: SUMO's current time on it plus the advised ETA gain
 * (at least this much), so the router avoids it where a way around is really cheaper and keeps it where
 * every way around is longer.
 */
export const MIN_PENALTY_S = 30;

/** The advised road's travel time for a complier who cannot take the path: SUMO's now plus the gain. */
export function penalisedTimeS(currentS: number, a: Pick<Reroute, 'eta_gain_min'>): number {
  return currentS + Math.max(MIN_PENALTY_S, a.eta_gain_min * 60);
}

export interface DriverStats {
  /** (vehicle, advised road) pairs decided */
  decisions: number;
  complied: number;
  /** complying vehicles that took the advised path (spliced, or completed by SUMO's router) */
  splicedPath: number;
  completedByRouter: number;
  /** complying vehicles rerouted by SUMO with the advised road penalised */
  penalisedReroutes: number;
  /** route changes SUMO refused (vehicle on a junction, disconnected route): counted, not fatal */
  refused: number;
}

export interface VehicleRoute {
  id: string;
  route: string[];
  index: number;
}

/**
 * The closed loop's driver model (the rule, kept exactly so results compare across runners):
 * a vehicle whose remaining route crosses an advised `route_id` complies with probability
 * `compliance`, decided once per vehicle and road; a complying vehicle takes `path` when it can be
 * spliced into its route (leave at or before the decision node, rejoin after the advised road, or
 * complete to the destination with SUMO's router), otherwise it reroutes with that road penalised.
 */
export class DriverModel {
  private readonly decided = new Set<string>();
  readonly stats: DriverStats = {
    decisions: 0,
    complied: 0,
    splicedPath: 0,
    completedByRouter: 0,
    penalisedReroutes: 0,
    refused: 0,
  };
  /** vehicles whose route this model changed (the test checks advice changes routes) */
  readonly rerouted = new Set<string>();

  constructor(
    private readonly net: Network,
    private readonly compliance: number,
    private readonly seed: number,
  ) {}

  /**
   * Whether this vehicle complies with advice on this road: a draw seeded by (seed, vehicle, road),
   * so the decision does not depend on the order vehicles are looked at, and two runners agree.
   */
  complies(vehicleId: string, roadId: string): boolean {
    return createRng(hashString(`${this.seed}|${vehicleId}|${roadId}`))() < this.compliance;
  }

  /** Applies the advice in force to the vehicles in the network. */
  async apply(traci: TraciClient, vehicles: string[], advice: Reroute[]): Promise<void> {
    if (!advice.length || !vehicles.length) return;
    const advised = new Map(advice.map((a) => [a.route_id, a]));
    const got = await traci.batchSettled(
      vehicles.flatMap((id) => [
        TraciClient.get(CMD.getVehicle, VAR.edges, id),
        TraciClient.get(CMD.getVehicle, VAR.routeIndex, id),
      ]),
    );
    const changes: Array<() => Promise<void>> = [];
    vehicles.forEach((id, i) => {
      const route = got[2 * i];
      const index = got[2 * i + 1];
      if (!Array.isArray(route) || typeof index !== 'number' || index < 0) return;
      const v: VehicleRoute = { id, route: route as string[], index };
      // (a vehicle whose destination is on the advised road cannot avoid it: it does not cross it)
      for (let j = v.index + 1; j < v.route.length - 1; j++) {
        const a = advised.get(v.route[j]!);
        if (!a) continue;
        const key = `${id}|${a.route_id}`;
        if (this.decided.has(key)) continue;
        this.decided.add(key);
        this.stats.decisions++;
        if (!this.complies(id, a.route_id)) continue;
        this.stats.complied++;
        changes.push(() => this.comply(traci, v, j, a));
        break; // one change per vehicle per minute: the new route is examined next minute
      }
    });
    for (const c of changes) await c();
  }

  private async comply(traci: TraciClient, v: VehicleRoute, j: number, a: Reroute): Promise<void> {
    const plan = splice(this.net, v, j, a);
    if (plan.kind === 'route' && !loops(this.net, plan.route)) {
      if (await this.setRoute(traci, v.id, plan.route)) {
        this.stats.splicedPath++;
        return;
      }
    } else if (plan.kind === 'complete') {
      const dest = v.route[v.route.length - 1]!;
      const last = plan.prefix[plan.prefix.length - 1]!;
      const [found] = await traci.batchSettled([
        TraciClient.get(CMD.getSim, VAR.findRoute, '', put.findRoute(last, dest)),
      ]);
      const edges = Array.isArray(found) ? (found as unknown[]).find((x) => Array.isArray(x)) : undefined;
      const route = Array.isArray(edges) ? [...plan.prefix, ...(edges as string[]).slice(1)] : [];
      if (Array.isArray(edges) && edges.length && edges[0] === last && !loops(this.net, route)) {
        if (await this.setRoute(traci, v.id, route)) {
          this.stats.completedByRouter++;
          return;
        }
      }
    }
    const [now] = await traci.batchSettled([TraciClient.get(CMD.getEdge, VAR.currentTravelTime, a.route_id)]);
    const current = typeof now === 'number' && Number.isFinite(now) ? now : 0;
    const penalty = penalisedTimeS(current, a);
    const [r1, r2] = await traci.batchSettled([
      TraciClient.set(CMD.setVehicle, VAR.edgeTravelTime, v.id, put.edgeTime(a.route_id, penalty)),
      TraciClient.set(CMD.setVehicle, VAR.rerouteTravelTime, v.id, put.emptyCompound()),
    ]);
    if (r1 instanceof TraciError || r2 instanceof TraciError) this.stats.refused++;
    else {
      this.stats.penalisedReroutes++;
      this.rerouted.add(v.id);
    }
  }

  private async setRoute(traci: TraciClient, id: string, route: string[]): Promise<boolean> {
    const [r] = await traci.batchSettled([
      TraciClient.set(CMD.setVehicle, VAR.route, id, put.stringList(route)),
    ]);
    if (r instanceof TraciError) {
      this.stats.refused++;
      return false;
    }
    this.rerouted.add(id);
    return true;
  }
}

export type SplicePlan =
  | { kind: 'route'; route: string[] }
  | { kind: 'complete'; prefix: string[] }
  | { kind: 'none' };

/**
 * Where the advised path fits a vehicle's remaining route (`route[index]` is the road it is on, `j`
 * the advised road ahead): it leaves at the decision node (a road of the route that starts there, not
 * yet entered), and rejoins after the advised road where the route passes the path's last node.
 */
export function splice(net: Network, v: VehicleRoute, j: number, a: Reroute): SplicePlan {
  const from = (id: string) => net.roads.get(id)?.from_node;
  const to = (id: string) => net.roads.get(id)?.to_node;
  if (!a.path.length) return { kind: 'none' };
  let k = -1;
  for (let i = v.index + 1; i <= j; i++)
    if (from(v.route[i]!) === a.decision_node) {
      k = i;
      break;
    }
  if (k < 0) return { kind: 'none' };
  const prefix = [...v.route.slice(v.index, k), ...a.path];
  const rejoin = to(a.path[a.path.length - 1]!);
  for (let l = j + 1; l < v.route.length; l++)
    if (from(v.route[l]!) === rejoin) return { kind: 'route', route: [...prefix, ...v.route.slice(l)] };
  if (to(v.route[v.route.length - 1]!) === rejoin && a.path.includes(v.route[v.route.length - 1]!))
    return { kind: 'route', route: prefix };
  return { kind: 'complete', prefix };
}

/** A route that passes a junction twice (a splice that doubles back): no driver would take it. */
export function loops(net: Network, route: string[]): boolean {
  const seen = new Set<string>();
  for (const id of route) {
    const r = net.roads.get(id);
    if (!r) continue;
    if (seen.has(r.from_node)) return true;
    seen.add(r.from_node);
  }
  return false;
}
