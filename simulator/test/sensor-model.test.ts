import { congestionScore, validateReading } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { createRng } from '../src/rng.js';
import { IncidentScenario } from '../src/scenarios/incident.js';
import { NormalScenario } from '../src/scenarios/normal.js';
import type { Scenario } from '../src/scenarios/types.js';
import { laneFlow, sensorReading, speedForDemand } from '../src/sensor-model.js';
import { fixtureNetwork } from './helpers/network.js';

const net = fixtureNetwork();
const road = net.roads.get('BC')!;

function sample(scenario: Scenario, iso: string, n = 300, seed = 7) {
  const rng = createRng(seed);
  const simMs = Date.parse(iso);
  return Array.from({ length: n }, (_, i) =>
    sensorReading({
      sensorId: `s-${i}`,
      road,
      condition: scenario.condition(road, simMs),
      simMs,
      rng,
      windowS: 60,
    }),
  );
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const speeds = (rs: ReturnType<typeof sample>) =>
  rs.flatMap((r) => (r.speed_kmh === null ? [] : [r.speed_kmh]));

describe('sensor model', () => {
  const normal = new NormalScenario({ network: net, utcOffsetH: 0 });

  it('produces readings that pass the protocol validation, timestamped on the second', () => {
    for (const iso of ['2026-03-02T03:00:00.750Z', '2026-03-02T08:15:00Z', '2026-03-02T17:45:00Z']) {
      for (const r of sample(normal, iso, 200)) {
        const v = validateReading(r);
        expect(v.ok, JSON.stringify(r)).toBe(true);
        expect(r.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      }
    }
    expect(sample(normal, '2026-03-02T03:00:00.750Z', 1)[0]!.ts).toBe('2026-03-02T03:00:00Z');
  });

  it('is slower and busier in the rush hour than at night', () => {
    const peak = sample(normal, '2026-03-02T08:15:00Z');
    const night = sample(normal, '2026-03-02T03:00:00Z');
    expect(mean(speeds(peak))).toBeLessThan(0.8 * mean(speeds(night)));
    expect(mean(peak.map((r) => r.flow_rate))).toBeGreaterThan(8 * mean(night.map((r) => r.flow_rate)));
    expect(mean(peak.map((r) => r.occupancy))).toBeGreaterThan(mean(night.map((r) => r.occupancy)));
  });

  it('reports null speeds at night when nobody passed, with an empty loop', () => {
    const night = sample(normal, '2026-03-02T03:00:00Z');
    const empty = night.filter((r) => r.speed_kmh === null);
    expect(empty.length).toBeGreaterThan(night.length * 0.3);
    for (const r of empty) expect(r).toMatchObject({ flow_rate: 0, occupancy: 0 });
    const peak = sample(normal, '2026-03-02T08:15:00Z');
    expect(peak.filter((r) => r.speed_kmh === null).length).toBeLessThan(peak.length * 0.02);
  });

  it('makes the incident road congested (score >= 0.5) while a normal peak mostly is not', () => {
    const start = Date.parse('2026-03-02T12:00:00Z');
    const incident = new IncidentScenario(
      { network: net, utcOffsetH: 0 },
      { roadId: 'BC', startMs: start, durationMin: 20 },
    );
    const score = (r: { speed_kmh: number | null; occupancy: number }) =>
      congestionScore({ speedKmh: r.speed_kmh, occupancy: r.occupancy, freeFlowKmh: road.speed_limit_kmh })!;
    const during = sample(incident, '2026-03-02T12:10:00Z');
    const before = sample(incident, '2026-03-02T11:55:00Z');
    expect(during.filter((r) => score(r) >= 0.5).length).toBeGreaterThan(during.length * 0.95);
    expect(before.filter((r) => score(r) >= 0.5).length).toBeLessThan(before.length * 0.1);
    // A standing queue: when nobody passes during the incident, the loop stays occupied.
    for (const r of during.filter((x) => x.speed_kmh === null)) expect(r.occupancy).toBeGreaterThan(0.5);
  });

  it('is deterministic for a seed', () => {
    expect(sample(normal, '2026-03-02T08:15:00Z', 20, 3)).toEqual(
      sample(normal, '2026-03-02T08:15:00Z', 20, 3),
    );
    expect(sample(normal, '2026-03-02T08:15:00Z', 20, 3)).not.toEqual(
      sample(normal, '2026-03-02T08:15:00Z', 20, 4),
    );
  });

  it('halves the free-flow speed at capacity and holds flow near capacity when oversaturated', () => {
    expect(speedForDemand(road, 1)).toBeCloseTo(road.speed_limit_kmh * 0.95 * 0.5);
    expect(speedForDemand(road, 0)).toBeCloseTo(road.speed_limit_kmh * 0.95);
    expect(laneFlow(road, 1)).toBe(900);
    expect(laneFlow(road, 1.2)).toBeLessThan(900);
    expect(laneFlow(road, 1.2)).toBeGreaterThan(700);
    expect(laneFlow({ ...road, capacity_vph: 1500 }, 1)).toBe(750);
  });
});
