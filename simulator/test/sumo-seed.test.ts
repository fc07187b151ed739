import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTripinfo } from '../src/sumo/report.js';
import { loadScenario } from '../src/sumo/scenario.js';
import { runSumoToEnd } from '../src/sumo/sumo-process.js';
import { requireToolOrSkip } from '../../test-support/services.js';
import { makeMiniScenario, SUMO_HOME, sumoInstalled } from './helpers/sumo-scenario.js';

describe.skipIf(!requireToolOrSkip('sumo', sumoInstalled))('--sumo-seed', () => {
  it("is SUMO's seed for a run: the same seed repeats a run exactly, another draws other trips", async () => {
    process.env.SUMO_HOME ??= SUMO_HOME;
    const dir = makeMiniScenario({
      size: 3,
      endS: 900,
      rateVph: 900,
      incidentBeginS: 300,
      incidentEndS: 600,
    });
    const s = loadScenario(dir);
    expect(s.sumoSeed).toBeNull();
    const run = async (seed: number, name: string) => {
      s.sumoSeed = seed;
      const runDir = join(dir, name);
      mkdirSync(runDir);
      const trips = readTripinfo((await runSumoToEnd(s, runDir)).tripinfo);
      return trips.map((t) => `${t.id}:${t.durationS}:${t.timeLossS}`).join(' ');
    };
    const [a, again, other] = [await run(1, 'a'), await run(1, 'again'), await run(2, 'other')];
    expect(a.length).toBeGreaterThan(0);
    expect(again).toBe(a);
    expect(other).not.toBe(a);
  });
});
