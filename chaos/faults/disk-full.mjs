/**
 * The agent's disk fills up (its data directory is on an 8 MB tmpfs, filled by another file) for 4 s
 * while sensors publish, then space returns. Needs root (mount -t tmpfs).
 */
import { join } from 'node:path';
import { runScenario } from '../lib/scenario.mjs';
import { smallFs } from '../lib/small-fs.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default {
  name: 'agent disk full 4 s',
  run: async () => {
    const fs = smallFs(8);
    try {
      return await runScenario({
        world: { dataDir: join(fs.dir, 'agent') },
        inject: async (world) => {
          await sleep(3000);
          const startedMs = Date.now();
          fs.fill();
          let sawAlarm = false;
          for (let i = 0; i < 40; i++) {
            await sleep(100);
            const s = await world.status().catch(() => null);
            if (s?.alarms?.some((a) => a.code === 'CF_DISK_FULL')) sawAlarm = true;
          }
          fs.release();
          const s = await world.status();
          return {
            startedMs,
            endedMs: Date.now(),
            note: `CF_DISK_FULL ${sawAlarm ? 'raised' : 'NOT raised'}; ${s.disk_full_rejected_total} messages refused (no PUBACK, resent)`,
          };
        },
      });
    } finally {
      fs.unmount();
    }
  },
};
