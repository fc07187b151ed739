import { validateAgentHealth, validateLiveSnapshot } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { type RunningAgent, startAgent } from '../src/index.js';
import { FakeHub } from './helpers/fake-hub.js';
import { sliceConfig } from './helpers/network.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

const M = Date.UTC(2026, 1, 9, 10, 0, 0); // a minute start

describe('thin path: sensor -> agent -> hub', () => {
  const cleanups = useCleanups();

  it('summarises each sensor per minute, sends with seqs, and deletes rows once acked', async () => {
    const hub = new FakeHub({ agentId: 'A-1', password: 'pw', config: sliceConfig() });
    await hub.start();
    const tmp = tempDir();
    const agent: RunningAgent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      hubUrl: hub.url,
      hubUsername: 'A-1',
      hubPassword: 'pw',
      clock: 'data',
      liveIntervalS: 0.2,
      forecastIntervalS: 3600,
    });
    cleanups.push(
      tmp.cleanup,
      () => hub.stop(),
      () => agent.stop(),
    );
    await waitFor(() => agent.status().network_slice, 'network slice');
    await waitFor(() => hub.statuses.includes('online'), 'online status');

    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    await pub(c, 'S-1', reading('S-1', 'R-1', M + 1000, 40));
    await pub(c, 'S-1', reading('S-1', 'R-1', M + 20_000, 50));
    await pub(c, 'S-1', reading('S-1', 'R-1', M + 40_000, 60));
    await pub(c, 'S-2', reading('S-2', 'R-2', M + 5000, null, { occupancy: 0.02 }));
    await pub(c, 'S-2', reading('S-2', 'R-2', M + 30_000, 20));
    expect(agent.status().readings_total).toBe(5);
    // Data clock: a reading 70 s later means minute M ended more than the grace ago.
    await pub(c, 'S-1', reading('S-1', 'R-1', M + 70_000, 45));

    await waitFor(() => hub.storedItems('summary').length === 2, 'two summaries at the hub');
    const items = hub.storedItems('summary').sort((a, b) => (a.seq as number) - (b.seq as number));
    expect(items.map((i) => i.seq)).toEqual([1, 2]);
    const s1 = items.find((i) => i.sensor_id === 'S-1')!;
    expect(s1).toMatchObject({
      road_id: 'R-1',
      minute: new Date(M).toISOString(),
      count: 3,
      null_speed_count: 0,
      speed_mean: 50,
      speed_min: 40,
      speed_max: 60,
    });
    const s2 = items.find((i) => i.sensor_id === 'S-2')!;
    expect(s2).toMatchObject({ count: 2, null_speed_count: 1, speed_mean: 20, speed_min: 20, speed_max: 20 });
    expect(s2.flagged).toBeUndefined();

    await waitFor(() => agent.status().outbox_pending === 0, 'outbox emptied by the ack watermark');
    expect((agent.status().streams as { summary: { watermark: number } }).summary.watermark).toBe(2);

    const live = await waitFor(
      () =>
        hub.messages.find(
          (m) => m.topic.endsWith('/up/live') && (m.payload as { roads: unknown[] }).roads.length === 2,
        ),
      'live snapshot with both roads',
    );
    expect(validateLiveSnapshot(live.payload).ok).toBe(true);
    const r1 = (
      live.payload as { roads: Array<{ road_id: string; sensors: number; congestion_score: number }> }
    ).roads.find((r) => r.road_id === 'R-1')!;
    expect(r1.sensors).toBe(1);
    // 45-60 km/h on a 50 km/h road is free flow.
    expect(r1.congestion_score).toBe(0);

    // a health message went out on connect: memory, uptime, backlog, drops, clock (synced by the hub's acks)
    const health = hub.messages.find((m) => m.topic.endsWith('/up/health'));
    expect(health && validateAgentHealth(health.payload).ok).toBe(true);
    expect(agent.status().clock).toMatchObject({ mode: 'data', synced: true });
  });
});
