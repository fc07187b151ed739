import { type Network, type Reroute, type Road, isCongested } from '@cityflow/protocol';
import { co2Grams } from './emissions.js';
import { type Path, RoadGraph } from './road-graph.js';

/** What the planner knows of a road: predicted (or live) speed and score, and live flow. */
export interface RoadState {
  speedKmh: number | null;
  score: number | null;
  flowVph: number | null;
}

export const REROUTE = {
  /** advice starts at the congestion line (≥ 0.5) and ends only below 0.4: hysteresis, no flapping */
  clearScore: 0.4,
  /** minimum ETA gain per diverted vehicle worth advising, minutes */
  minGainMin: 0.5,
  /** a new alternative replaces the current one only when it gains this much more (relative) */
  switchFactor: 1.25,
  k: 3,
  maxHops: 8,
  /** at most this share of the congested road's flow is diverted */
  maxShare: 0.5,
  /** alternatives are loaded to at most this share of their capacity, so the detour is not the next jam */
  maxAltLoad: 0.8,
  /** signalised urban lane capacity when the network gives none, veh/h/lane */
  laneCapacityVph: 900,
  minSpeedKmh: 3,
} as const;

export const capacityOf = (r: Road) => r.capacity_vph ?? r.lanes * REROUTE.laneCapacityVph;

interface Active {
  path: string[];
  gainMin: number;
}

/**
 * Plans bounded local detours: for a congested road (decision node = its from_node) the k shortest
 * alternatives by predicted travel time to its to_node, or one road further, never using the road itself.
 * Keeps state between cycles for hysteresis.
 */
export class ReroutePlanner {
  private readonly graph: RoadGraph;
  private readonly active = new Map<string, Active>();

  constructor(private readonly net: Network) {
    this.graph = new RoadGraph(net);
  }

  private speedOf(r: Road, s: Map<string, RoadState>): number {
    const v = s.get(r.road_id)?.speedKmh;
    return Math.max(REROUTE.minSpeedKmh, v ?? r.speed_limit_kmh);
  }

  /** travel time of a road in minutes */
  private minutes(r: Road, s: Map<string, RoadState>): number {
    return (r.length_m / 1000 / this.speedOf(r, s)) * 60;
  }

  private co2(roads: string[], s: Map<string, RoadState>): number {
    return roads.reduce((g, id) => {
      const r = this.net.roads.get(id)!;
      return g + co2Grams(r.length_m, this.speedOf(r, s));
    }, 0);
  }

  plan(state: Map<string, RoadState>, nowMs: number, validForMs: number): Reroute[] {
    const cost = (r: Road) => this.minutes(r, state);
    const out: Reroute[] = [];
    for (const road of this.net.roads.values()) {
      const st = state.get(road.road_id);
      const score = st?.score ?? null;
      const wasActive = this.active.get(road.road_id);
      const congested = wasActive ? score !== null && score >= REROUTE.clearScore : isCongested(score);
      if (!congested) {
        this.active.delete(road.road_id);
        continue;
      }
      const best = this.bestDetour(road, state, cost);
      let chosen = best;
      if (wasActive) {
        const stillValid = this.evaluate(road, wasActive.path, state, cost);
        if (stillValid && (!best || best.gainMin < stillValid.gainMin * REROUTE.switchFactor))
          chosen = stillValid;
      }
      if (!chosen || chosen.gainMin < REROUTE.minGainMin) {
        this.active.delete(road.road_id);
        continue;
      }
      this.active.set(road.road_id, { path: chosen.alt, gainMin: chosen.gainMin });
      const flow = st?.flowVph ?? capacityOf(road) * REROUTE.maxAltLoad;
      const spare = Math.min(
        ...chosen.alt.map((id) => {
          const r = this.net.roads.get(id)!;
          return REROUTE.maxAltLoad * capacityOf(r) - (state.get(id)?.flowVph ?? 0);
        }),
      );
      const share = flow > 0 ? Math.max(0, Math.min(REROUTE.maxShare, spare / flow)) : 0;
      if (share <= 0.01) continue;
      const co2PerVehicle = this.co2(chosen.base, state) - this.co2(chosen.alt, state);
      const speed = state.get(road.road_id)?.speedKmh;
      out.push({
        ts: new Date(nowMs).toISOString(),
        route_id: road.road_id,
        alt_route_id: `alt:${chosen.alt.join('>')}`,
        reason: `congestion ${score!.toFixed(2)} predicted on ${road.road_id} (${speed == null ? 'no speed' : `${speed.toFixed(0)} km/h`}, limit ${road.speed_limit_kmh} km/h)`,
        estimated_co2_gain: round((share * flow * co2PerVehicle) / 1000, 3),
        eta_gain_min: round(chosen.gainMin, 2),
        path: chosen.alt,
        decision_node: road.from_node,
        diverted_share: round(share, 3),
        valid_until: new Date(nowMs + validForMs).toISOString(),
        co2_gain_g_per_vehicle: round(co2PerVehicle, 1),
      });
    }
    return out;
  }

  /** Best detour over the rejoin points: the road's to_node, or one road further downstream. */
  private bestDetour(road: Road, state: Map<string, RoadState>, cost: (r: Road) => number) {
    let best: { base: string[]; alt: string[]; gainMin: number } | null = null;
    const rejoins: Array<{ node: string; base: string[] }> = [{ node: road.to_node, base: [road.road_id] }];
    for (const next of this.graph.out.get(road.to_node) ?? [])
      if (next.to_node !== road.from_node)
        rejoins.push({ node: next.to_node, base: [road.road_id, next.road_id] });
    for (const { node, base } of rejoins) {
      const baseCost = base.reduce((s, id) => s + cost(this.net.roads.get(id)!), 0);
      const paths: Path[] = this.graph.kShortest(road.from_node, node, REROUTE.k, cost, {
        excludeRoads: new Set([road.road_id]),
        maxCost: baseCost,
        maxHops: REROUTE.maxHops,
      });
      for (const p of paths) {
        const gainMin = baseCost - p.cost;
        if (!best || gainMin > best.gainMin) best = { base, alt: p.roads, gainMin };
      }
      void state;
    }
    return best;
  }

  /** Re-evaluates the current advice's path under the new state (null when it no longer rejoins). */
  private evaluate(road: Road, alt: string[], _state: Map<string, RoadState>, cost: (r: Road) => number) {
    const last = this.net.roads.get(alt[alt.length - 1]!);
    if (!last) return null;
    const base = last.to_node === road.to_node ? [road.road_id] : this.continuation(road, last.to_node);
    if (!base) return null;
    const baseCost = base.reduce((s, id) => s + cost(this.net.roads.get(id)!), 0);
    const altCost = alt.reduce((s, id) => s + cost(this.net.roads.get(id)!), 0);
    return { base, alt, gainMin: baseCost - altCost };
  }

  private continuation(road: Road, rejoin: string): string[] | null {
    const next = (this.graph.out.get(road.to_node) ?? []).find((r) => r.to_node === rejoin);
    return next ? [road.road_id, next.road_id] : null;
  }
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
