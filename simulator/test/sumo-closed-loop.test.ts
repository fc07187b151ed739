import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireToolOrSkip } from '../../test-support/services.js';
import { makeMiniScenario, SUMO_HOME, sumoInstalled } from './helpers/sumo-scenario.js';

const routesOf = (file: string) =>
  new Map(
    [...readFileSync(file, 'utf8').matchAll(/<vehicle id="([^"]+)"[^>]*>([\s\S]*?)<\/vehicle>/g)].map((m) => {
      const edges = [...m[2]!.matchAll(/<route[^>]*edges="([^"]+)"[^>]*exitTimes/g)].map((r) => r[1]);
      return [m[1]!, edges[edges.length - 1] ?? ''];
    }),
  );

describe.skipIf(!requireToolOrSkip('sumo', sumoInstalled))(
  'cityflow-sim sumo: the closed loop on a real SUMO',
  () => {
    it('detects the incident, serves advice in time, and the advice changes vehicle routes', async () => {
      // The incident starts after ten minutes of traffic: the detector compares a road with its own
      // recent past (5–15 minutes before), so it needs that much history to judge a silence.
      const dir = makeMiniScenario({ endS: 1800, incidentBeginS: 600, incidentEndS: 1200, rateVph: 1800 });
      const out = join(dir, 'out');
      const bin = join(import.meta.dirname, '..', 'bin', 'cityflow-sim.js');
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [
            bin,
            'sumo',
            '--scenario',
            dir,
            '--out',
            out,
            '--compliance',
            '0.5',
            '--report',
            join(dir, 'report.json'),
          ],
          { env: { ...process.env, SUMO_HOME, LOG_LEVEL: 'error' }, maxBuffer: 1 << 26, timeout: 420_000 },
          (err, so, se) => (err ? reject(new Error(`${err.message}\n${se.slice(-3000)}`)) : resolve(so)),
        ),
      );
      const report = JSON.parse(stdout);
      expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toEqual(report);
      for (const run of ['no_advice', 'advice', 'sumo_device']) {
        expect(report[run].vehicles).toBeGreaterThan(200);
        expect(report[run].cohort_vehicles).toBe(report.no_advice.cohort_vehicles);
        for (const k of ['mean_travel_time_s', 'mean_time_loss_s', 'worst50_mean_time_loss_s', 'co2_g'])
          expect(report[run][k]).toBeGreaterThan(0);
      }
      expect(report.no_advice.cohort_vehicles).toBeGreaterThan(5);
      // the platform saw the blocked road: an incident on B0B1 while it lasted
      const inc = report.advice.incidents_detected.find((i: { road_id: string }) => i.road_id === 'B0B1');
      expect(inc).toBeDefined();
      expect(inc.detected_s).toBeGreaterThan(600);
      expect(inc.detected_s).toBeLessThan(1200);
      // advice was served for most minutes in time and applied
      expect(report.advice.advice_minutes).toBeGreaterThan(0);
      expect(report.advice.late_minutes).toBeLessThanOrEqual(2);
      expect(report.advice.driver.complied).toBeGreaterThan(0);
      expect(report.advice.rerouted_vehicles).toBeGreaterThan(0);
      // and it changed routes: vehicles of the advice run drove other roads than without advice
      const before = routesOf(join(out, 'no-advice', 'vehroutes.xml'));
      const after = routesOf(join(out, 'advice', 'vehroutes.xml'));
      const changed = [...after].filter(([id, r]) => before.has(id) && before.get(id) !== r).length;
      expect(changed).toBeGreaterThan(0);
      // nothing was written into the scenario directory but our own outputs
      expect(readFileSync(join(dir, 'detectors.add.xml'), 'utf8')).toContain('file="e1.out.xml"');
    }, 480_000);
  },
);
