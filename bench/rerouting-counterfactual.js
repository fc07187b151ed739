#!/usr/bin/env node
/**
 * The ceiling of incident advice: the same city and seeds run by SUMO alone with its incident and
 * without it (the scenario's `incident.*` route and additional files left out of the sumocfg, as the
 * dev scenario and `cityflow-sim sumo-grid` name them). The cohort and the worst trips measured the
 * way `cityflow-sim sumo` does (cohort from the run with the incident); the ratios without / with are
 * what advice could gain at most by undoing the incident altogether, before any driver complies.
 *   node bench/rerouting-counterfactual.js                         the dev scenario, seeds 1-3
 *   node bench/rerouting-counterfactual.js --scenario DIR --seeds 1,2,3,4,5
 * Needs SUMO (apt-get install sumo sumo-tools) and the built packages. Prints one JSON object on stdout.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, round, seedsFlag, stats } from './lib/seeds.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sumo = (f) => import(join(root, 'simulator/dist/sumo', f));
const { loadScenario } = await sumo('scenario.js');
const { runSumoToEnd } = await sumo('sumo-process.js');
const { figures, readCohort, readTripinfo } = await sumo('report.js');

const dir = flag('--scenario', join(root, '../shared/data/sumo-grid'));
const seeds = seedsFlag();
process.env.SUMO_HOME ??= '/usr/share/sumo';
const out = mkdtempSync(join(tmpdir(), 'cityflow-counterfactual-'));

// The same scenario without its incident: a copy whose sumocfg names no incident.* file.
const withIncident = loadScenario(dir);
if (!withIncident.incidents.length) {
  console.error(`${dir}: scenario.json names no incident`);
  process.exit(2);
}
const bare = join(out, 'without-incident');
cpSync(dir, bare, { recursive: true, filter: (f) => !basename(f).startsWith('incident.') });
const cfgName = readdirSync(bare).find((f) => f.endsWith('.sumocfg'));
const cfg = readFileSync(join(bare, cfgName), 'utf8').replace(/(value=")([^"]*)(")/g, (_m, a, v, b) => {
  const kept = v.split(',').filter((f) => !basename(f.trim()).startsWith('incident.'));
  return `${a}${kept.join(',')}${b}`;
});
writeFileSync(join(bare, cfgName), cfg);
const json = JSON.parse(readFileSync(join(bare, 'scenario.json'), 'utf8'));
delete json.incident;
json.incidents = [];
writeFileSync(join(bare, 'scenario.json'), JSON.stringify(json));
const withoutIncident = loadScenario(bare);

const runs = [];
for (const seed of seeds) {
  withIncident.sumoSeed = seed;
  withoutIncident.sumoSeed = seed;
  const [a, b] = await Promise.all([
    runSumoToEnd(withIncident, join(out, `seed-${seed}`, 'with')),
    runSumoToEnd(withoutIncident, join(out, `seed-${seed}`, 'without')),
  ]);
  const cohort = readCohort(a.vehroutes, withIncident.incidents);
  const excluded = new Set(withIncident.incidents.flatMap((i) => (i.vehicle ? [i.vehicle] : [])));
  const fa = figures(readTripinfo(a.tripinfo), cohort, excluded);
  const fb = figures(readTripinfo(b.tripinfo), cohort, excluded);
  const r = (k) => round(fb[k] / fa[k]);
  runs.push({
    seed,
    cohort_vehicles: fa.cohort_vehicles,
    cohort: r('cohort_mean_time_loss_s'),
    worst50: r('worst50_mean_time_loss_s'),
    mean: r('mean_time_loss_s'),
  });
  console.error(
    `seed ${seed}: without/with cohort ${runs.at(-1).cohort}, worst-50 ${runs.at(-1).worst50}, mean ${runs.at(-1).mean}`,
  );
}
const over = (k) => stats(runs.map((x) => x[k]));
console.log(
  JSON.stringify({
    name: 'rerouting-counterfactual',
    scenario: dir,
    seeds,
    metrics: {
      cohort_time_loss_without_over_with: over('cohort'),
      worst50_time_loss_without_over_with: over('worst50'),
      mean_time_loss_without_over_with: over('mean'),
    },
    runs,
  }),
);
