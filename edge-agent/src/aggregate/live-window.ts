import {
  congestionScore,
  type LiveRoad,
  type LiveSensor,
  percentile85,
  UPLINK_LIMITS,
} from '@cityflow/protocol';
import type { StoredReading } from '../storage/readings-store.js';

const WINDOW_MS = 60_000;
/** Bounds memory when a sensor floods (bench, faulty firmware): a minute of 2 Hz is plenty. */
const MAX_PER_SENSOR = 120;
const SPEED_HISTORY = 500;

interface Entry {
  tsMs: number;
  speed: number | null;
  flow: number;
  occ: number;
}

/**
 * Per-road state of the last minute (sliding window by reading time), for live snapshots and the
 * local forecaster. Free-flow speed: the road's limit from the slice, else the 85th percentile of the
 * speeds this agent has seen on the road.
 */
export class LiveWindow {
  private readonly bySensor = new Map<string, { roadId: string; entries: Entry[] }>();
  private readonly speeds = new Map<string, number[]>();

  constructor(private readonly speedLimit: (roadId: string) => number | null) {}

  add(readings: StoredReading[]): void {
    for (const r of readings) {
      let s = this.bySensor.get(r.sensorId);
      if (!s) {
        s = { roadId: r.roadId, entries: [] };
        this.bySensor.set(r.sensorId, s);
      }
      s.roadId = r.roadId;
      s.entries.push({ tsMs: r.tsMs, speed: r.speed, flow: r.flow, occ: r.occ });
      if (s.entries.length > MAX_PER_SENSOR) s.entries.splice(0, s.entries.length - MAX_PER_SENSOR);
      if (r.speed !== null) {
        let h = this.speeds.get(r.roadId);
        if (!h) {
          h = [];
          this.speeds.set(r.roadId, h);
        }
        h.push(r.speed);
        if (h.length > SPEED_HISTORY) h.splice(0, h.length - SPEED_HISTORY);
      }
    }
  }

  freeFlow(roadId: string): number | null {
    return this.speedLimit(roadId) ?? percentile85(this.speeds.get(roadId) ?? []);
  }

  /** Roads with at least one reading in (now − 60 s, now]; drops older entries as it goes. */
  snapshot(nowMs: number): LiveRoad[] {
    const from = nowMs - WINDOW_MS;
    const roads = new Map<
      string,
      {
        ts: number;
        speeds: number[];
        flow: number;
        occ: number;
        n: number;
        sensors: number;
        bySensor: LiveSensor[];
      }
    >();
    for (const [id, s] of this.bySensor) {
      const kept = s.entries.filter((e) => e.tsMs > from);
      s.entries = kept;
      if (kept.length === 0) {
        this.bySensor.delete(id);
        continue;
      }
      let r = roads.get(s.roadId);
      if (!r) {
        r = { ts: 0, speeds: [], flow: 0, occ: 0, n: 0, sensors: 0, bySensor: [] };
        roads.set(s.roadId, r);
      }
      r.sensors++;
      let speedSum = 0;
      let speeds = 0;
      let flow = 0;
      let occ = 0;
      for (const e of kept) {
        r.ts = Math.max(r.ts, e.tsMs);
        if (e.speed !== null) {
          r.speeds.push(e.speed);
          speedSum += e.speed;
          speeds++;
        }
        r.flow += e.flow;
        r.occ += e.occ;
        r.n++;
        flow += e.flow;
        occ += e.occ;
      }
      r.bySensor.push({
        sensor_id: id,
        speed_kmh: speeds ? round1(speedSum / speeds) : null,
        flow_rate: round1(flow / kept.length),
        occupancy: Math.round((occ / kept.length) * 1000) / 1000,
      });
    }
    const out: LiveRoad[] = [];
    for (const [roadId, r] of roads) {
      const speed = r.speeds.length ? r.speeds.reduce((a, b) => a + b, 0) / r.speeds.length : null;
      const occ = r.occ / r.n;
      const ff = this.freeFlow(roadId);
      out.push({
        road_id: roadId,
        ts: new Date(r.ts).toISOString(),
        speed_kmh: speed === null ? null : round1(speed),
        flow_rate: round1(r.flow / r.n),
        occupancy: Math.round(occ * 1000) / 1000,
        congestion_score:
          ff === null && speed !== null
            ? null
            : congestionScore({ speedKmh: speed, occupancy: occ, freeFlowKmh: ff ?? 0 }),
        sensors: r.sensors,
        samples: r.n,
        by_sensor: r.bySensor
          .sort((a, b) => a.sensor_id.localeCompare(b.sensor_id))
          .slice(0, UPLINK_LIMITS.maxLiveSensorsPerRoad),
      });
    }
    return out.sort((a, b) => a.road_id.localeCompare(b.road_id));
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
