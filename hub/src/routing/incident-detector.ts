import type { Incident } from '@cityflow/protocol';
import type { RoadCondition } from './road-conditions.js';

/**
 * Incident detection from what the loops see, once per cycle (a minute), in the spirit of the
 * comparative algorithms of freeway practice (California #7 / McMaster): a condition must hold on two
 * consecutive cycles (persistence), and is compared with the road's own recent past, never a fixed
 * speed, so it carries over to roads and cities it was not written for.
 *
 * - `stopped`: no vehicle passes while the road upstream fills (blocked), or a standing queue sits on
 *   the loops while the road upstream fills.
 * - `drop`: speed falls to at most 60 % of the road's median of 5–15 minutes before and below 60 % of
 *   its limit, for three cycles; more confident with the road upstream filling or its own occupancy up.
 * A road whose downstream neighbour is blocked, standing or already an incident is spillback of that
 * incident, not a new one.
 * Cleared when speed is back to 80 % of the pre-incident median (or the road flows freely) with half
 * its usual flow on two consecutive cycles, or after 15 minutes without data.
 */
export const INCIDENT = {
  historyCycles: 20,
  baselineFrom: 5,
  baselineTo: 15,
  minBaseline: 4,
  dropRatio: 0.6,
  limitRatio: 0.6,
  occupancyRise: 1.5,
  /** and by at least this much (a rise from 2 to 3 % is noise) */
  occupancyRiseAbs: 0.03,
  recoverRatio: 0.8,
  recoverFlowShare: 0.5,
  persistCycles: 2,
  /** a blocked road's incident is over when less than this arrives upstream (nothing left to block) */
  minFlowVph: 60,
  /**
   * Silence is evidence of a blockage only where chance cannot explain it: with Poisson arrivals at
   * λ veh/h a road passes nothing for n minutes with probability exp(−λn/60). Over a city's roads and
   * a day's minutes a 5 % chance (60 veh/h, three minutes) is a false alarm every few minutes, so the
   * silence must last until its chance is below 1e-4: 3 minutes at 185 veh/h, 5 at 120, 10 at 60.
   */
  silenceChance: 1e-4,
  maxSilenceCycles: 15,
  /** without history, a road crawling below this share of its limit with its feeders filling */
  noHistoryRatio: 0.4,
  /** a speed drop must last this many cycles: one-minute dips at a signal are not incidents */
  dropPersistCycles: 3,
  noDataClearCycles: 15,
} as const;

interface Sample {
  kind: RoadCondition['kind'];
  speedKmh: number | null;
  flowVph: number;
  occupancy: number;
  upstreamFilling: boolean;
  /** traffic arriving towards the road: its feeders' flow split over their exits */
  inflowVph: number;
}

interface Tracked {
  incident: Incident;
  baselineSpeed: number | null;
  /** the road's usual flow before the incident (veh/h), when known */
  baselineFlow: number | null;
  recovering: number;
  quiet: number;
}

export interface IncidentChanges {
  opened: Incident[];
  cleared: Incident[];
  /** still active, with updated confidence */
  updated: Incident[];
}

/** Minutes without a vehicle on a road fed at `flowVph` that chance explains less than `silenceChance`. */
export function silenceCycles(flowVph: number): number {
  const n = Math.ceil((-Math.log(INCIDENT.silenceChance) * 60) / Math.max(1, flowVph));
  return Math.min(INCIDENT.maxSilenceCycles, Math.max(INCIDENT.dropPersistCycles, n));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : null;
};

export class IncidentDetector {
  private readonly history = new Map<string, Sample[]>();
  private readonly active = new Map<string, Tracked>();
  private readonly pending = new Map<string, number>();

  /** Resumes incidents left active by a previous leader. */
  resume(incidents: Incident[]): void {
    for (const i of incidents)
      if (!this.active.has(i.road_id))
        this.active.set(i.road_id, {
          incident: i,
          baselineSpeed: null,
          baselineFlow: null,
          recovering: 0,
          quiet: 0,
        });
  }

  activeOn(roadId: string): Incident | undefined {
    return this.active.get(roadId)?.incident;
  }

  /** Feeds one cycle's road conditions; returns what opened and cleared. */
  observe(conds: Map<string, RoadCondition>, nowMs: number): IncidentChanges {
    const changes: IncidentChanges = { opened: [], cleared: [], updated: [] };
    // A queue spilling back from a blocked road is that road's incident, not a new one upstream.
    const leaving = new Map<string, RoadCondition[]>();
    for (const c of conds.values()) {
      const l = leaving.get(c.road.from_node) ?? [];
      l.push(c);
      leaving.set(c.road.from_node, l);
    }
    // A queue spilling back from a stopped or blocked road, or from an incident, is that road's
    // incident, not a new one. (Point loops cannot tell a blockage at the start of an exit from one at
    // the end of this road: the first road to qualify is named, its neighbours are its spillback.)
    const spillbackFrom = (c: RoadCondition) =>
      (leaving.get(c.road.to_node) ?? []).some(
        (d) =>
          d.road.to_node !== c.road.from_node &&
          (d.kind === 'blocked' || d.kind === 'standing' || this.active.has(d.road.road_id)),
      );
    const inflow = (c: RoadCondition) => {
      let v = 0;
      for (const f of conds.values()) {
        if (f.road.to_node !== c.road.from_node || f.road.from_node === c.road.to_node) continue;
        const exits = (leaving.get(f.road.to_node) ?? []).filter(
          (x) => x.road.to_node !== f.road.from_node,
        ).length;
        v += f.flowVph / Math.max(1, exits);
      }
      return v;
    };
    for (const [id, c] of conds) {
      const h = this.history.get(id) ?? [];
      const sample: Sample = {
        kind: c.kind,
        speedKmh: c.speedKmh,
        flowVph: c.flowVph,
        occupancy: c.occupancy,
        upstreamFilling: c.upstreamFilling,
        inflowVph: c.kind === 'empty' ? inflow(c) : 0,
      };
      const tracked = this.active.get(id);
      if (tracked) this.follow(tracked, c, sample, nowMs, changes);
      else {
        const hit = spillbackFrom(c) ? null : this.detect(c, sample, h);
        const n = hit ? (this.pending.get(id) ?? 0) + 1 : 0;
        if (hit && n >= hit.persist) {
          this.pending.delete(id);
          const incident: Incident = {
            incident_id: `inc-${id}-${nowMs}`,
            road_id: id,
            detected_at: new Date(nowMs).toISOString(),
            cleared_at: null,
            confidence: hit.confidence,
            reason: hit.reason,
          };
          const flows = h
            .slice(-INCIDENT.baselineTo, -INCIDENT.baselineFrom + 1 || undefined)
            .map((x) => x.flowVph);
          this.active.set(id, {
            incident,
            baselineSpeed: hit.baseline,
            baselineFlow: flows.length >= INCIDENT.minBaseline ? median(flows) : null,
            recovering: 0,
            quiet: 0,
          });
          changes.opened.push(incident);
        } else if (n) this.pending.set(id, n);
        else this.pending.delete(id);
      }
      h.push(sample);
      if (h.length > INCIDENT.historyCycles) h.shift();
      this.history.set(id, h);
    }
    return changes;
  }

  private detect(
    c: RoadCondition,
    s: Sample,
    h: Sample[],
  ): { confidence: number; reason: string; baseline: number | null; persist: number } | null {
    const past = h.slice(-INCIDENT.baselineTo, -INCIDENT.baselineFrom + 1 || undefined);
    const speeds = past.map((x) => x.speedKmh).filter((v): v is number => v !== null);
    const baseline = speeds.length >= INCIDENT.minBaseline ? median(speeds) : null;
    if (c.kind === 'blocked')
      return {
        confidence: 0.9,
        reason: 'no vehicle passes while the road upstream fills',
        baseline,
        persist: INCIDENT.persistCycles,
      };
    if (c.kind === 'standing' && s.upstreamFilling)
      return {
        confidence: 0.8,
        reason: 'standing queue on the loops while the road upstream fills',
        baseline,
        persist: INCIDENT.persistCycles,
      };
    // Nothing passes the loops for minutes while traffic keeps arriving from upstream: vehicles enter
    // the road and do not leave it, at flows where that silence is no chance (`silenceChance`).
    if (c.kind === 'empty') {
      const flows = past.map((x) => x.flowVph);
      const usual = flows.length >= INCIDENT.minBaseline ? median(flows)! : 0;
      if (usual >= INCIDENT.minFlowVph && s.inflowVph >= INCIDENT.minFlowVph)
        return {
          confidence: 0.7,
          reason: `no vehicle passes (usually ${Math.round(usual)} veh/h) while ${Math.round(s.inflowVph)} veh/h arrive upstream`,
          baseline,
          // the usual flow sets the chance: a blockage also starves the feeders (their lanes queue)
          persist: silenceCycles(usual),
        };
      return null;
    }
    // No history yet (the hub just started): a road crawling far below its limit while the road behind
    // it fills is an incident by the feeder rule alone.
    if (
      baseline === null &&
      s.speedKmh !== null &&
      s.upstreamFilling &&
      s.speedKmh <= INCIDENT.noHistoryRatio * c.road.speed_limit_kmh
    )
      return {
        confidence: 0.6,
        reason: `crawling at ${Math.round(s.speedKmh)} km/h (limit ${c.road.speed_limit_kmh}) while the road upstream fills`,
        baseline: null,
        persist: INCIDENT.dropPersistCycles,
      };
    if (baseline === null || s.speedKmh === null) return null;
    const limit = c.road.speed_limit_kmh;
    if (s.speedKmh > INCIDENT.dropRatio * baseline || s.speedKmh > INCIDENT.limitRatio * limit) return null;
    const occBase = median(past.map((x) => x.occupancy)) ?? 0;
    const occUp =
      s.occupancy >= INCIDENT.occupancyRise * Math.max(occBase, 0.01) &&
      s.occupancy - occBase >= INCIDENT.occupancyRiseAbs;
    const confidence = 0.4 + (s.upstreamFilling ? 0.3 : 0) + (occUp ? 0.2 : 0);
    return {
      confidence,
      reason: `speed fell from ${Math.round(baseline)} to ${Math.round(s.speedKmh)} km/h${s.upstreamFilling ? ', road upstream filling' : ''}${occUp ? `, occupancy up from ${Math.round(occBase * 100)} to ${Math.round(s.occupancy * 100)} %` : ''}`,
      baseline,
      persist: INCIDENT.dropPersistCycles,
    };
  }

  private follow(t: Tracked, c: RoadCondition, s: Sample, nowMs: number, changes: IncidentChanges) {
    if (c.kind === 'unknown') t.quiet++;
    else t.quiet = 0;
    // Traffic flows again near its old speed, or the road is empty with nothing arriving to fill it.
    // (Empty loops while traffic still arrives are the blockage itself, not a recovery.)
    // Speed alone is weak evidence: the odd vehicle that joined below the blockage passes the loops
    // at full speed. The road must pass traffic again too, `recoverFlowShare` of its usual flow.
    const ref = t.baselineSpeed ?? c.road.speed_limit_kmh;
    const flowing = t.baselineFlow === null || s.flowVph >= INCIDENT.recoverFlowShare * t.baselineFlow;
    const recovered =
      (c.kind === 'free' && flowing) ||
      (s.speedKmh !== null && s.speedKmh >= INCIDENT.recoverRatio * ref && flowing) ||
      (c.kind === 'empty' && s.inflowVph < INCIDENT.minFlowVph);
    t.recovering = recovered ? t.recovering + 1 : 0;
    if (t.recovering >= INCIDENT.persistCycles || t.quiet >= INCIDENT.noDataClearCycles) {
      t.incident = { ...t.incident, cleared_at: new Date(nowMs).toISOString() };
      this.active.delete(c.road.road_id);
      changes.cleared.push(t.incident);
    }
  }
}
