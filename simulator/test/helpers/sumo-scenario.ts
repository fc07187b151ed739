import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GridScenarioOptions, makeGridScenario } from '../../src/sumo/grid-scenario.js';

export const SUMO_HOME = process.env.SUMO_HOME ?? '/usr/share/sumo';

/** Whether a `sumo` binary runs here (the SUMO tests skip, or fail under CITYFLOW_REQUIRE_SERVICES, without). */
export const sumoInstalled = (() => {
  try {
    execFileSync('sumo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * The CI closed-loop city (`makeGridScenario`): a 3×3 grid, both lanes of B0B1 blocked from
 * `incidentBeginS` to `incidentEndS`, in a new temp dir.
 */
export function makeMiniScenario(o: Omit<GridScenarioOptions, 'dir'>) {
  return makeGridScenario({
    ...o,
    dir: mkdtempSync(join(tmpdir(), 'cityflow-sumo-mini-')),
    sumoHome: SUMO_HOME,
  });
}
