import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClosedLoopOptions, type ClosedLoopResult, runClosedLoop } from './closed-loop.js';
import { figures, readCohort, readTripinfo, type RunFigures } from './report.js';
import { runSumoToEnd } from './sumo-process.js';

export interface EvaluationReport {
  scenario: string;
  compliance: number;
  realtime_factor: number;
  /** SUMO's seed for the three runs; null = the sumocfg's own */
  sumo_seed: number | null;
  incidents: Array<{ road_id: string; begin_s: number; end_s: number }>;
  no_advice: RunFigures;
  advice: RunFigures & {
    platform_co2_gain_g: number;
    rerouted_vehicles: number;
    advice_minutes: number;
    late_minutes: number;
    driver: ClosedLoopResult['driver'];
    loop_phases_s: ClosedLoopResult['phasesS'];
    incidents_detected: ClosedLoopResult['incidents'];
  };
  sumo_device: RunFigures;
  /** advice / no_advice and sumo_device / no_advice ratios of the headline figures */
  ratios: Record<string, number | null>;
  measured_co2_gain_g: number;
  wall_s: { no_advice_and_device: number; advice: number; total: number };
}

/** SUMO's own rerouting device: every vehicle, every minute (the omniscient reference). */
export const SUMO_DEVICE_OPTIONS = ['--device.rerouting.probability', '1', '--device.rerouting.period', '60'];

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : null);

/**
 * The three runs of the evaluation: no advice, CityFlow's advice in closed loop, SUMO's rerouting
 * device. The two SUMO-only runs go first, side by side; the closed loop then has the machine.
 */
export async function evaluate(o: ClosedLoopOptions): Promise<EvaluationReport> {
  const out = o.out ?? process.stderr;
  const t0 = Date.now();
  mkdirSync(o.outDir, { recursive: true });
  out.write('sumo: running the no-advice and SUMO-device references…\n');
  const [none, device] = await Promise.all([
    runSumoToEnd(o.scenario, join(o.outDir, 'no-advice')),
    runSumoToEnd(o.scenario, join(o.outDir, 'sumo-device'), SUMO_DEVICE_OPTIONS),
  ]);
  const t1 = Date.now();
  out.write(`sumo: references done in ${Math.round((t1 - t0) / 1000)} s; starting the closed loop…\n`);
  const loop = await runClosedLoop({ ...o, out });
  const t2 = Date.now();
  const cohort = readCohort(none.vehroutes, o.scenario.incidents);
  const excluded = new Set(o.scenario.incidents.flatMap((i) => (i.vehicle ? [i.vehicle] : [])));
  const f0 = figures(readTripinfo(none.tripinfo), cohort, excluded);
  const f1 = figures(readTripinfo(loop.tripinfo), cohort, excluded);
  const f2 = figures(readTripinfo(device.tripinfo), cohort, excluded);
  const report: EvaluationReport = {
    scenario: o.scenario.dir,
    compliance: o.compliance,
    realtime_factor: o.realtimeFactor,
    sumo_seed: o.scenario.sumoSeed,
    incidents: o.scenario.incidents.map((i) => ({ road_id: i.roadId, begin_s: i.beginS, end_s: i.endS })),
    no_advice: f0,
    advice: {
      ...f1,
      platform_co2_gain_g: Math.round(loop.platformCo2GainG),
      rerouted_vehicles: loop.reroutedVehicles,
      advice_minutes: loop.adviceMinutes,
      late_minutes: loop.lateMinutes,
      driver: loop.driver,
      loop_phases_s: loop.phasesS,
      incidents_detected: loop.incidents,
    },
    sumo_device: f2,
    ratios: {
      advice_cohort_time_loss: ratio(f1.cohort_mean_time_loss_s, f0.cohort_mean_time_loss_s),
      advice_worst50_time_loss: ratio(f1.worst50_mean_time_loss_s, f0.worst50_mean_time_loss_s),
      advice_mean_time_loss: ratio(f1.mean_time_loss_s, f0.mean_time_loss_s),
      device_cohort_time_loss: ratio(f2.cohort_mean_time_loss_s, f0.cohort_mean_time_loss_s),
      device_worst50_time_loss: ratio(f2.worst50_mean_time_loss_s, f0.worst50_mean_time_loss_s),
      device_mean_time_loss: ratio(f2.mean_time_loss_s, f0.mean_time_loss_s),
      platform_co2_estimate_vs_measured: ratio(loop.platformCo2GainG, f0.co2_g - f1.co2_g),
    },
    measured_co2_gain_g: f0.co2_g - f1.co2_g,
    wall_s: {
      no_advice_and_device: Math.round((t1 - t0) / 1000),
      advice: Math.round((t2 - t1) / 1000),
      total: Math.round((t2 - t0) / 1000),
    },
  };
  writeFileSync(join(o.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
