#!/usr/bin/env node
/**
 * The closed-loop rerouting evaluation (`cityflow-sim sumo`) over several SUMO seeds. One run of a
 * saturated city is one draw of its driving noise: a single changed route shifts platoons at every
 * signal downstream, and on the dev scenario that knock-on alone moves the network's time loss by
 * ±0.4 s a vehicle between two runs of the same code. A planner is compared on the mean over seeds,
 * with the spread beside it. Peer, same runs: SUMO's own rerouting device.
 *   node bench/rerouting-seeds.js                        a generated 5x5 city, C1C2 closed 30 min, seeds 1-3
 *   node bench/rerouting-seeds.js --scenario DIR --seeds 1,2,3,4,5   any scenario (e.g. ../shared/data/sumo-grid)
 * Needs SUMO (apt-get install sumo sumo-tools) and the built packages. Prints one JSON object on stdout;
 * each seed's report is left in the output dir named on stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, seedsFlag, stats } from './lib/seeds.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sim = join(root, 'simulator/bin/cityflow-sim.js');
const seeds = seedsFlag();
const out = mkdtempSync(join(tmpdir(), 'cityflow-rerouting-seeds-'));
const env = { ...process.env, SUMO_HOME: process.env.SUMO_HOME ?? '/usr/share/sumo' };
const node = (args) => {
  const r = spawnSync(process.execPath, [sim, ...args], {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) {
    console.error(`cityflow-sim ${args.join(' ')}: exit ${r.status}\n${(r.stderr ?? '').slice(-2000)}`);
    process.exit(1);
  }
};

let scenario = flag('--scenario');
if (!scenario) {
  // The README's closed-road city: both lanes of C1C2 closed 07:30-08:00 in a 90-minute morning.
  scenario = join(out, 'city');
  node([
    'sumo-grid',
    '--out',
    scenario,
    '--size',
    '5',
    '--end',
    '5400',
    '--rate',
    '3000',
    '--incident-road',
    'C1C2',
    '--incident-begin',
    '1800',
    '--incident-end',
    '3600',
    '--seed',
    '11',
  ]);
}
console.error(`rerouting-seeds: ${scenario}, seeds ${seeds.join(',')}, outputs in ${out}`);

const reports = [];
for (const seed of seeds) {
  const file = join(out, `seed-${seed}.json`);
  node([
    'sumo',
    '--scenario',
    scenario,
    '--compliance',
    '0.5',
    '--sumo-seed',
    String(seed),
    '--out',
    join(out, `seed-${seed}`),
    '--report',
    file,
  ]);
  reports.push(JSON.parse(readFileSync(file, 'utf8')));
  const r = reports.at(-1).ratios;
  console.error(
    `seed ${seed}: cohort ${r.advice_cohort_time_loss}, worst-50 ${r.advice_worst50_time_loss}, mean ${r.advice_mean_time_loss}`,
  );
}

const ratios = (k) => stats(reports.map((r) => r.ratios[k] ?? Number.NaN));
const co2Measured = reports.map((r) => r.measured_co2_gain_g / 1000);
const co2Estimated = reports.map((r) => r.advice.platform_co2_gain_g / 1000);
console.log(
  JSON.stringify({
    name: 'rerouting-seeds',
    scenario,
    seeds,
    metrics: {
      cohort_time_loss_ratio: ratios('advice_cohort_time_loss'),
      worst50_time_loss_ratio: ratios('advice_worst50_time_loss'),
      mean_time_loss_ratio: ratios('advice_mean_time_loss'),
      co2_saved_kg: stats(co2Measured),
      co2_estimated_kg: stats(co2Estimated),
      rerouted_vehicles: stats(reports.map((r) => r.advice.rerouted_vehicles)),
      false_incidents: stats(reports.map((r) => falseIncidents(r))),
    },
    peer: {
      sumo_device_cohort_time_loss_ratio: ratios('device_cohort_time_loss'),
      sumo_device_worst50_time_loss_ratio: ratios('device_worst50_time_loss'),
      sumo_device_mean_time_loss_ratio: ratios('device_mean_time_loss'),
    },
  }),
);

/** Detections on no scenario incident's road, or on one before it began or after it ended + 5 min. */
function falseIncidents(r) {
  return r.advice.incidents_detected.filter(
    (d) =>
      !r.incidents.some(
        (i) => i.road_id === d.road_id && d.detected_s >= i.begin_s && d.detected_s <= i.end_s + 300,
      ),
  ).length;
}
