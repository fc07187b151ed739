import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { openDb } from '../src/storage/sqlite.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

const T0 = Date.UTC(2026, 1, 9, 6, 0, 0);

describe('a resent reading (PUBACK lost to a crash or a cut) is stored and summarised once', () => {
  const cleanups = useCleanups();

  it('same sensor and timestamp: acked again, counted as resent, one sample in the minute summary', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      clock: 'data',
      forecastIntervalS: 3600,
    });
    cleanups.push(() => agent.stop());
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 1000, 40));
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 1000, 40)); // the resend
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 2000, 50)); // a new reading, same minute
    await pub(c, 'S-2', reading('S-2', 'R-1', T0 + 1000, 60)); // another sensor, same time: not a resend
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 120_000, 40)); // closes the first minute
    await waitFor(
      () => (agent.status().streams as { summary: { highest_seq: number } }).summary.highest_seq >= 2,
      'summaries',
    );
    const s = agent.status();
    expect(s.readings_total).toBe(4);
    expect(s.readings_resent_total).toBe(1);
    await agent.stop();
    const db = openDb(tmp.dir);
    cleanups.push(() => void db.close());
    const counts = (
      db
        .prepare(
          "SELECT json_extract(body, '$.sensor_id') AS s, json_extract(body, '$.count') AS n FROM outbox WHERE stream = 'summary' ORDER BY s",
        )
        .all() as Array<{ s: string; n: number }>
    ).map((r) => [r.s, r.n]);
    expect(counts).toEqual([
      ['S-1', 2],
      ['S-2', 1],
    ]);
  });
});
