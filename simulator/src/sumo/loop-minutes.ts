import type { SensorReading } from '@cityflow/protocol';
import type { TraciValue } from './traci-wire.js';
import { VAR } from './traci-client.js';

interface LoopAcc {
  prevIds: Set<string>;
  count: number;
  speedSum: number;
  occSum: number;
  steps: number;
}

/**
 * Turns per-step induction-loop subscriptions into one seed-format reading per loop and minute, as an
 * E1 detector with a 60 s period reports: vehicles that entered the loop, their mean speed (null when
 * none passed: a standing queue on the loop then shows as high occupancy with no speed), the flow in
 * veh/h and the share of time the loop was occupied.
 */
export class LoopMinutes {
  private readonly acc = new Map<string, LoopAcc>();

  constructor(private readonly roadOf: Map<string, string>) {
    for (const id of roadOf.keys())
      this.acc.set(id, { prevIds: new Set(), count: 0, speedSum: 0, occSum: 0, steps: 0 });
  }

  /** One simulation step's values of one loop. */
  addStep(loopId: string, vars: Map<number, TraciValue>): void {
    const a = this.acc.get(loopId);
    if (!a) return;
    const ids = (vars.get(VAR.lastStepVehicleIds) as string[] | null) ?? [];
    const speed = vars.get(VAR.lastStepMeanSpeed) as number | null;
    const occ = vars.get(VAR.lastStepOccupancy) as number | null;
    let entered = 0;
    for (const id of ids) if (!a.prevIds.has(id)) entered++;
    a.prevIds = new Set(ids);
    if (entered > 0 && speed !== null && speed >= 0) {
      a.count += entered;
      a.speedSum += speed * entered;
    }
    a.occSum += occ !== null && occ >= 0 ? occ / 100 : 0;
    a.steps++;
  }

  /** Closes the minute: one reading per loop stamped `tsMs`, and resets the counters. */
  close(tsMs: number, minuteS: number): SensorReading[] {
    const ts = new Date(tsMs).toISOString();
    const out: SensorReading[] = [];
    for (const [id, a] of this.acc) {
      out.push({
        ts,
        sensor_id: id,
        road_id: this.roadOf.get(id)!,
        speed_kmh: a.count > 0 ? Math.round((a.speedSum / a.count) * 36) / 10 : null,
        flow_rate: Math.round((a.count * 3600) / minuteS),
        occupancy: a.steps > 0 ? Math.min(1, Math.round((a.occSum / a.steps) * 1000) / 1000) : 0,
      });
      a.count = 0;
      a.speedSum = 0;
      a.occSum = 0;
      a.steps = 0;
    }
    return out;
  }
}
