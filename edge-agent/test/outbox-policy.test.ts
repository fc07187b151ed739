import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { MetaStore } from '../src/storage/meta-store.js';
import { enforceCaps } from '../src/storage/outbox-policy.js';
import { OutboxStore, toRanges } from '../src/storage/outbox-store.js';
import { ReadingsStore } from '../src/storage/readings-store.js';
import { openDb } from '../src/storage/sqlite.js';
import { FakeHub } from './helpers/fake-hub.js';
import { sliceConfig } from './helpers/network.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

function summary(sensor: string, minute: number, count: number, pad?: string) {
  return {
    sensor_id: sensor,
    road_id: 'R-1',
    minute: new Date(Date.UTC(2026, 1, 9, 0, minute)).toISOString(),
    count,
    null_speed_count: 1,
    speed_mean: 40 + (minute % 5),
    speed_min: 30,
    speed_max: 50 + minute,
    flow_mean: 600,
    occupancy_mean: 0.1,
    ...(pad ? { note: pad } : {}),
  };
}

const caps = {
  outboxMaxBytes: 1_000_000,
  outboxMaxAgeMs: 3_600_000,
  dbMaxBytes: 1e12,
  rawRetentionMs: 1e12,
  quarantineMax: 100,
};

describe('bounded outbox with a stated policy', () => {
  const cleanups = useCleanups();

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
      // 100 different sensors in one minute: nothing to downsample, so the oldest are dropped
      for (let i = 0; i < 100; i++) outbox.append('summary', summary(`S-${i}`, 0, 10, 'x'.repeat(40)), now);
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

  it('over the byte cap, never-sent summaries are downsampled to 5-minute ones first: sample counts stay exact', () => {
    const { db, outbox, meta, readings } = stores();
    const now = Date.now();
    db.transaction(() => {
      for (let m = 0; m < 60; m++)
        for (const s of ['S-1', 'S-2']) outbox.append('summary', summary(s, m, 10 + m), now);
    })();
    outbox.markSent('summary', [1, 2, 3, 4]); // handed to the link already: must not be rewritten
    const total = outbox.stats('summary').bytes;
    const dropped = enforceCaps(
      db,
      outbox,
      readings,
      meta,
      { ...caps, outboxMaxBytes: Math.floor(total * 0.5) },
      now,
    );
    expect(Object.keys(dropped)).toEqual(['downsampled']);
    const rows = outbox.after('summary', 0, 1000).map((r) => ({ seq: r.seq, ...JSON.parse(r.body) }));
    // every sample is still there
    expect(rows.reduce((a, r) => a + r.count, 0)).toBe(2 * 60 * 10 + 2 * ((59 * 60) / 2));
    expect(rows.filter((r) => r.seq <= 4).map((r) => r.count)).toEqual([10, 10, 11, 11]);
    const merged = rows.find((r) => r.sensor_id === 'S-1' && r.minute === summary('S-1', 5, 0).minute)!;
    expect(merged).toMatchObject({
      count: 15 + 16 + 17 + 18 + 19,
      null_speed_count: 5,
      speed_min: 30,
      speed_max: 59,
      flow_mean: 600,
    });
    expect(merged.speed_mean).toBeCloseTo(
      (40 * 14 + 41 * 15 + 42 * 16 + 43 * 17 + 44 * 18) / (14 + 15 + 16 + 17 + 18),
      3,
    );
    expect(outbox.stats('summary').bytes).toBeLessThanOrEqual(Math.floor(total * 0.5));
    // the merged-away seqs are reported as skipped so the hub's watermark can pass them
    const skippedCount = outbox.skipped('summary').reduce((a, [f, t]) => a + t - f + 1, 0);
    expect(skippedCount + rows.length).toBe(120);
    expect(meta.counter('dropped.downsampled')).toBe(skippedCount);
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
    expect((dropped.full_summary ?? 0) + (dropped.downsampled ?? 0)).toBeGreaterThan(0);
    expect(s.outbox_bytes as number).toBeLessThanOrEqual(4096);
    const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/cityflow_agent_dropped_total\{reason="(full_summary|downsampled)"\} \d+/);
    await hub.start(port);
    cleanups.push(() => hub.stop());
    await waitFor(
      () => hub.watermarks.get('summary') === 60,
      'hub watermark reaches 60 through skipped ranges',
      15_000,
    );
    const stored = hub.storedItems('summary');
    expect(stored.length).toBe(60 - (dropped.full_summary ?? 0) - (dropped.downsampled ?? 0));
    // downsampling kept every sample; only whole summaries dropped under the cap lose theirs
    expect(stored.reduce((a, i) => a + (i.count as number), 0)).toBe(60 - (dropped.full_summary ?? 0));
  }, 30_000);
});
