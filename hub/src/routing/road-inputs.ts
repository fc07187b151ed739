import type { LiveSensor, LiveTraffic, Prediction } from '@cityflow/protocol';
import type { LaneObservation } from './lane-movements.js';
import type { RoadInput } from './road-conditions.js';

/**
 * The planner's inputs per road: the live snapshot (with its age on the active clock), its loops by
 * lane where the network file says which lane each loop is on, and forecasts.
 */
export function roadInputs(
  live: Map<string, LiveTraffic & { by_sensor?: LiveSensor[] | null }>,
  predictions: Prediction[],
  nowMs: number,
  laneOf: (sensorId: string) => number | undefined = () => undefined,
): Map<string, RoadInput> {
  const out = new Map<string, RoadInput>();
  for (const [id, l] of live) {
    const lanes: LaneObservation[] = [];
    for (const s of l.by_sensor ?? []) {
      const laneIndex = laneOf(s.sensor_id);
      if (laneIndex === undefined) continue;
      lanes.push({ laneIndex, speedKmh: s.speed_kmh, flowVph: s.flow_rate, occupancy: s.occupancy });
    }
    out.set(id, {
      speedKmh: l.speed_kmh,
      flowVph: l.flow_rate,
      occupancy: l.occupancy,
      ageS: Math.max(0, (nowMs - Date.parse(l.ts)) / 1000),
      forecasts: [],
      lanes,
    });
  }
  for (const p of predictions) {
    const x = out.get(p.road_id);
    // a forecast whose target time has passed says nothing about now
    if (!x || Date.parse(p.target_ts) < nowMs) continue;
    const same = x.forecasts.find((f) => f.horizonMin === p.horizon_min);
    if (!same)
      x.forecasts.push({ horizonMin: p.horizon_min, speedKmh: p.speed_kmh, score: p.congestion_score });
  }
  for (const x of out.values()) x.forecasts.sort((a, b) => a.horizonMin - b.horizonMin);
  return out;
}
