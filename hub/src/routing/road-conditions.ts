import {
  congestionScore,
  isCongested,
  type Network,
  type Road,
  STANDING_OCCUPANCY,
} from '@cityflow/protocol';
import type { Turn } from './turns.js';
import {
  capacityVph,
  DELAY,
  freeFlowS,
  incrementalDelayS,
  modelTimeS,
  standingQueueDelayS,
  uniformDelayS,
} from './delay-model.js';
import { type LaneObservation, type MovementTimes, movementTimes } from './lane-movements.js';

/** What the hub knows of a road this cycle: the agents' live snapshot and the best forecasts. */
export interface RoadInput {
  speedKmh: number | null;
  /** the road's flow_rate: the mean over its loops (one per lane), veh/h per lane */
  flowVph: number | null;
  occupancy: number | null;
  /** age of the live snapshot, s (stale data is no data) */
  ageS: number | null;
  /** speed forecasts by horizon (minutes ahead) */
  forecasts: Array<{ horizonMin: number; speedKmh: number | null; score: number }>;
  /** the road's loops by lane, when the network file gives each loop's lane */
  lanes?: LaneObservation[];
}

/**
 * How the road is read: `free`/`flowing`/`congested` from its speed; `standing` = no vehicle passed
 * the loops but they are occupied (a queue stands on them); `blocked` = no vehicle passed, the loops
 * are empty, yet the road upstream fills (something upstream of the loops stops traffic); `empty` =
 * no vehicle and nothing filling behind (an empty road really is free); `unknown` = no recent data.
 */
export type RoadStateKind = 'free' | 'flowing' | 'congested' | 'standing' | 'blocked' | 'empty' | 'unknown';

export interface RoadCondition {
  road: Road;
  kind: RoadStateKind;
  signalised: boolean;
  /** nominal capacity, veh/h */
  capacity: number;
  /** what the road discharges now: observed flow under a queue, else the nominal capacity */
  dischargeVph: number;
  /** the whole road's flow, veh/h (all lanes) */
  flowVph: number;
  speedKmh: number | null;
  occupancy: number;
  /** loops of a road feeding this one are occupied beyond UPSTREAM_FILLING_OCCUPANCY */
  upstreamFilling: boolean;
  /** fused congestion score: live, the T+15 forecast, and 1 for a standing or blocked road */
  score: number;
  /** travel time now, s, and its parts */
  timeS: number;
  delayS: number;
  /** per-movement offsets from `timeS` and the worst lane's score, from the road's lanes (else null) */
  movements: MovementTimes | null;
  why: string;
}

/** Live data older than this is no data (the agent or its sensors went quiet). */
export const STALE_LIVE_S = 180;
/** Upstream loops this occupied mean the road behind fills up (spillback), 0..1. */
export const UPSTREAM_FILLING_OCCUPANCY = 0.25;

/**
 * Fuses each road's live snapshot, forecasts and neighbours into a condition with a travel time.
 * Zero flow is ambiguous: with occupied loops it is a standing queue; with empty loops it is an empty
 * road only if nothing fills up behind it, else the road is blocked upstream of its loops.
 */
export function assessRoads(
  net: Network,
  inputs: Map<string, RoadInput>,
  isSignalised: (r: Road) => boolean,
): Map<string, RoadCondition> {
  const into = new Map<string, Road[]>();
  for (const r of net.roads.values()) {
    const l = into.get(r.to_node) ?? [];
    l.push(r);
    into.set(r.to_node, l);
  }
  const fresh = (id: string): RoadInput | null => {
    const x = inputs.get(id);
    if (!x) return null;
    if (x.ageS !== null && x.ageS <= STALE_LIVE_S) return x;
    // Live snapshots stale (QoS 0 lost, agent link down) but a current forecast: go by the forecast.
    const f = x.forecasts.find((p) => p.speedKmh !== null);
    return f ? { ...x, speedKmh: f.speedKmh, occupancy: null, forecasts: x.forecasts } : null;
  };
  // A feeder fills when its loops, on average, are occupied beyond the line. (Not one lane's: a
  // turning lane backed up for its own reasons beside a road that passed nothing this minute by
  // chance would read as a blockage.)
  const upstreamFilling = (r: Road) =>
    (into.get(r.from_node) ?? []).some((u) => {
      if (u.from_node === r.to_node) return false; // the opposite direction feeds nothing here
      const x = fresh(u.road_id);
      return !!x && (x.occupancy ?? 0) >= UPSTREAM_FILLING_OCCUPANCY;
    });
  const out = new Map<string, RoadCondition>();
  for (const road of net.roads.values()) {
    const signalised = isSignalised(road);
    const capacity = capacityVph(road, signalised);
    const x = fresh(road.road_id);
    const t0 = freeFlowS(road);
    const filling = upstreamFilling(road);
    const base = { road, signalised, capacity, upstreamFilling: filling };
    const t15 = x?.forecasts.find((f) => f.horizonMin === 15) ?? x?.forecasts[0];
    if (!x) {
      out.set(road.road_id, {
        ...base,
        kind: 'unknown',
        dischargeVph: capacity,
        flowVph: 0,
        speedKmh: null,
        occupancy: 0,
        score: 0,
        timeS: modelTimeS(road, signalised, 0, capacity),
        delayS: modelTimeS(road, signalised, 0, capacity) - t0,
        movements: null,
        why: 'no recent data: free-flow time assumed',
      });
      continue;
    }
    const occ = Math.max(0, Math.min(1, x.occupancy ?? 0));
    // A road's flow_rate is the mean over its loops, a loop per lane: the road carries lanes times that
    // (its capacity, from lanes, is the whole road's too).
    const flow = Math.max(0, x.flowVph ?? 0) * road.lanes;
    const signal = signalised ? uniformDelayS(flow / capacity) : 0;
    let c: Omit<RoadCondition, 'movements'>;
    if (x.speedKmh === null && flow === 0) {
      // No vehicle passed: a queue standing on the loops, or a blockage upstream of them.
      const stopped = (
        kind: 'standing' | 'blocked',
        dischargeShare: number,
        occupancy: number,
        why: string,
      ): Omit<RoadCondition, 'movements'> => {
        const discharge = capacity * dischargeShare;
        const q = standingQueueDelayS(road, occupancy, discharge);
        return {
          ...base,
          kind,
          dischargeVph: discharge,
          flowVph: 0,
          speedKmh: null,
          occupancy: occ,
          score: 1,
          timeS: t0 + signal + q,
          delayS: signal + q,
          why,
        };
      };
      if (occ >= STANDING_OCCUPANCY)
        c = stopped(
          'standing',
          DELAY.standingDischargeShare,
          occ,
          `standing queue on the loops (occupancy ${pct(occ)}, no vehicle passed)`,
        );
      else if (filling)
        c = stopped(
          'blocked',
          DELAY.blockedDischargeShare,
          0.5,
          'no vehicle passes while the road upstream fills: blocked upstream of its loops',
        );
      else {
        const forecastScore = t15?.score ?? 0;
        c = {
          ...base,
          kind: 'empty',
          dischargeVph: capacity,
          flowVph: 0,
          speedKmh: null,
          occupancy: occ,
          score: forecastScore,
          timeS: t0 + signal,
          delayS: signal,
          why: 'no vehicle and nothing filling behind: empty road',
        };
      }
    } else {
      const speed = Math.max(DELAY.minSpeedKmh, x.speedKmh ?? road.speed_limit_kmh);
      const run = Math.max(t0, road.length_m / (speed / 3.6));
      const liveScore = congestionScore({
        speedKmh: x.speedKmh,
        occupancy: occ,
        freeFlowKmh: road.speed_limit_kmh,
      });
      const congested = isCongested(liveScore);
      // Under a queue the loops count what the road discharges: that is its capacity now. A slow road
      // is taken as queue-bound only with evidence of a queue (occupied loops, or the road behind
      // filling): slow and lightly used may just be a slow road with little demand.
      const queued = congested && (occ >= STANDING_OCCUPANCY || filling);
      const discharge = queued && flow > 0 ? Math.min(capacity, flow) : capacity;
      const delay = run - t0 + signal + (signalised ? incrementalDelayS(flow / discharge, discharge) : 0);
      const score = Math.max(liveScore ?? 0, t15?.score ?? 0);
      c = {
        ...base,
        kind: congested ? 'congested' : speed < road.speed_limit_kmh * 0.8 ? 'flowing' : 'free',
        dischargeVph: discharge,
        flowVph: flow,
        speedKmh: x.speedKmh,
        occupancy: occ,
        score,
        timeS: t0 + delay,
        delayS: delay,
        why: `${x.speedKmh === null ? 'no speed' : `${Math.round(x.speedKmh)} km/h`}, ${Math.round(flow)} veh/h, occupancy ${pct(occ)}`,
      };
    }
    // Lane detail only where vehicles move: a standing or blocked road is priced whole.
    const lanes = x.ageS !== null && x.ageS <= STALE_LIVE_S ? (x.lanes ?? []) : [];
    const movements =
      lanes.length && (c.kind === 'congested' || c.kind === 'flowing' || c.kind === 'free')
        ? movementTimes(road, lanes, capacity / road.lanes)
        : null;
    out.set(road.road_id, { ...c, movements });
  }
  return out;
}

/**
 * Travel time of a road for the traffic that leaves it by `turn`: the road's time shifted by what its
 * lanes say of that movement (never below free flow); the road's mean time when lanes say nothing.
 */
export function movementTimeS(c: RoadCondition, turn: Turn | null, timeS = c.timeS): number {
  if (!turn || !c.movements) return timeS;
  return Math.max(freeFlowS(c.road), timeS + c.movements.extraS[turn]);
}

/** The score advice starts and ends on: the road's, or its worst lane's when that one is queued. */
export function planningScore(c: RoadCondition): number {
  return Math.max(c.score, c.movements?.laneScore ?? 0);
}

/**
 * Travel time of a road with `addedVph` more (or, negative, less) traffic than now: the observed time
 * shifted by the model's marginal effect at the road's current discharge rate, so a queue-bound road
 * gains from every vehicle taken off it and a busy alternative pays for every vehicle put on it.
 */
export function timeWithLoadS(c: RoadCondition, addedVph: number): number {
  if (addedVph === 0) return c.timeS;
  const cap =
    c.kind === 'standing' || c.kind === 'blocked' || c.kind === 'congested' ? c.dischargeVph : c.capacity;
  const before = modelTimeS(c.road, c.signalised, c.flowVph, cap);
  const after = modelTimeS(c.road, c.signalised, Math.max(0, c.flowVph + addedVph), cap);
  return Math.max(freeFlowS(c.road), c.timeS + (after - before));
}

const pct = (x: number) => `${Math.round(x * 100)} %`;

/**
 * The condition of a road with an active incident that its loops read as empty: nothing passes
 * because something blocks it upstream of them, so it is priced as blocked, not as free.
 */
export function blockedByIncident(c: RoadCondition): RoadCondition {
  if (c.kind !== 'empty' && c.kind !== 'unknown') return c;
  const discharge = c.capacity * DELAY.blockedDischargeShare;
  const q = standingQueueDelayS(c.road, 0.5, discharge);
  return {
    ...c,
    kind: 'blocked',
    dischargeVph: discharge,
    score: 1,
    timeS: c.timeS + q,
    delayS: c.delayS + q,
    why: 'incident: no vehicle passes the loops',
  };
}
