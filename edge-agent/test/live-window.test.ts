import { LiveSnapshotSchema } from '@cityflow/protocol';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { LiveWindow } from '../src/aggregate/live-window.js';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const reading = (sensorId: string, s: number, speed: number | null, flow: number, occ: number) => ({
  tsMs: T0 + s * 1000,
  sensorId,
  roadId: 'R-1',
  speed,
  flow,
  occ,
  flagged: false,
});

describe('live window', () => {
  it('keeps each loop of a road apart beside the road means: a queued lane shows, not only the average', () => {
    const w = new LiveWindow(() => 50);
    w.add([
      reading('S-R1-L0', 10, 44, 400, 0.03),
      reading('S-R1-L0', 40, 46, 420, 0.03),
      reading('S-R1-L1', 10, 5, 120, 0.32),
      reading('S-R1-L1', 40, null, 0, 0.4),
    ]);
    const [road] = w.snapshot(T0 + 50_000);
    // road means over every reading (speed over the non-null ones)
    expect(road!.speed_kmh).toBeCloseTo((44 + 46 + 5) / 3, 1);
    expect(road!.sensors).toBe(2);
    expect(road!.by_sensor).toEqual([
      { sensor_id: 'S-R1-L0', speed_kmh: 45, flow_rate: 410, occupancy: 0.03 },
      { sensor_id: 'S-R1-L1', speed_kmh: 5, flow_rate: 60, occupancy: 0.36 },
    ]);
    const snap = { v: 1, agent_id: 'A-1', stream: 'live', ts: new Date(T0).toISOString(), roads: [road] };
    expect(Value.Check(LiveSnapshotSchema, snap)).toBe(true);
  });

  it('a loop whose readings left the window leaves the detail; a loop with no speed reports null', () => {
    const w = new LiveWindow(() => 50);
    w.add([reading('S-A', 0, 30, 300, 0.1), reading('S-B', 55, null, 0, 0.5)]);
    const [road] = w.snapshot(T0 + 65_000);
    expect(road!.by_sensor).toEqual([{ sensor_id: 'S-B', speed_kmh: null, flow_rate: 0, occupancy: 0.5 }]);
  });
});
