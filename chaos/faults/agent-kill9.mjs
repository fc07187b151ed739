/** kill -9 of the agent while sensors publish; restarted 1 s later on the same file and ports. */
import { runScenario } from '../lib/scenario.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  name: 'agent kill -9',
  run: () =>
    runScenario({
      inject: async (world) => {
        await sleep(3000);
        const startedMs = Date.now();
        await world.stopAgent('SIGKILL');
        await sleep(1000);
        await world.startAgent();
        return { startedMs, endedMs: Date.now() };
      },
    }),
};
