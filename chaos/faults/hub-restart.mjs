/** The hub stops (broker, API, database closed) and starts again 3 s later on the same PGlite files. */
import { runScenario } from '../lib/scenario.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  name: 'hub restart',
  run: () =>
    runScenario({
      inject: async (world) => {
        await sleep(3000);
        const startedMs = Date.now();
        await world.restartHub(3000);
        return { startedMs, endedMs: Date.now() };
      },
    }),
};
