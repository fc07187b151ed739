import { readFileSync } from 'node:fs';
import type { ScenarioIncident } from './scenario.js';

/** One vehicle's trip from SUMO's `--tripinfo-output` (with the emissions device). */
export interface Trip {
  id: string;
  durationS: number;
  timeLossS: number;
  co2G: number;
}

/** The figures of one run, as the report's `no_advice`, `advice` and `sumo_device` objects. */
export interface RunFigures {
  vehicles: number;
  mean_travel_time_s: number;
  mean_time_loss_s: number;
  worst50_mean_time_loss_s: number;
  cohort_vehicles: number;
  cohort_mean_time_loss_s: number;
  co2_g: number;
}

const ATTR = /(\w[\w.:-]*)="([^"]*)"/g;
function attrs(tag: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const m of tag.matchAll(ATTR)) o[m[1]!] = m[2]!;
  return o;
}

/** Reads a tripinfo file: one `<tripinfo …>` per vehicle, its `<emissions CO2_abs=…>` in mg. */
export function readTripinfo(file: string): Trip[] {
  const xml = readFileSync(file, 'utf8');
  const out: Trip[] = [];
  const re = /<tripinfo\s([^>]*?)(\/>|>([\s\S]*?)<\/tripinfo>)/g;
  for (const m of xml.matchAll(re)) {
    const a = attrs(m[1]!);
    const em = m[3] ? /<emissions\s([^>]*)\/>/.exec(m[3]) : null;
    out.push({
      id: a.id!,
      durationS: Number(a.duration),
      timeLossS: Number(a.timeLoss),
      co2G: em ? Number(attrs(em[1]!).CO2_abs ?? 0) / 1000 : 0,
    });
  }
  return out;
}

/**
 * The cohort: vehicles that entered an incident road while its incident lasted, read from a
 * `--vehroute-output` with `--vehroute-output.exit-times` (entry into road i = exit from road i−1,
 * or the departure for the first road).
 */
export function readCohort(file: string, incidents: ScenarioIncident[]): Set<string> {
  const xml = readFileSync(file, 'utf8');
  const cohort = new Set<string>();
  const re = /<vehicle\s([^>]*)>([\s\S]*?)<\/vehicle>/g;
  for (const m of xml.matchAll(re)) {
    const v = attrs(m[1]!);
    const routes = [...m[2]!.matchAll(/<route\s([^>]*?)\/>/g)].map((r) => attrs(r[1]!));
    const r = routes.find((x) => x.exitTimes) ?? routes[routes.length - 1];
    if (!r?.edges || !r.exitTimes) continue;
    const edges = r.edges.split(' ');
    const exits = r.exitTimes.split(' ').map(Number);
    for (const inc of incidents) {
      const i = edges.indexOf(inc.roadId);
      if (i < 0) continue;
      const entered = i === 0 ? Number(v.depart) : exits[i - 1]!;
      if (entered >= inc.beginS && entered <= inc.endS) cohort.add(v.id!);
    }
  }
  return cohort;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
const r1 = (x: number) => Math.round(x * 10) / 10;

/** Figures of one run; `excluded` (the incident vehicles) are left out of every figure. */
export function figures(trips: Trip[], cohort: Set<string>, excluded: Set<string>): RunFigures {
  const t = trips.filter((x) => !excluded.has(x.id));
  const worst = [...t].sort((a, b) => b.timeLossS - a.timeLossS).slice(0, 50);
  const c = t.filter((x) => cohort.has(x.id));
  return {
    vehicles: t.length,
    mean_travel_time_s: r1(mean(t.map((x) => x.durationS))),
    mean_time_loss_s: r1(mean(t.map((x) => x.timeLossS))),
    worst50_mean_time_loss_s: r1(mean(worst.map((x) => x.timeLossS))),
    cohort_vehicles: c.length,
    cohort_mean_time_loss_s: r1(mean(c.map((x) => x.timeLossS))),
    co2_g: Math.round(t.reduce((s, x) => s + x.co2G, 0)),
  };
}
