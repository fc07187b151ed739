import { CityFlowError } from '@cityflow/protocol';
import type { Command } from 'commander';
import { arg, positiveNumber } from '../cli-options.js';

/** `cityflow-sim sumo-grid`: a SUMO grid city with an incident, for `cityflow-sim sumo --scenario DIR`. */
export function registerSumoGrid(program: Command): void {
  program
    .command('sumo-grid')
    .description(
      'build a SUMO grid city with an incident for `cityflow-sim sumo --scenario DIR` (netgenerate + randomTrips)',
    )
    .requiredOption('--out <dir>', 'where the scenario is written')
    .option(
      '--size <n>',
      'junctions per side (A0, B0, … by column and row)',
      arg(positiveNumber('--size')),
      3,
    )
    .option('--end <s>', 'seconds of random trips', arg(positiveNumber('--end')), 1500)
    .option('--rate <veh/h>', 'vehicles inserted per hour', arg(positiveNumber('--rate')), 1800)
    .option('--incident-road <id>', 'the road the incident blocks', 'B0B1')
    .option('--blocked-lanes <list>', 'lanes blocked, comma-separated (0 = rightmost)', '0,1')
    .option(
      '--incident-begin <s>',
      'incident start (simulation s)',
      arg(positiveNumber('--incident-begin')),
      360,
    )
    .option('--incident-end <s>', 'incident end (simulation s)', arg(positiveNumber('--incident-end')), 900)
    .option('--seed <n>', 'seed of the random trips', arg(positiveNumber('--seed')), 7)
    .action(async (o) => {
      const { makeGridScenario } = await import('./grid-scenario.js');
      const lanes = String(o.blockedLanes)
        .split(',')
        .map((x) => Number(x.trim()));
      if (lanes.some((x) => !Number.isInteger(x) || x < 0))
        throw new CityFlowError(
          'CF_INVALID_CONFIG',
          `--blocked-lanes: lane numbers 0,1,…, got ${o.blockedLanes}`,
        );
      if (!(o.incidentEnd > o.incidentBegin))
        throw new CityFlowError('CF_INVALID_CONFIG', '--incident-end: must be after --incident-begin');
      const dir = makeGridScenario({
        dir: o.out,
        size: o.size,
        endS: o.end,
        rateVph: o.rate,
        incidentRoad: o.incidentRoad,
        blockedLanes: lanes,
        incidentBeginS: o.incidentBegin,
        incidentEndS: o.incidentEnd,
        seed: o.seed,
      });
      process.stdout.write(`${dir}\n`);
    });
}
