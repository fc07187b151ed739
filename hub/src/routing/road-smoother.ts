import type { LaneObservation } from './lane-movements.js';
import { type RoadInput, STALE_LIVE_S } from './road-conditions.js';

/**
 * Weight of the newest minute in the planner's view of a road (exponential smoothing, half-life one
 * cycle). A loop's one-minute mean at a signal swings with where the minute fell in the signal cycle
 * (a 90 s cycle puts one or two red phases in a minute): read raw, a road reads 10 km/h one minute
 * and 45 the next, and advice starts and ends on that noise. Smoothed over about three minutes it
 * follows queues, which build and drain over several cycles. Incidents are detected on the raw minute.
 */
export const SMOOTHING_ALPHA = 0.5;

interface Kept {
  speedKmh: number | null;
  flowVph: number;
  occupancy: number;
  lanes: Map<number, LaneObservation>;
}

/** Speeds blend as paces (time per km: what travel times add up), flows and occupancies as they are. */
function blendSpeed(now: number | null, before: number | null): number | null {
  if (now === null || before === null || now <= 0 || before <= 0) return now ?? before;
  return 1 / (SMOOTHING_ALPHA / now + (1 - SMOOTHING_ALPHA) / before);
}
const blend = (now: number, before: number) => SMOOTHING_ALPHA * now + (1 - SMOOTHING_ALPHA) * before;

/**
 * Keeps each road's smoothed live inputs across cycles. A road with no fresh minute this cycle starts
 * again from its next one (nothing stale is blended in). Speeds blend only between minutes that had
 * one (a lane with no vehicle this minute keeps its last speed).
 */
export class RoadSmoother {
  private kept = new Map<string, Kept>();

  smooth(inputs: Map<string, RoadInput>): Map<string, RoadInput> {
    const out = new Map<string, RoadInput>();
    const next = new Map<string, Kept>();
    for (const [id, x] of inputs) {
      const fresh = x.ageS !== null && x.ageS <= STALE_LIVE_S;
      const before = fresh ? this.kept.get(id) : undefined;
      const flow = x.flowVph ?? 0;
      const occ = x.occupancy ?? 0;
      const k: Kept = before
        ? {
            speedKmh: blendSpeed(x.speedKmh, before.speedKmh),
            flowVph: blend(flow, before.flowVph),
            occupancy: blend(occ, before.occupancy),
            lanes: new Map(),
          }
        : { speedKmh: x.speedKmh, flowVph: flow, occupancy: occ, lanes: new Map() };
      for (const l of x.lanes ?? []) {
        const b = before?.lanes.get(l.laneIndex);
        k.lanes.set(
          l.laneIndex,
          b
            ? {
                laneIndex: l.laneIndex,
                speedKmh: blendSpeed(l.speedKmh, b.speedKmh),
                flowVph: blend(l.flowVph, b.flowVph),
                occupancy: blend(l.occupancy, b.occupancy),
              }
            : l,
        );
      }
      if (fresh) next.set(id, k);
      // A minute in which nothing passed goes to the road rules as it is (standing, blocked or empty
      // must be read at once, not smoothed into a flowing road); the smoothing resumes after it.
      if (x.speedKmh === null && flow === 0) out.set(id, x);
      else
        out.set(id, {
          ...x,
          speedKmh: k.speedKmh,
          flowVph: k.flowVph,
          occupancy: k.occupancy,
          lanes: [...k.lanes.values()],
        });
    }
    this.kept = next;
    return out;
  }
}
