import type { Network } from '@cityflow/protocol';
import { freeFlowS, incrementalDelayS, uniformDelayS } from './delay-model.js';
import type { DetourOption } from './detour-option.js';
import { roadCo2Grams } from './emissions.js';
import { movementTimeS, type RoadCondition, timeWithLoadS } from './road-conditions.js';
import type { RoadGraph } from './road-graph.js';
import { movementDelay, turnAfter, turnBetween } from './turns.js';

/** An alternative's roads must stay below this degree of saturation with the advice's load. */
export const MAX_ALT_SATURATION = 0.9;

/** The stretch an alternative replaces: where drivers leave it, where they rejoin, and whom it fits. */
export interface Stretch {
  decision: string;
  rejoin: string;
  base: string[];
  /** share of the diverted traffic the stretch fits (bound where the path rejoins): what it is ranked by */
  coverage: number;
  /** share of the road's traffic that passes the decision node: the part of the diverted the path carries */
  pathShare: number;
}

/**
 * What one detour gains: per diverted vehicle (ETA, with the load the advice puts on the alternative
 * and the relief it gives the stretch) and per hour for the whole neighbourhood (CO2). The planner
 * decides which detours to issue and keep; this only prices them, so both a new advice and one in force
 * are scored by the same rule.
 */
export class DetourEvaluator {
  constructor(
    private readonly net: Network,
    private readonly graph: RoadGraph,
    /** share of the drivers who see advice and follow it: the load the advice puts on its path */
    private readonly compliance: number,
  ) {}

  /**
   * An advice in force scored again on this cycle's conditions: `inForce` on what the loops see now
   * (its diverted traffic already in them), or off for what it saves against no advice at all.
   */
  rescore(
    c: RoadCondition,
    o: DetourOption,
    conds: Map<string, RoadCondition>,
    added: Map<string, number>,
    inForce: boolean,
  ): DetourOption | null {
    return this.evaluate(c, o, o.alt, conds, added, inForce);
  }

  /** Scores an alternative with the load it would take: `compliance` of the congested road's flow. */
  evaluate(
    c: RoadCondition,
    stretch: Stretch,
    alt: string[],
    conds: Map<string, RoadCondition>,
    added: Map<string, number>,
    inForce = false,
  ): DetourOption | null {
    const { decision, rejoin, base, coverage, pathShare } = stretch;
    if (!alt.length || alt.includes(c.road.road_id)) return null;
    for (const id of alt) if (!this.net.roads.has(id)) return null;
    // Every complying driver leaves the road, whichever way it came; the path carries those that pass
    // its decision node (`pathShare` of the road's traffic: the others cannot join it and go their own
    // way round), while the option is ranked by the share it fits (coverage). What the loops see
    // already is not added again: none of it when the advice is in force.
    const diverted = this.demand(c, conds) * this.compliance;
    const relief = inForce ? 0 : diverted;
    const load = inForce ? 0 : diverted * pathShare;
    for (const id of alt) {
      const a = conds.get(id);
      if (a && (a.flowVph + (added.get(id) ?? 0) + load) / a.capacity > MAX_ALT_SATURATION) return null;
    }
    const with_ = (id: string, extra: number) => {
      const cc = conds.get(id);
      const load = (added.get(id) ?? 0) + extra;
      return cc ? timeWithLoadS(cc, load) : freeFlowS(this.net.roads.get(id)!);
    };
    // Each road of a stretch priced for the movement into the next one (its lanes may disagree).
    const along = (ids: string[], extra: (id: string) => number) =>
      ids.reduce((t, id, i) => {
        const cc = conds.get(id);
        const raw = with_(id, extra(id));
        return t + (cc ? movementTimeS(cc, turnAfter(this.net.roads, ids, i), raw) : raw);
      }, 0);
    // Turning movements inside a stretch are priced on their own capacity: a detour trades straight
    // movements for turns, and a left-turn pocket saturates long before its road does.
    const turns = (ids: string[], extra: number): number | null => {
      let t = 0;
      for (let i = 0; i + 1 < ids.length; i++) {
        const cc = conds.get(ids[i]!);
        if (!cc?.signalised) continue;
        const turn = turnBetween(cc.road, this.net.roads.get(ids[i + 1]!)!);
        const load = (added.get(ids[i]!) ?? 0) + extra;
        const m = movementDelay(cc.road, cc.capacity, cc.flowVph, turn, load);
        if (extra > 0 && m.x > MAX_ALT_SATURATION) return null;
        const x = (cc.flowVph + load) / cc.capacity;
        t += Math.max(0, m.delayS - (uniformDelayS(x) + incrementalDelayS(x, cc.capacity)));
      }
      return t;
    };
    const altTurns = turns(alt, load);
    if (altTurns === null) return null;
    const baseTurns = turns(base, 0) ?? 0;
    const baseNow = along(base, () => 0) + baseTurns;
    const baseAfter = along(base, (id) => (id === c.road.road_id ? -relief : 0)) + baseTurns;
    const altLoaded = along(alt, () => load) + altTurns;
    const co2 = (ids: string[], extra: (id: string) => number) =>
      ids.reduce((g, id, i) => {
        const cc = conds.get(id);
        const r = this.net.roads.get(id)!;
        const raw = with_(id, extra(id));
        const t = cc ? movementTimeS(cc, turnAfter(this.net.roads, ids, i), raw) : raw;
        const run = freeFlowS(r);
        return g + roadCo2Grams(r.length_m, cc?.speedKmh ?? r.speed_limit_kmh, Math.max(0, t - run));
      }, 0);
    const co2Base = co2(base, () => 0);
    const co2Alt = co2(alt, () => load);
    // What the whole neighbourhood saves per hour: diverted vehicles take the shorter-in-time path, the
    // vehicles left on the road see its queue shrink, the alternative's own traffic pays for the load.
    // Only the diverted vehicles the stretch fits (`coverage`: those bound where the path rejoins) are
    // credited with the stretch's saving; the others follow the advice too, to places it does not
    // lead, and are credited nothing (their gain or loss depends on where they go).
    const staying = Math.max(0, c.flowVph - relief);
    const co2Stay = co2([c.road.road_id], () => 0) - co2([c.road.road_id], () => -relief);
    const co2AltOwn = alt.reduce((g, id) => {
      const cc = conds.get(id);
      if (!cc) return g;
      return g + cc.flowVph * (co2([id], () => load) - co2([id], () => 0));
    }, 0);
    const rate = diverted * coverage * (co2Base - co2Alt) + staying * co2Stay - co2AltOwn;
    return {
      decision,
      rejoin,
      base,
      alt,
      gainS: baseNow - altLoaded,
      gainAfterS: baseAfter - altLoaded,
      coverage,
      pathShare,
      co2PerVehicleG: co2Base - co2Alt,
      co2RateKgH: rate / 1000,
      divertedVph: diverted,
    };
  }

  /** Traffic that wants to cross the road: its flow, or for a road passing nothing, what feeds it. */
  demand(c: RoadCondition, conds: Map<string, RoadCondition>): number {
    if (c.flowVph > 0) return c.flowVph;
    let inflow = 0;
    for (const f of this.graph.into.get(c.road.from_node) ?? []) {
      if (f.from_node === c.road.to_node) continue;
      const outs = (this.graph.out.get(f.to_node) ?? []).filter((r) => r.to_node !== f.from_node).length;
      inflow += (conds.get(f.road_id)?.flowVph ?? 0) / Math.max(1, outs);
    }
    return inflow;
  }
}
