import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { FakeHub } from './helpers/fake-hub.js';
import { sliceConfig } from './helpers/network.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

const T0 = Date.UTC(2026, 1, 9, 6, 0, 0);

describe('hub database down: the hub stops acking, the agent keeps buffering', () => {
  const cleanups = useCleanups();

  it('silence for longer than maxTries x ackTimeout parks nothing; all delivered once the hub acks again', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const tmp = tempDir();
    const maxTries = 2;
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      hubUrl: hub.url,
      ackTimeoutS: 0.2,
      maxTries,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      clock: 'data',
      forecastIntervalS: 3600,
      liveIntervalS: 3600,
    });
    cleanups.push(
      tmp.cleanup,
      () => hub.stop(),
      () => agent.stop(),
    );
    await waitFor(() => agent.status().network_slice, 'slice');
    hub.dbDown = true;
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    for (let m = 0; m < 3; m++)
      for (const [s, r] of [
        ['S-1', 'R-1'],
        ['S-2', 'R-2'],
      ] as const)
        await pub(c, s, reading(s, r, T0 + m * 60_000 + 5_000));
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 3 * 60_000 + 10_000)); // closes minutes 0-2
    // Every ignored batch after the first is a timeout resend: well past maxTries of them.
    await waitFor(() => hub.ignoredBatches >= 3 * (maxTries + 1), 'timeout resends into silence', 20_000);
    expect(agent.status().parked_total).toBe(0);
    expect(hub.storedItems('summary')).toHaveLength(0);
    hub.dbDown = false;
    await waitFor(() => hub.watermarks.get('summary') === 6, 'everything acked after recovery', 15_000);
    await waitFor(() => agent.status().outbox_pending === 0, 'outbox empty');
    expect(agent.status().parked_total).toBe(0);
    expect(
      hub
        .storedItems('summary')
        .map((i) => i.seq)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5, 6]);
  }, 40_000);
});
