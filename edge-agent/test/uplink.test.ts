import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { FakeHub } from './helpers/fake-hub.js';
import { sliceConfig } from './helpers/network.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

const T0 = Date.UTC(2026, 1, 9, 6, 0, 0);
const fastLink = {
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  clock: 'data' as const,
  forecastIntervalS: 3600,
  liveIntervalS: 3600,
};

/** Publishes `minutes` minutes of readings (2 sensors, 2 readings each per minute) plus one closing reading. */
async function feed(url: string, fromMin: number, minutes: number): Promise<number> {
  const c = await connect(url);
  let n = 0;
  const inflight: Promise<unknown>[] = [];
  for (let m = fromMin; m < fromMin + minutes; m++)
    for (const [s, r] of [
      ['S-1', 'R-1'],
      ['S-2', 'R-2'],
    ] as const)
      for (const off of [5_000, 35_000]) {
        inflight.push(pub(c, s, reading(s, r, T0 + m * 60_000 + off, 30 + (m % 20))));
        n++;
      }
  await Promise.all(inflight);
  await c.endAsync();
  return n;
}

describe('uplink: exactly once into the hub through an at-least-once link', () => {
  const cleanups = useCleanups();

  it('a link flapping every 300 ms loses nothing and duplicates nothing (per sensor-minute)', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      hubUrl: hub.url,
      batchMaxItems: 25,
      drainRatePerS: 1500,
      ...fastLink,
    });
    cleanups.push(
      tmp.cleanup,
      () => hub.stop(),
      () => agent.stop(),
    );
    await waitFor(() => agent.status().network_slice, 'slice');
    const flap = setInterval(() => hub.kickAgent(), 300);
    cleanups.push(() => clearInterval(flap));
    const readings = await feed(agent.mqttUrl, 0, 240);
    // one more reading closes the last minute (data clock)
    const c = await connect(agent.mqttUrl);
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 241 * 60_000 + 10_000));
    await c.endAsync();
    await new Promise((r) => setTimeout(r, 2500)); // keep flapping while the backlog drains
    clearInterval(flap);
    await waitFor(() => agent.status().outbox_pending === 0, 'outbox drained', 20_000);
    expect(hub.connects).toBeGreaterThan(3);
    const items = hub.storedItems('summary');
    expect(items).toHaveLength(480);
    const keys = new Set(items.map((i) => `${i.sensor_id}|${i.minute}`));
    expect(keys.size).toBe(480); // no sensor-minute twice
    expect(items.reduce((a, i) => a + (i.count as number), 0)).toBe(readings);
    expect(hub.watermarks.get('summary')).toBe(480);
  }, 40_000);

  it('after a hub outage, draining starts by itself on reconnect (no new message needed)', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const port = hub.port;
    const tmp = tempDir();
    const agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir, hubUrl: hub.url, ...fastLink });
    cleanups.push(tmp.cleanup, () => agent.stop());
    await waitFor(() => agent.status().network_slice, 'slice');
    await hub.stop();
    await waitFor(() => agent.status().hub_connected === false, 'agent notices the outage');
    const n = await feed(agent.mqttUrl, 0, 30);
    const c = await connect(agent.mqttUrl);
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 31 * 60_000));
    await c.endAsync();
    const summaryPending = () => (agent.status().streams as { summary: { pending: number } }).summary.pending;
    await waitFor(() => summaryPending() === 60, 'backlog of 60 summaries while the hub is down');
    expect(hub.storedItems('summary')).toHaveLength(0);
    // The hub comes back; nothing else is published to the agent.
    await hub.start(port);
    cleanups.push(() => hub.stop());
    await waitFor(() => agent.status().outbox_pending === 0, 'backlog drained after reconnect', 15_000);
    expect(hub.storedItems('summary')).toHaveLength(60);
    expect(hub.storedItems('summary').reduce((a, i) => a + (i.count as number), 0)).toBe(n);
  }, 30_000);

  it('live first, end to end: a minute closed after reconnect during a rate-limited backlog reaches the hub', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const port = hub.port;
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      hubUrl: hub.url,
      ...fastLink,
      drainRatePerS: 40,
      batchMaxItems: 10,
    });
    cleanups.push(tmp.cleanup, () => agent.stop());
    await waitFor(() => agent.status().network_slice, 'slice');
    await hub.stop();
    await waitFor(() => agent.status().hub_connected === false, 'hub down');
    await feed(agent.mqttUrl, 0, 60); // 120 summaries of backlog (3 s at 40/s)
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 60 * 60_000 + 10_000));
    await waitFor(
      () => (agent.status().streams as { summary: { pending: number } }).summary.pending === 120,
      'backlog',
    );
    await hub.start(port);
    cleanups.push(() => hub.stop());
    await waitFor(() => agent.status().hub_connected, 'reconnected');
    // a new minute closes now: minute 60 of S-1
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 61 * 60_000 + 10_000));
    const fresh = await waitFor(
      () => hub.storedItems('summary').find((i) => i.minute === new Date(T0 + 60 * 60_000).toISOString()),
      'fresh summary at the hub',
    );
    expect(fresh.seq).toBe(121);
    // How far the backlog got meanwhile depends on machine speed, so the order itself is asserted
    // with fake timers in drainer-order.test.ts.
    await waitFor(() => hub.watermarks.get('summary') === 121, 'everything acked in the end', 15_000);
  }, 30_000);

  it("a wiped agent (a new database, a new incarnation) ignores the old database's watermark 1000: seqs 1..4 are stored", async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    await hub.presetWatermark('summary', 1000);
    const tmp = tempDir();
    const agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir, hubUrl: hub.url, ...fastLink });
    cleanups.push(
      tmp.cleanup,
      () => hub.stop(),
      () => agent.stop(),
    );
    await feed(agent.mqttUrl, 0, 2);
    const c = await connect(agent.mqttUrl);
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 3 * 60_000));
    await c.endAsync();
    await waitFor(() => hub.storedItems('summary').length === 4, 'four summaries stored');
    expect(
      hub
        .storedItems('summary')
        .map((i) => i.seq)
        .sort(),
    ).toEqual([1, 2, 3, 4]);
    await waitFor(() => agent.status().outbox_pending === 0, 'acked');
  });

  it('a row the hub never acknowledges is parked after maxTries and skipped, so the stream moves on', async () => {
    const hub = new FakeHub({
      agentId: 'A-1',
      config: sliceConfig(),
      neverStore: (s, seq) => s === 'summary' && seq === 2,
    });
    await hub.start();
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      hubUrl: hub.url,
      ackTimeoutS: 0.3,
      maxTries: 2,
      ...fastLink,
    });
    cleanups.push(
      tmp.cleanup,
      () => hub.stop(),
      () => agent.stop(),
    );
    await waitFor(() => agent.status().network_slice, 'slice');
    await feed(agent.mqttUrl, 0, 3);
    const c = await connect(agent.mqttUrl);
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 4 * 60_000));
    await c.endAsync();
    await waitFor(() => hub.watermarks.get('summary') === 6, 'watermark passes the parked row', 15_000);
    await waitFor(() => agent.status().outbox_pending === 0, 'outbox empty');
    expect(agent.status().parked_total).toBe(1);
    expect(
      hub
        .storedItems('summary')
        .map((i) => i.seq)
        .sort(),
    ).toEqual([1, 3, 4, 5, 6]);
  }, 30_000);
});
