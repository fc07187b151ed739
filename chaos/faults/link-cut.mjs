/** The agent's link to the hub is cut for 5 s (every socket destroyed, reconnects refused). */
import { runScenario } from '../lib/scenario.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  name: 'link cut 5 s',
  run: () =>
    runScenario({
      inject: async (world) => {
        await sleep(2000);
        const startedMs = Date.now();
        world.proxy.cut();
        await sleep(5000);
        world.proxy.restore();
        return { startedMs, endedMs: Date.now() };
      },
    }),
};
