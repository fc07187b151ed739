import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reroute } from '@cityflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireToolOrSkip } from '../../test-support/services.js';
import { DriverModel, penalisedTimeS } from '../src/sumo/driver-model.js';
import { loadScenario, type SumoScenario } from '../src/sumo/scenario.js';
import { freePort, type SumoRun, startSumo } from '../src/sumo/sumo-process.js';
import { CMD, put, TraciClient, VAR } from '../src/sumo/traci-client.js';
import { makeMiniScenario, SUMO_HOME, sumoInstalled } from './helpers/sumo-scenario.js';

// A 4×4 grid (columns A–D, rows 0–3, 200 m blocks) with light random traffic, no incident while
// the test runs, and a jam on B1B2: a convoy of vehicles that cannot go faster than 1.5 m/s fills both
// lanes from t = 0. (Vehicles stopped on a road would not do: SUMO leaves stopped vehicles out of a
// multi-lane road's mean speed, so a road holding only stopped vehicles reads free flow.)
const JAM = 'B1B2';
const CONVOY = Array.from({ length: 30 }, (_, i) => [0, 1].map((lane) => ({ i, lane }))).flat();
// Test 1, away from the jam: D0→C0→B0→A0 along the bottom row, advised road C0B0.
const SOLO = { id: 'solo', depart: 40, edges: ['D0C0', 'C0B0', 'B0A0'], advised: 'C0B0' };
// Test 2: A1→B1→C1→C2→D2, advised road B1C1. At free flow the best way around it is B1B2, B2C2 (as
// long as the route itself); every other way is at least 400 m longer. `ref` is the same trip on the
// other lane, rerouted by the TraCI calls SUMO's Python client makes, as the reference.
const TRIP = ['A1B1', 'B1C1', 'C1C2', 'C2D2'];
const PROBE = { id: 'probe', depart: 300, advised: 'B1C1' };
const REF = { id: 'ref', depart: 300 };

/** Advice on `roadId` whose decision node is on neither trip, so no complier can take its path. */
const adviceOn = (roadId: string): Reroute => ({
  ts: '2026-03-02T07:00:00Z',
  route_id: roadId,
  alt_route_id: 'alt',
  reason: 'test',
  estimated_co2_gain: 1,
  eta_gain_min: 10,
  path: ['A3B3'],
  decision_node: 'A3',
  diverted_share: 1,
  valid_until: '2026-03-02T08:00:00Z',
  co2_gain_g_per_vehicle: 1,
});

/** Our trips and the convoy, added to the scenario's route files. */
function addTrips(s: SumoScenario) {
  const vehicle = (id: string, depart: number, lane: number, edges: string[], type = 'DEFAULT_VEHTYPE') =>
    `    <vehicle id="${id}" type="${type}" depart="${depart}" departLane="${lane}">\n        <route edges="${edges.join(' ')}"/>\n    </vehicle>`;
  const vehicles = [
    ...CONVOY.map((c) => ({
      depart: c.i * 10,
      xml: vehicle(`convoy_${c.i}_${c.lane}`, c.i * 10, c.lane, [JAM, 'B2B3'], 'slow'),
    })),
    { depart: SOLO.depart, xml: vehicle(SOLO.id, SOLO.depart, 0, SOLO.edges) },
    // on both lanes, so the probe and its reference depart together
    { depart: PROBE.depart, xml: vehicle(PROBE.id, PROBE.depart, 0, TRIP) },
    { depart: REF.depart, xml: vehicle(REF.id, REF.depart, 1, TRIP) },
  ].sort((a, b) => a.depart - b.depart);
  writeFileSync(
    join(s.dir, 'trips-test.rou.xml'),
    `<routes>\n    <vType id="slow" maxSpeed="1.5"/>\n${vehicles.map((v) => v.xml).join('\n')}\n</routes>\n`,
  );
  const cfg = readFileSync(s.sumocfg, 'utf8');
  const added = cfg.replace(/(<route-files value="[^"]+)"/, '$1,trips-test.rou.xml"');
  expect(added).not.toBe(cfg);
  writeFileSync(s.sumocfg, added);
}

describe.skipIf(!requireToolOrSkip('sumo', sumoInstalled))('DriverModel on a real SUMO', () => {
  let s: SumoScenario;
  let sumo: SumoRun;
  let traci: TraciClient;
  let t = 0;
  let driver: DriverModel;

  const stepTo = async (target: number) => {
    for (; t < target; ) await traci.step(++t);
  };
  const get = async (variable: number, id: string) =>
    (await traci.batch([TraciClient.get(CMD.getVehicle, variable, id)]))[0];
  /** the vehicle's route from the road it is on to its destination */
  const remaining = async (id: string) => {
    const [edges, index] = await traci.batch([
      TraciClient.get(CMD.getVehicle, VAR.edges, id),
      TraciClient.get(CMD.getVehicle, VAR.routeIndex, id),
    ]);
    return (edges as string[]).slice(index as number);
  };

  beforeAll(async () => {
    // SUMO validates the route files against the schemas under SUMO_HOME (without it: a web lookup)
    process.env.SUMO_HOME ??= SUMO_HOME;
    const dir = makeMiniScenario({
      size: 4,
      endS: 600,
      rateVph: 120,
      // the scenario's incident comes after the end: its blockers are never inserted
      incidentBeginS: 3000,
      incidentEndS: 3600,
    });
    s = loadScenario(dir);
    addTrips(s);
    // compliance 1: every vehicle that crosses an advised road complies
    driver = new DriverModel(s.network, 1, 1);
    const runDir = join(dir, 'run');
    mkdirSync(runDir);
    const port = await freePort();
    sumo = startSumo(s, runDir, ['--remote-port', String(port)]);
    traci = await TraciClient.connect(port);
  });

  afterAll(async () => {
    await traci?.close();
    if (sumo && sumo.child.exitCode === null) sumo.child.kill('SIGKILL');
  });

  it('a complier who cannot take the path is rerouted around the advised road', async () => {
    await stepTo(SOLO.depart + 1);
    expect(await get(VAR.roadId, SOLO.id)).toBe(SOLO.edges[0]);
    await driver.apply(traci, [SOLO.id], [adviceOn(SOLO.advised)]);
    expect(driver.stats).toMatchObject({ decisions: 1, complied: 1, penalisedReroutes: 1, refused: 0 });
    expect(driver.rerouted.has(SOLO.id)).toBe(true);
    const route = await remaining(SOLO.id);
    expect(route).not.toContain(SOLO.advised);
    // still from where it is to where it was going
    expect(route[0]).toBe(SOLO.edges[0]);
    expect(route[route.length - 1]).toBe(SOLO.edges[SOLO.edges.length - 1]);
  });

  it("reroutes as SUMO's Python client would (a runner written on it compares): free flow off the advised road, even into a jam", async () => {
    // The convoy has been on B1B2 for five minutes when the probe and its reference depart.
    await stepTo(PROBE.depart + 1);
    for (const v of [PROBE, REF]) expect(await get(VAR.roadId, v.id)).toBe(TRIP[0]);
    // a jam indeed: SUMO's current time on the road is many times its free-flow 14 s
    const [jamS] = await traci.batch([TraciClient.get(CMD.getEdge, VAR.currentTravelTime, JAM)]);
    expect(jamS).toBeGreaterThan(100);
    const before = { ...driver.stats };
    await driver.apply(traci, [PROBE.id], [adviceOn(PROBE.advised)]);
    expect(driver.stats.penalisedReroutes).toBe(before.penalisedReroutes + 1);
    // The reference, on the identical vehicle: traci.vehicle.setAdaptedTraveltime(ref, road, penalty),
    // then traci.vehicle.rerouteTraveltime(ref), whose routing mode "aggregated custom" falls back, in
    // SUMO 1.15 with no rerouting device in the run, to each road's free-flow time.
    const [now] = await traci.batch([TraciClient.get(CMD.getEdge, VAR.currentTravelTime, PROBE.advised)]);
    const penalty = penalisedTimeS(now as number, adviceOn(PROBE.advised));
    await traci.batch([
      TraciClient.set(CMD.setVehicle, VAR.edgeTravelTime, REF.id, put.edgeTime(PROBE.advised, penalty)),
      TraciClient.set(CMD.setVehicle, VAR.rerouteTravelTime, REF.id, put.emptyCompound()),
    ]);
    const ref = await remaining(REF.id);
    const probe = await remaining(PROBE.id);
    expect(probe).not.toContain(PROBE.advised);
    expect(probe).toEqual(ref);
    // Priced at free flow, the way round goes through the jam: what the runner's drivers who cannot take
    // the advised path do (a runner that priced the city's queues would not compare with this one).
    expect(probe).toContain(JAM);
    expect(probe[probe.length - 1]).toBe(TRIP[TRIP.length - 1]);
  });
});
