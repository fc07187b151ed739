import type { Incident, Network, Reroute, Road } from '@cityflow/protocol';
import { freeFlowS } from './delay-model.js';
import { DetourEvaluator, type Stretch } from './detour-evaluation.js';
import { type DetourOption as Option, toReroute } from './detour-option.js';
import {
  blockedByIncident,
  movementTimeS,
  planningScore,
  type RoadCondition,
  timeWithLoadS,
} from './road-conditions.js';
import { RoadGraph } from './road-graph.js';
import { turnAfter } from './turns.js';

export interface PlannerSettings {
  /** a road forecast at or above this congestion score gets advice (DESIGN: congested ≥ 0.5) */
  congestedScore: number;
  /** advice in force ends only below this score (hysteresis) */
  clearScore: number;
  /** share of the drivers who see advice and follow it: the load the advice puts on its path */
  compliance: number;
}

export const PLANNER = {
  /** cycles a road must be congested before advice starts (an incident starts it at once) */
  persistCycles: 2,
  /**
   * Minimum ETA gain per diverted vehicle: 30 s, or 20 % of the stretch's free-flow time if more. Travel
   * times read from point detectors are uncertain by tens of seconds per signalised road; advice that
   * gains less than that error is as likely to cost drivers time as to save it.
   */
  minGainS: 30,
  minGainShare: 0.2,
  /** an advice in force is replaced only by one that gains this much more */
  switchFactor: 1.25,
  /**
   * An advice in force holds while what a driver gains on it now (observed, with the advice's own
   * traffic on both ways) is at least this share of the minimum gain to start one: hysteresis on the
   * gain, as on the score, so advice neither flaps nor outlives its use.
   */
  keepGainShare: 0.5,
  /** decision nodes up to this many roads upstream, rejoin points this many downstream */
  upstreamDepth: 2,
  downstreamDepth: 2,
  /** roads upstream plus downstream of the congested road in one stretch, at most */
  stretchDepth: 2,
  /** stretches (decision, rejoin) whose k alternatives are scored in full, best-ranked first */
  stretchesScored: 3,
  k: 3,
  /** an alternative may use at most this many more roads than the stretch it replaces */
  extraHops: 3,
  /** a stretch (decision node -> rejoin) counts only if within this share of the best free-flow way */
  stretchSlack: 0.1,
} as const;

interface Chain {
  roads: Road[];
  /** share of the congested road's traffic that uses this chain (flow-proportional turning split) */
  share: number;
}

interface Active {
  option: Option;
  incidentId: string | null;
}

/**
 * Queue-aware local detours. For a road forecast congested, decision nodes one or two roads upstream
 * and rejoin points one or two downstream are tried; between each pair the k shortest paths avoiding
 * the road (Yen, bounded to the neighbourhood) are scored by travel time with the load the advice adds
 * (every alternative road pays for the diverted vehicles through the delay model), and the option
 * saving most vehicle-time wins. Advice starts after two congested cycles (or at once for an
 * incident), ends below the clear score, keeps its path unless another gains 25 % more, and is never
 * issued when the alternative would stop being better once the traffic moved: it must not become the
 * next jam.
 */
export class DetourPlanner {
  private readonly graph: RoadGraph;
  private readonly evaluator: DetourEvaluator;
  private readonly active = new Map<string, Active>();
  private readonly congestedFor = new Map<string, number>();

  constructor(
    private readonly net: Network,
    private readonly settings: PlannerSettings,
  ) {
    this.graph = new RoadGraph(net);
    this.evaluator = new DetourEvaluator(net, this.graph, settings.compliance);
  }

  /** Roads whose advice ended in the last `plan` (their rows are closed at once), and why. */
  ended: string[] = [];
  endedWhy = new Map<string, string>();
  private lastConds = new Map<string, RoadCondition>();
  private readonly timeCache = new Map<string, number>();

  plan(
    conds: Map<string, RoadCondition>,
    incidentOn: (roadId: string) => Incident | undefined,
    nowMs: number,
    validForMs: number,
  ): Reroute[] {
    const s = this.settings;
    this.lastConds = conds;
    const added = new Map<string, number>();
    this.timeCache.clear();
    const candidates: RoadCondition[] = [];
    this.ended = [];
    this.endedWhy = new Map();
    for (const [id, raw] of conds) {
      const incident = incidentOn(id);
      const c = incident ? blockedByIncident(raw) : raw;
      if (c !== raw) conds.set(id, c);
      const was = this.active.has(id);
      const score = planningScore(c);
      const hot = score >= s.congestedScore;
      const n = hot ? (this.congestedFor.get(id) ?? 0) + 1 : 0;
      this.congestedFor.set(id, n);
      const wanted = incident || (was ? score >= s.clearScore : n >= PLANNER.persistCycles);
      if (wanted) candidates.push(c);
      else if (was) this.end(id, `score ${score.toFixed(2)} below ${s.clearScore} (${c.why})`);
    }
    // Worst first: the heaviest delay claims the spare capacity around it.
    candidates.sort((a, b) => b.delayS * b.flowVph - a.delayS * a.flowVph);
    const out: Reroute[] = [];
    for (const c of candidates) {
      const id = c.road.road_id;
      const incident = incidentOn(id);
      const prev = this.active.get(id);
      const best = this.bestOption(c, conds, added);
      let chosen = best && this.acceptable(best) ? best : null;
      let held = false;
      if (prev) {
        const o = prev.option;
        const again = (inForce: boolean) => this.evaluator.rescore(c, o, conds, added, inForce);
        // The advice in force is judged on what the loops see now, its own diverted traffic included:
        // adding that load again would count it twice and end every advice the minute after it starts.
        const now = again(true);
        if (now && this.holds(now) && (!chosen || chosen.gainS < now.gainS * PLANNER.switchFactor)) {
          // Kept on what drivers gain now; its CO2 is still what the advice saves against none (the
          // whole neighbourhood, as when it started), which the observed state alone cannot say.
          const against = again(false);
          chosen = against ? { ...now, co2RateKgH: against.co2RateKgH } : now;
          held = true;
        }
      }
      if (!chosen) {
        if (prev) this.end(id, 'no way around gains enough any more');
        continue;
      }
      this.active.set(id, { option: chosen, incidentId: incident?.incident_id ?? null });
      // A new advice's load goes on its path for the roads planned after it; a held one's is observed.
      if (!held) {
        for (const a of chosen.alt) {
          added.set(a, (added.get(a) ?? 0) + chosen.divertedVph * chosen.pathShare);
          this.timeCache.delete(a);
        }
        added.set(id, (added.get(id) ?? 0) - chosen.divertedVph);
        this.timeCache.delete(id);
      }
      out.push(this.toReroute(c, chosen, incident, nowMs, validForMs));
    }
    return out;
  }

  private end(roadId: string, why: string) {
    this.active.delete(roadId);
    this.ended.push(roadId);
    this.endedWhy.set(roadId, why);
  }

  /** The gain a new advice must offer per diverted vehicle (with its own load on the alternative). */
  private minGain(o: Option): number {
    const baseS = o.base.reduce((t, id) => t + freeFlowS(this.net.roads.get(id)!), 0);
    return Math.max(PLANNER.minGainS, PLANNER.minGainShare * baseS);
  }

  private acceptable(o: Option): boolean {
    return o.gainS >= this.minGain(o) && o.gainAfterS > 0 && o.divertedVph > 0;
  }

  /** An advice in force stays while the observed gain is at least `keepGainShare` of the start gain. */
  private holds(o: Option): boolean {
    return o.gainS >= PLANNER.keepGainShare * this.minGain(o) && o.divertedVph > 0;
  }

  /**
   * Two passes, so a cycle stays fast on a city: one bounded search per decision node ranks every
   * (decision, rejoin) stretch by its best alternative; only the most promising stretches then get the
   * k shortest alternatives (Yen) scored with the load the advice adds.
   */
  private bestOption(
    c: RoadCondition,
    conds: Map<string, RoadCondition>,
    added: Map<string, number>,
  ): Option | null {
    const cost = (r: Road) => this.loadedTime(conds, r.road_id, added);
    const exclude = new Set([c.road.road_id]);
    const downs = this.chains(c.road, 'down', conds);
    const ranked: Array<Stretch & { estimate: number }> = [];
    for (const up of this.chains(c.road, 'up', conds)) {
      const decision = up.roads.length ? up.roads[0]!.from_node : c.road.from_node;
      const stretches = downs
        .filter((down) => up.roads.length + down.roads.length <= PLANNER.stretchDepth)
        .map((down) => {
          const base = [
            ...up.roads.map((r) => r.road_id),
            c.road.road_id,
            ...down.roads.map((r) => r.road_id),
          ];
          const rejoin = down.roads.length ? down.roads[down.roads.length - 1]!.to_node : c.road.to_node;
          return { rejoin, base, coverage: up.share * down.share, pathShare: up.share };
        })
        .filter((x) => x.rejoin !== decision);
      if (!stretches.length) continue;
      const hops = PLANNER.stretchDepth + 1 + PLANNER.extraHops;
      const freeOf = (ids: string[]) => ids.reduce((t, id) => t + freeFlowS(this.net.roads.get(id)!), 0);
      const free = this.graph.shortestFrom(decision, freeFlowS, {
        maxCost: Math.max(...stretches.map((x) => freeOf(x.base))),
        maxHops: hops,
      });
      const baseCosts = stretches.map((x) => this.stretchTime(conds, x.base, added));
      const alt = this.graph.shortestFrom(decision, cost, {
        excludeRoads: exclude,
        maxCost: Math.max(...baseCosts),
        maxHops: hops,
      });
      stretches.forEach((x, i) => {
        // Only stretches a driver would really take: no longer, at free flow, than the best way from the
        // decision node to the rejoin point (a U-shaped stretch is nobody's route).
        const best = free.costTo(x.rejoin);
        if (best !== undefined && freeOf(x.base) > best * (1 + PLANNER.stretchSlack)) return;
        const altCost = alt.costTo(x.rejoin);
        if (altCost === undefined || altCost >= baseCosts[i]!) return;
        ranked.push({ decision, ...x, estimate: (baseCosts[i]! - altCost) * x.coverage });
      });
    }
    ranked.sort((a, b) => b.estimate - a.estimate);
    let best: Option | null = null;
    for (const st of ranked.slice(0, PLANNER.stretchesScored)) {
      const baseCost = this.stretchTime(conds, st.base, added);
      const paths = this.graph.kShortest(st.decision, st.rejoin, PLANNER.k, cost, {
        excludeRoads: exclude,
        maxCost: baseCost,
        maxHops: st.base.length + PLANNER.extraHops,
      });
      for (const p of paths) {
        const o = this.evaluator.evaluate(c, st, p.roads, conds, added);
        if (o && this.acceptable(o) && (!best || o.gainS * o.coverage > best.gainS * best.coverage)) best = o;
      }
    }
    return best;
  }

  /** Chains of roads ending at the road's from_node (up) or starting at its to_node (down), depth 0..2. */
  private chains(road: Road, dir: 'up' | 'down', conds: Map<string, RoadCondition>): Chain[] {
    const out: Chain[] = [{ roads: [], share: 1 }];
    const depth = dir === 'up' ? PLANNER.upstreamDepth : PLANNER.downstreamDepth;
    let frontier: Chain[] = [{ roads: [], share: 1 }];
    for (let d = 0; d < depth; d++) {
      const next: Chain[] = [];
      for (const ch of frontier) {
        const end = ch.roads.length ? (dir === 'up' ? ch.roads[0]! : ch.roads[ch.roads.length - 1]!) : road;
        const node = dir === 'up' ? end.from_node : end.to_node;
        const back = dir === 'up' ? end.to_node : end.from_node;
        const around = (dir === 'up' ? this.graph.into.get(node) : this.graph.out.get(node)) ?? [];
        // No U-turns: a road straight back to where the chain came from carries none of its traffic.
        const options = around.filter((r) => (dir === 'up' ? r.from_node : r.to_node) !== back);
        const flows = options.map((r) => Math.max(1, conds.get(r.road_id)?.flowVph ?? 0));
        const total = flows.reduce((a, b) => a + b, 0);
        options.forEach((r, i) => {
          if (ch.roads.some((x) => x.road_id === r.road_id)) return;
          const roads = dir === 'up' ? [r, ...ch.roads] : [...ch.roads, r];
          next.push({ roads, share: ch.share * (flows[i]! / total) });
        });
      }
      out.push(...next);
      frontier = next;
    }
    return out;
  }

  /** A stretch's time with this cycle's advice load, each road priced for the movement into the next. */
  private stretchTime(conds: Map<string, RoadCondition>, ids: string[], added: Map<string, number>): number {
    let t = 0;
    ids.forEach((id, i) => {
      const c = conds.get(id);
      const loaded = this.loadedTime(conds, id, added);
      t += c ? movementTimeS(c, turnAfter(this.net.roads, ids, i), loaded) : loaded;
    });
    return t;
  }

  /** Travel time with this cycle's advice load; cached per cycle, dropped when the load on a road moves. */
  private loadedTime(conds: Map<string, RoadCondition>, id: string, added: Map<string, number>): number {
    const hit = this.timeCache.get(id);
    if (hit !== undefined) return hit;
    const c = conds.get(id);
    const t = c ? timeWithLoadS(c, added.get(id) ?? 0) : freeFlowS(this.net.roads.get(id)!);
    this.timeCache.set(id, t);
    return t;
  }

  private toReroute(
    c: RoadCondition,
    o: Option,
    incident: Incident | undefined,
    nowMs: number,
    validForMs: number,
  ): Reroute {
    const demand = this.evaluator.demand(c, this.lastConds);
    const share = demand > 0 ? Math.min(1, o.divertedVph / demand) : this.settings.compliance;
    return toReroute(c, o, incident, share, nowMs, validForMs);
  }
}
