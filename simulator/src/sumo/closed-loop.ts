import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Reroute, SensorReading } from '@cityflow/protocol';
import { BrokerPool } from '../broker-pool.js';
import { Demo, spareAgentPortBase } from '../demo/demo.js';
import type { Logger } from '../logger.js';
import { DriverModel, type DriverStats } from './driver-model.js';
import { LoopMinutes } from './loop-minutes.js';
import { freePort, startSumo } from './sumo-process.js';
import type { SumoScenario } from './scenario.js';
import { CMD, TraciClient, VAR } from './traci-client.js';
import { AdviceReader } from './advice-reader.js';

export interface ClosedLoopOptions {
  scenario: SumoScenario;
  outDir: string;
  compliance: number;
  /** simulated seconds per wall second; 0 = as fast as the loop goes (waits on each hub cycle) */
  realtimeFactor: number;
  seed: number;
  log: Logger;
  /** progress lines (stderr by default) */
  out?: NodeJS.WritableStream;
}

export interface ClosedLoopResult {
  tripinfo: string;
  vehroutes: string;
  driver: DriverStats;
  reroutedVehicles: number;
  /** the platform's own estimate of the CO2 its advice saved, g (advice rate integrated over time) */
  platformCo2GainG: number;
  /** minutes whose advice (from the minute before) was not served before the next minute was published */
  lateMinutes: number;
  minutes: number;
  adviceMinutes: number;
  wallS: number;
  /** incidents the hub detected, in simulation seconds (cleared null while active at the end) */
  incidents: Array<{ road_id: string; detected_s: number; cleared_s: number | null; confidence: number }>;
  /** wall seconds spent in each phase of the loop */
  phasesS: { sumo: number; publish: number; waitHub: number; advice: number };
}

const MINUTE_S = 60;

/**
 * The advice run: a hub and one agent per agent of the network on the data clock, SUMO driven by
 * TraCI minute by minute. Each minute every loop's reading goes to its agent's broker as a sensor
 * would send it; the advice the hub serves is then read from `GET /api/reroutes/recommended` and
 * applied by the driver model before the next minute is simulated.
 */
export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const started = Date.now();
  const s = o.scenario;
  const runDir = join(o.outDir, 'advice');
  mkdirSync(runDir, { recursive: true });
  const logAdvice = adviceLog(join(runDir, 'advice.jsonl'));
  const out = o.out ?? process.stderr;
  const net = s.network;
  const demo = new Demo({
    networkFile: s.networkFile,
    dataDir: join(o.outDir, 'city'),
    noSim: true,
    clock: 'data',
    port: await freePort(),
    hubMqttPort: await freePort(),
    agentPortBase: await spareAgentPortBase(net.agents.size),
    scenario: 'normal',
    intervalS: 5,
    startupTimeoutS: 120,
    log: o.log,
    out,
    // Snapshots right after each simulated minute, so the hub's cycle sees the minute at once.
    agentSettings: { liveIntervalS: 0.25, forecastIntervalS: 5 },
    hubEnv: { CITYFLOW_CYCLE_INTERVAL_S: String(MINUTE_S) },
  });
  const city = await demo.start();
  const pool = new BrokerPool(new Map(city.agents.map((a) => [a.agent_id, a.mqtt_url])), 1, o.log);
  const advice = new AdviceReader(city.api_url, city.demo_user);
  let traci: TraciClient | null = null;
  const sumoPort = await freePort();
  const sumo = startSumo(s, runDir, ['--remote-port', String(sumoPort)]);
  try {
    await pool.start();
    await advice.login();
    traci = await TraciClient.connect(sumoPort);
    const loopIds = new Set(
      (await traci.batch([TraciClient.get(CMD.getLoop, VAR.idList, '')]))[0] as string[],
    );
    const sensors = [...net.sensors.values()].filter((x) => x.agent_id && loopIds.has(x.sensor_id));
    const roadOf = new Map(sensors.map((x) => [x.sensor_id, x.road_id]));
    const agentOf = new Map(sensors.map((x) => [x.sensor_id, x.agent_id!]));
    for (const id of roadOf.keys())
      await traci.subscribe(CMD.subscribeLoop, id, [
        VAR.lastStepVehicleIds,
        VAR.lastStepMeanSpeed,
        VAR.lastStepOccupancy,
      ]);
    await traci.subscribe(CMD.subscribeSim, '', [VAR.departedIds, VAR.arrivedIds]);
    const loops = new LoopMinutes(roadOf);
    const driver = new DriverModel(net, o.compliance, o.seed);
    const vehicles = new Set<string>();
    const r: ClosedLoopResult = {
      tripinfo: sumo.tripinfo,
      vehroutes: sumo.vehroutes,
      driver: driver.stats,
      reroutedVehicles: 0,
      platformCo2GainG: 0,
      lateMinutes: 0,
      minutes: 0,
      adviceMinutes: 0,
      wallS: 0,
      phasesS: { sumo: 0, publish: 0, waitHub: 0, advice: 0 },
      incidents: [],
    };
    const ph = r.phasesS;
    let mark = Date.now();
    const lap = (k: keyof typeof ph) => {
      const now = Date.now();
      ph[k] += (now - mark) / 1000;
      mark = now;
    };
    out.write(`sumo closed loop: ${roadOf.size} loops, ${s.endS - s.beginS} s to simulate\n`);
    let t = s.beginS;
    const paceMs = o.realtimeFactor > 0 ? (MINUTE_S * 1000) / o.realtimeFactor : 0;
    let due = Date.now();
    while (t < s.endS) {
      const end = Math.min(s.endS, t + MINUTE_S);
      for (let step = t + 1; step <= end; step++) {
        const res = await traci.step(step);
        for (const [id, vars] of res) {
          if (id === '') {
            for (const v of (vars.get(VAR.departedIds) as string[] | null) ?? []) vehicles.add(v);
            for (const v of (vars.get(VAR.arrivedIds) as string[] | null) ?? []) vehicles.delete(v);
          } else loops.addStep(id, vars);
        }
      }
      // The reading of minute [t, end) is stamped one second before its end (an E1 detector reports
      // at the end of its period): it lands in minute t at the agents and closes minute t − 1 there.
      const readings = loops.close(s.t0Ms + (end - 1) * 1000, end - t);
      lap('sumo');
      await publishAll(pool, readings, agentOf);
      lap('publish');
      r.minutes++;
      if (paceMs) {
        due += paceMs;
        const waitMs = due - Date.now();
        const served = await advice.waitForCycle(s.t0Ms + t * 1000, Math.max(0, waitMs));
        if (!served) r.lateMinutes++;
        const rest = due - Date.now();
        if (rest > 0) await new Promise((res) => setTimeout(res, rest));
      } else if (!(await advice.waitForCycle(s.t0Ms + t * 1000, 15_000))) r.lateMinutes++;
      lap('waitHub');
      const items: Reroute[] = await advice.current();
      if (items.length) r.adviceMinutes++;
      logAdvice(t, items);
      // The platform's own estimate: kg CO2 per hour over all diverted traffic, for one minute.
      r.platformCo2GainG += items.reduce((g, a) => g + (a.estimated_co2_gain * 1000 * (end - t)) / 3600, 0);
      await driver.apply(traci, [...vehicles], items);
      lap('advice');
      t = end;
      if (r.minutes % 30 === 0)
        out.write(
          `sumo closed loop: ${new Date(s.t0Ms + t * 1000).toISOString()} ${vehicles.size} vehicles, ${items.length} advice items, ${driver.rerouted.size} rerouted so far\n`,
        );
    }
    const simS = (iso: string) => Math.round((Date.parse(iso) - s.t0Ms) / 1000);
    r.incidents = (await advice.incidents())
      .map((i) => ({
        road_id: i.road_id,
        detected_s: simS(i.detected_at),
        cleared_s: i.cleared_at ? simS(i.cleared_at) : null,
        confidence: i.confidence,
      }))
      .reverse();
    await traci.close();
    traci = null;
    const code = await sumo.exited;
    if (code !== 0) throw new Error(`sumo exited ${code}: ${sumo.stderr()}`);
    r.reroutedVehicles = driver.rerouted.size;
    r.wallS = Math.round((Date.now() - started) / 1000);
    for (const k of Object.keys(ph) as Array<keyof typeof ph>) ph[k] = Math.round(ph[k]);
    return r;
  } finally {
    await traci?.close().catch(() => undefined);
    if (sumo.child.exitCode === null) sumo.child.kill('SIGKILL');
    await pool.stop().catch(() => undefined);
    await demo.stop(0);
  }
}

async function publishAll(pool: BrokerPool, readings: SensorReading[], agentOf: Map<string, string>) {
  await Promise.all(readings.map((x) => pool.publish(agentOf.get(x.sensor_id)!, x)));
}

/**
 * The advice log of the run (`advice/advice.jsonl`): one line each time the advice in force changes,
 * with the simulation second, so a result can be traced to what the platform advised and when.
 */
function adviceLog(file: string): (simS: number, items: Reroute[]) => void {
  let last = '';
  return (simS, items) => {
    const brief = items
      .map((a) => ({
        route_id: a.route_id,
        decision_node: a.decision_node,
        path: a.path,
        eta_gain_min: a.eta_gain_min,
        diverted_share: a.diverted_share,
        incident_id: a.incident_id ?? null,
        reason: a.reason,
      }))
      .sort((a, b) => a.route_id.localeCompare(b.route_id));
    const key = JSON.stringify(brief.map((a) => [a.route_id, a.path]));
    if (key === last) return;
    last = key;
    appendFileSync(file, `${JSON.stringify({ sim_s: simS, items: brief })}\n`);
  };
}
