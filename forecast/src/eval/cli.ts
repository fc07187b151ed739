import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CityFlowError, loadNetworkFile } from '@cityflow/protocol';
import { Command, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { neighboursFromAdjacency, sensorNeighbours } from '../neighbours.js';
import { parseAdjacencyCsv, parseSeriesCsv, resample } from './csv.js';
import { formatReport } from './report.js';
import { evaluate } from './walk-forward.js';

// stdout carries the result only (the JSON document or the table); logs go to stderr.
const log = pino({ name: 'eval-forecast', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive number of days, e.g. 5 or 0.5');
  return n;
}

function horizonList(v: string): number[] {
  const hs = v.split(',').map((s) => Number(s.trim()));
  if (!hs.length || hs.some((h) => !Number.isInteger(h) || h <= 0))
    throw new InvalidArgumentError('expected comma-separated positive minutes, e.g. 15,30,60');
  return [...new Set(hs)].sort((a, b) => a - b);
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CityFlowError(
      'CF_INVALID_CONFIG',
      `${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
}

const program = new Command('eval-forecast')
  .description(
    'Walk-forward evaluation of the forecasting models (persistence, historical-average, ewma-lr-v2, cityflow-edge, cityflow-network) on a speed CSV',
  )
  .requiredOption(
    '--csv <file>',
    'speeds: wide (ts + one column per sensor) or long (ts,sensor_id,…,speed_kmh) layout',
  )
  .option(
    '--adjacency <file>',
    'from,to,weight CSV of sensor proximity for the network model (learned from the training part if absent)',
  )
  .addOption(
    new Option(
      '--network <file>',
      'network GeoJSON: sensors of the same and of adjacent roads are neighbours (sensor_id as in the CSV)',
    ).conflicts('adjacency'),
  )
  .option(
    '--train-days <days>',
    'days of data to train on before the walk-forward test (fractional allowed)',
    positiveNumber,
    5,
  )
  .option('--horizons <list>', 'forecast horizons in minutes', horizonList, [15, 30, 60])
  .option(
    '--step <minutes>',
    'average the data onto this coarser step first (e.g. 5 for 1-min loop data)',
    positiveNumber,
  )
  .option(
    '--zeros <how>',
    'a speed of 0 is `missing` (default for the wide layout, as METR-LA/PEMS) or a `speed` (default for the long layout)',
    (v: string) => {
      if (v !== 'missing' && v !== 'speed') throw new InvalidArgumentError('expected missing or speed');
      return v;
    },
  )
  .option('--json', 'print the result as one JSON document and nothing else on stdout')
  .action(
    (o: {
      csv: string;
      adjacency?: string;
      network?: string;
      trainDays: number;
      horizons: number[];
      step?: number;
      zeros?: 'missing' | 'speed';
      json?: boolean;
    }) => {
      const started = Date.now();
      const raw = parseSeriesCsv(read(o.csv, '--csv'), {
        zeroIsMissing: o.zeros === undefined ? undefined : o.zeros === 'missing',
      });
      const ds = o.step ? resample(raw, o.step * 60_000) : raw;
      const neighbours = o.adjacency
        ? neighboursFromAdjacency(parseAdjacencyCsv(read(o.adjacency, '--adjacency')))
        : o.network
          ? sensorNeighbours(loadNetworkFile(o.network))
          : undefined;
      log.info(
        {
          file: o.csv,
          layout: ds.layout,
          sensors: ds.ids.length,
          steps: ds.tsMs.length,
          stepMin: ds.stepMs / 60_000,
        },
        'data loaded',
      );
      const { result, detail } = evaluate(ds, {
        trainDays: o.trainDays,
        horizonsMin: o.horizons,
        neighbours,
      });
      log.info({ ms: Date.now() - started, points: result.points }, 'evaluation done');
      process.stdout.write(
        o.json ? `${JSON.stringify(result)}\n` : `${formatReport(result, detail, basename(o.csv))}\n`,
      );
    },
  );

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const msg =
    err instanceof CityFlowError ? `${err.code}: ${err.message}` : String((err as Error)?.stack ?? err);
  process.stderr.write(`eval-forecast: ${msg}\n`);
  process.exitCode = 1;
}
