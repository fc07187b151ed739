import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CityFlowError, loadNetworkFile, type Network } from '@cityflow/protocol';

/** An incident of the scenario, in simulation seconds. */
export interface ScenarioIncident {
  roadId: string;
  beginS: number;
  endS: number;
  /** the vehicle that causes it (left out of every figure), when the scenario names one */
  vehicle?: string;
}

export interface SumoScenario {
  dir: string;
  sumocfg: string;
  network: Network;
  networkFile: string;
  /** simulation t = 0 as a UTC time (scenario.json `t0`, else the sumocfg begin at 2026-01-01) */
  t0Ms: number;
  beginS: number;
  endS: number;
  incidents: ScenarioIncident[];
  /** additional files named by the sumocfg (absolute), rewritten per run so their outputs go to the run dir */
  additionalFiles: string[];
  /**
   * SUMO's random seed for every run of an evaluation (`--sumo-seed`), null for the sumocfg's own. A
   * seed is one draw of the city's driving noise (departures, driver imperfection): comparing planners
   * takes several (bench/rerouting-seeds.js).
   */
  sumoSeed: number | null;
}

const attr = (xml: string, tag: string): string | undefined =>
  new RegExp(`<${tag}\\s+value="([^"]*)"`).exec(xml)?.[1];

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new CityFlowError('CF_INVALID_CONFIG', `${what}: must be a number`);
  return v;
}

/** Reads `incident` (one object) or `incidents` (a list): `road_id`, `actual_begin_s`, `actual_end_s`. */
export function parseIncidents(json: Record<string, unknown>): ScenarioIncident[] {
  const raw = Array.isArray(json.incidents) ? json.incidents : json.incident ? [json.incident] : [];
  return raw.map((x, i) => {
    const o = x as Record<string, unknown>;
    const where = `scenario.json: incidents[${i}]`;
    if (typeof o.road_id !== 'string')
      throw new CityFlowError('CF_INVALID_CONFIG', `${where}.road_id: required`);
    const beginS = num(o.actual_begin_s ?? o.planned_begin_s, `${where}.actual_begin_s`);
    const endS = num(o.actual_end_s ?? o.planned_end_s, `${where}.actual_end_s`);
    if (endS <= beginS) throw new CityFlowError('CF_INVALID_CONFIG', `${where}: ends before it begins`);
    return {
      roadId: o.road_id,
      beginS,
      endS,
      vehicle: typeof o.vehicle === 'string' ? o.vehicle : undefined,
    };
  });
}

/** Loads a scenario directory: one `.sumocfg`, its `network.geojson`, an optional `scenario.json`. */
export function loadScenario(dirArg: string): SumoScenario {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new CityFlowError('CF_INVALID_CONFIG', `--scenario: ${dir} does not exist`);
  const cfgs = readdirSync(dir).filter((f) => f.endsWith('.sumocfg'));
  if (cfgs.length !== 1)
    throw new CityFlowError(
      'CF_INVALID_CONFIG',
      `--scenario: ${dir} must hold exactly one .sumocfg (found ${cfgs.length})`,
    );
  const sumocfg = join(dir, cfgs[0]!);
  const networkFile = join(dir, 'network.geojson');
  if (!existsSync(networkFile))
    throw new CityFlowError('CF_INVALID_CONFIG', `--scenario: ${networkFile} is missing`);
  const cfg = readFileSync(sumocfg, 'utf8');
  const scenarioFile = join(dir, 'scenario.json');
  const json = existsSync(scenarioFile)
    ? (JSON.parse(readFileSync(scenarioFile, 'utf8')) as Record<string, unknown>)
    : {};
  const beginS = Number(attr(cfg, 'begin') ?? 0);
  const endS = Number(
    attr(cfg, 'end') ?? (typeof json.horizon_s === 'number' ? beginS + json.horizon_s : Number.NaN),
  );
  if (!Number.isFinite(endS))
    throw new CityFlowError('CF_INVALID_CONFIG', `${sumocfg}: no <end> and scenario.json has no horizon_s`);
  const t0Ms = typeof json.t0 === 'string' ? Date.parse(json.t0) : Date.UTC(2026, 0, 1);
  if (!Number.isFinite(t0Ms)) throw new CityFlowError('CF_INVALID_CONFIG', 'scenario.json: t0 is not a time');
  const additionalFiles = (attr(cfg, 'additional-files') ?? '')
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((f) => resolve(dirname(sumocfg), f));
  return {
    dir,
    sumocfg,
    network: loadNetworkFile(networkFile),
    networkFile,
    t0Ms,
    beginS,
    endS,
    incidents: parseIncidents(json),
    additionalFiles,
    sumoSeed: null,
  };
}

/**
 * Copies the scenario's additional files into `runDir` with every `file="…"` output attribute pointed
 * at `runDir`, so a read-only scenario directory is never written to. Returns the new paths.
 */
export function rewriteAdditionalFiles(s: SumoScenario, runDir: string): string[] {
  mkdirSync(runDir, { recursive: true });
  return s.additionalFiles.map((f) => {
    const out = join(runDir, basename(f));
    const xml = readFileSync(f, 'utf8').replace(
      /(\s(?:file|output)=")([^"]+)(")/g,
      (_m, a: string, p: string, b: string) => `${a}${join(runDir, basename(p))}${b}`,
    );
    if (xml === readFileSync(f, 'utf8')) copyFileSync(f, out);
    else writeFileSync(out, xml);
    return out;
  });
}
