import { describe, expect, it } from 'vitest';
import { IncidentScenario, defaultIncidentRoad } from '../src/scenarios/incident.js';
import { NormalScenario, roadWeight } from '../src/scenarios/normal.js';
import { demandAt, hourOfDay } from '../src/scenarios/profile.js';
import { fixtureNetwork } from './helpers/network.js';

const at = (iso: string) => Date.parse(iso);

describe('time-of-day profile', () => {
  it('has a morning and an evening peak well above midday and night', () => {
    const night = demandAt(3);
    const midday = demandAt(12.5);
    expect(demandAt(8.25)).toBeGreaterThan(1.8 * midday);
    expect(demandAt(17.75)).toBeGreaterThan(1.7 * midday);
    expect(midday).toBeGreaterThan(5 * night);
    expect(night).toBeLessThan(0.1);
  });

  it('reads the hour in the network local time', () => {
    expect(hourOfDay(at('2026-03-02T07:30:00Z'))).toBe(7.5);
    expect(hourOfDay(at('2026-03-02T07:30:00Z'), 1)).toBe(8.5);
    expect(hourOfDay(at('2026-03-02T23:30:00Z'), 1)).toBe(0.5);
  });

  it('gives each road a stable weight in 0.6..1.12', () => {
    for (const id of ['AB', 'BA', 'RING-NORTH-12', 'x'])
      expect(roadWeight(id)).toSatisfy((w: number) => w >= 0.6 && w <= 1.12);
    expect(roadWeight('AB')).toBe(roadWeight('AB'));
    expect(roadWeight('AB')).not.toBe(roadWeight('BA'));
  });
});

describe('normal scenario', () => {
  it('scales demand with the hour and leaves speed undisturbed', () => {
    const net = fixtureNetwork();
    const s = new NormalScenario({ network: net, utcOffsetH: 0 });
    const road = net.roads.get('AB')!;
    const peak = s.condition(road, at('2026-03-02T08:15:00Z'));
    const night = s.condition(road, at('2026-03-02T03:00:00Z'));
    expect(peak.demand).toBeCloseTo(demandAt(8.25) * roadWeight('AB'), 9);
    expect(night.demand).toBeLessThan(peak.demand / 10);
    expect(peak).toMatchObject({ speedFactor: 1, flowFactor: 1, occupancyFloor: 0 });
  });
});

describe('incident scenario', () => {
  const net = fixtureNetwork();
  const start = at('2026-03-02T08:00:00Z');
  const make = (roadId?: string) =>
    new IncidentScenario({ network: net, utcOffsetH: 0 }, { roadId, startMs: start, durationMin: 20 });

  it('picks an inner road with the most feeders by default', () => {
    // BC is fed by AB and EB, BA by CB and EB (U-turns do not count); EB and ZA start outside.
    expect(['BA', 'BC']).toContain(defaultIncidentRoad(net));
  });

  it('collapses the incident road and spills back to its feeders, then to theirs', () => {
    const s = make('BC');
    expect(Object.fromEntries(s.levels)).toEqual({ BC: 0, AB: 1, EB: 1, ZA: 2 });
    const mid = start + 10 * 60_000;
    const hit = s.condition(net.roads.get('BC')!, mid);
    const feeder = s.condition(net.roads.get('AB')!, mid);
    const second = s.condition(net.roads.get('ZA')!, mid);
    const away = s.condition(net.roads.get('CB')!, mid);
    expect(hit.speedFactor).toBeCloseTo(0.12);
    expect(hit.occupancyFloor).toBeCloseTo(0.7);
    expect(feeder.speedFactor).toBeCloseTo(0.4);
    expect(second.speedFactor).toBeCloseTo(0.75);
    expect(away.speedFactor).toBe(1);
    expect(hit.speedFactor).toBeLessThan(feeder.speedFactor);
  });

  it('ramps in over two minutes and clears over five after the end', () => {
    const s = make('BC');
    expect(s.intensity(start - 1)).toBe(0);
    expect(s.intensity(start + 60_000)).toBeCloseTo(0.5);
    expect(s.intensity(start + 5 * 60_000)).toBe(1);
    expect(s.intensity(s.endMs - 1)).toBe(1);
    expect(s.intensity(s.endMs + 2.5 * 60_000)).toBeCloseTo(0.5);
    expect(s.intensity(s.endMs + 5 * 60_000)).toBe(0);
    expect(s.condition(net.roads.get('BC')!, s.endMs + 6 * 60_000).speedFactor).toBe(1);
  });

  it('rejects a road that is not in the network with CF_INVALID_CONFIG', () => {
    expect(() => make('NOPE')).toThrow(expect.objectContaining({ code: 'CF_INVALID_CONFIG' }));
  });
});
