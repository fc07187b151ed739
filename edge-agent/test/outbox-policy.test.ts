import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { MetaStore } from '../src/storage/meta-store.js';
import { enforceCaps } from '../src/storage/outbox-policy.js';
import { OutboxStore, toRanges } from '../src/storage/outbox-store.js';
import { ReadingsStore } from '../src/storage/readings-store.js';
import { openDb } from '../src/storage/sqlite.js';
import { FakeHub } from './helpers/fake-hub.js';
import { sliceConfig } from './helpers/network.js';
import { connect, pub, reading, tempDir, waitFor } from './helpers/util.js';

const caps = {
  outboxMaxBytes: 1_000_000,
  outboxMaxAgeMs: 3_600_000,
  dbMaxBytes: 1e12,
  rawRetentionMs: 1e12,
  quarantineMax: 100,
};

describe('bounded outbox with a stated policy', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  function stores() {
    const tmp = tempDir();
    const db = openDb(tmp.dir);
    cleanups.push(tmp.cleanup, () => void db.close());
    return { db, outbox: new OutboxStore(db), meta: new MetaStore(db), readings: new ReadingsStore(db) };
  }

  it('toRanges folds consecutive seqs', () => {
    expect(toRanges([1, 2, 3, 5, 7, 8])).toEqual([
      [1, 3],
      [5, 5],
      [7, 8],
    ]);
  });

  it('over the byte cap: oldest forecasts go first, then oldest summaries; drops counted by reason and reported as skipped', () => {
    const { db, outbox, meta, readings } = stores();
    const now = Date.now();
    db.transaction(() => {
      for (let i = 0; i < 100; i++) outbox.append('summary', { pad: 'x'.repeat(90) }, now);
      for (let i = 0; i < 50; i++) outbox.append('forecast', { pad: 'y'.repeat(90) }, now);
    })();
    const total = outbox.stats('summary').bytes + outbox.stats('forecast').bytes;
    // a cap the forecasts alone can satisfy: no summary is touched
    let dropped = enforceCaps(db, outbox, readings, meta, { ...caps, outboxMaxBytes: total - 2000 }, now);
    expect(Object.keys(dropped)).toEqual(['full_forecast']);
    expect(outbox.stats('summary').pending).toBe(100);
    // a cap below the summaries: every forecast goes, then the oldest summaries
    dropped = enforceCaps(db, outbox, readings, meta, { ...caps, outboxMaxBytes: 5000 }, now);
    expect(outbox.stats('forecast').pending).toBe(0);
    const left = outbox.stats('summary');
    expect(left.bytes).toBeLessThanOrEqual(5000);
    expect(outbox.after('summary', 0, 1)[0]!.seq).toBe(100 - left.pending + 1); // the newest survive
    expect(outbox.skipped('summary')).toEqual([[1, 100 - left.pending]]);
    expect(meta.counter('dropped.full_summary')).toBe(100 - left.pending);
    expect(meta.counter('dropped.full_forecast')).toBe(50);
  });

  it('items older than the age cap are dropped (reason age); an ack clears skipped ranges below the watermark', () => {
    const { db, outbox, meta, readings } = stores();
    const now = Date.now();
    db.transaction(() => {
      for (let i = 0; i < 10; i++) outbox.append('summary', { i }, now - 2 * 3_600_000);
      for (let i = 0; i < 5; i++) outbox.append('summary', { i }, now);
    })();
    const dropped = enforceCaps(db, outbox, readings, meta, caps, now);
    expect(dropped).toEqual({ age: 10 });
    expect(outbox.skipped('summary')).toEqual([[1, 10]]);
    outbox.applyAck('summary', 12);
    expect(outbox.skipped('summary')).toEqual([]);
    expect(outbox.stats('summary').pending).toBe(3);
  });

  it('end to end: a full outbox while the hub is down ends with the hub watermark past every dropped seq', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const port = hub.port;
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      hubUrl: hub.url,
      clock: 'data',
      outboxMaxBytes: 4096,
      backoffBaseMs: 20,
      backoffMaxMs: 100,
      forecastIntervalS: 3600,
    });
    cleanups.push(tmp.cleanup, () => agent.stop());
    await waitFor(() => agent.status().network_slice, 'slice');
    await hub.stop();
    await waitFor(() => agent.status().hub_connected === false, 'hub down');
    const c = await connect(agent.mqttUrl);
    const T0 = Date.UTC(2026, 1, 9, 0, 0, 0);
    for (let m = 0; m <= 60; m++) await pub(c, 'S-1', reading('S-1', 'R-1', T0 + m * 60_000 + 10_000));
    await c.endAsync();
    await waitFor(
      () => (agent.status().streams as { summary: { highest_seq: number } }).summary.highest_seq === 60,
      '60 summaries',
    );
    agent.agent.enforceCapsNow();
    const s = agent.status();
    const dropped = s.dropped as Record<string, number>;
    expect((dropped.full_summary ?? 0) + (dropped.full_forecast ?? 0)).toBeGreaterThan(0);
    expect(s.outbox_bytes as number).toBeLessThanOrEqual(4096);
    const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/cityflow_agent_dropped_total\{reason="full_summary"\} \d+/);
    await hub.start(port);
    cleanups.push(() => hub.stop());
    await waitFor(
      () => hub.watermarks.get('summary') === 60,
      'hub watermark reaches 60 through skipped ranges',
      15_000,
    );
    expect(hub.storedItems('summary').length).toBe(60 - (dropped.full_summary ?? 0));
  }, 30_000);
});
