/** 200 probes/s on the agent's /health and /status for 8 s while sensors publish (fault 6). */
import { runScenario } from '../lib/scenario.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  name: 'probe flood 200/s',
  run: async () => {
    const row = await runScenario({
      inject: async (world) => {
        await sleep(1000);
        const startedMs = Date.now();
        let probes = 0;
        let failed = 0;
        const end = startedMs + 8000;
        const inFlight = new Set();
        for (let i = 0; Date.now() < end; i++) {
          const p = fetch(`${world.httpUrl}/${i % 2 ? 'status' : 'health'}`)
            .then((r) => r.arrayBuffer())
            .then(
              () => probes++,
              () => failed++,
            )
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
          const wait = startedMs + (i + 1) * 5 - Date.now();
          if (wait > 0) await sleep(wait);
        }
        await Promise.all(inFlight);
        return { startedMs, endedMs: Date.now(), note: `${probes} probes answered, ${failed} failed` };
      },
    });
    return { ...row, note: `${row.note}; sensor PUBACK p99 ${row.puback_p99_ms} ms` };
  },
};
