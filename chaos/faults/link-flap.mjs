/** The agent's link to the hub is cut and restored every second for 8 s. */
import { runScenario } from '../lib/scenario.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  name: 'link flap 1 s × 8',
  run: () =>
    runScenario({
      inject: async (world) => {
        await sleep(1000);
        const startedMs = Date.now();
        for (let i = 0; i < 8; i++) {
          if (i % 2 === 0) world.proxy.cut();
          else world.proxy.restore();
          await sleep(1000);
        }
        world.proxy.restore();
        return { startedMs, endedMs: Date.now(), note: '4 cuts' };
      },
    }),
};
