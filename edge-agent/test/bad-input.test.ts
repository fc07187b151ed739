import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { openDb } from '../src/storage/sqlite.js';
import { FakeHub } from './helpers/fake-hub.js';
import { sliceConfig } from './helpers/network.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

describe('bad input is isolated: rejected with a reason, counted, quarantined', () => {
  const cleanups = useCleanups();

  it('rejects every kind of bad reading without blocking good ones (before a slice: unknown sensors kept and flagged)', async () => {
    const tmp = tempDir();
    const agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir });
    cleanups.push(tmp.cleanup, () => agent.stop());
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    const now = Date.now();
    await pub(c, 'S-9', reading('S-9', 'R-9', now)); // unknown, but no slice yet: kept + flagged
    await pub(c, 'S-1', 'not json');
    await pub(
      c,
      'S-1',
      '{"ts":"2026-02-09T10:00:00Z","sensor_id":"S-1","road_id":"R-1","speed_kmh":NaN,"flow_rate":1,"occupancy":0.1}',
    );
    await pub(c, 'S-1', reading('S-1', 'R-1', now, 40, { speed_kmh: '40' as never }));
    await pub(c, 'S-1', reading('S-1', 'R-1', now, 40, { occupancy: 1.5 }));
    await pub(
      c,
      'S-1',
      JSON.stringify({ ts: new Date(now).toISOString(), sensor_id: 'S-1', road_id: 'R-1' }),
    );
    await pub(c, 'S-1', reading('S-1', 'R-1', now, 40, { pad: 'x'.repeat(2000) } as never));
    await pub(c, 'S-1', reading('S-2', 'R-1', now));
    await pub(c, 'S-1', reading('S-1', 'R-1', now + 3_600_000)); // sensor clock 1 h ahead
    await pub(c, 'S-1', reading('S-1', 'R-1', now - 8 * 24 * 3_600_000)); // 8 days old
    await pub(c, 'S-1', reading('S-1', 'R-1', now, 55)); // a good one after all the bad ones

    const s = agent.status();
    expect(s.readings_total).toBe(2);
    expect(s.readings_flagged_total).toBe(2);
    expect(s.quarantined_total).toBe(9);
    expect(s.quarantined_by_code).toEqual({
      CF_INVALID_JSON: 2,
      CF_INVALID_READING: 3,
      CF_OVERSIZE: 1,
      CF_TOPIC_MISMATCH: 1,
      CF_TS_FUTURE: 1,
      CF_TS_PAST: 1,
    });
    const metrics = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    expect(metrics).toContain('cityflow_agent_quarantined_total{code="CF_TS_FUTURE"} 1');
    await agent.stop();
    const db = openDb(tmp.dir);
    const rows = db.prepare('SELECT code, errors, payload FROM quarantine ORDER BY id').all() as Array<{
      code: string;
      errors: string;
      payload: string;
    }>;
    db.close();
    expect(rows).toHaveLength(9);
    expect(rows[0]).toMatchObject({ code: 'CF_INVALID_JSON', payload: 'not json' });
    // every missing field is reported, not just the first
    const missing = (JSON.parse(rows[4]!.errors) as string[]).join('\n');
    expect(missing).toMatch(/speed_kmh/);
    expect(missing).toMatch(/flow_rate/);
    expect(missing).toMatch(/occupancy/);
    expect(rows.every((r) => JSON.parse(r.errors).length > 0)).toBe(true);
    // the oversize payload is kept, truncated to a bounded size
    expect(rows.find((r) => r.code === 'CF_OVERSIZE')!.payload.length).toBeLessThanOrEqual(2048);
  });

  it('10% malformed messages mixed into a stream: every good reading is stored and summarised, every bad one quarantined', async () => {
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      clock: 'data',
      forecastIntervalS: 3600,
    });
    cleanups.push(tmp.cleanup, () => agent.stop());
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    const T0 = Date.UTC(2026, 1, 9, 9, 0, 0);
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      const ts = T0 + Math.floor(i / 100) * 60_000 + (i % 100) * 100;
      const bad = i % 10 === 7;
      sends.push(
        pub(
          c,
          'S-1',
          bad ? `{"ts":"${new Date(ts).toISOString()}","sensor_id":"S-1",` : reading('S-1', 'R-1', ts),
        ),
      );
    }
    await Promise.all(sends);
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 11 * 60_000));
    await waitFor(
      () => (agent.status().streams as { summary: { highest_seq: number } }).summary.highest_seq === 10,
      'ten minutes summarised',
    );
    const s = agent.status();
    expect(s.readings_total).toBe(901);
    expect(s.quarantined_by_code).toEqual({ CF_INVALID_JSON: 100 });
    await agent.stop();
    const db = openDb(tmp.dir);
    const counts = (
      db.prepare("SELECT body FROM outbox WHERE stream = 'summary'").all() as Array<{ body: string }>
    ).map((r) => JSON.parse(r.body).count);
    db.close();
    expect(counts).toEqual(Array(10).fill(90));
  });

  it('after a network slice, sensors absent from it are rejected as unknown', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const tmp = tempDir();
    const agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir, hubUrl: hub.url });
    cleanups.push(
      tmp.cleanup,
      () => hub.stop(),
      () => agent.stop(),
    );
    await waitFor(() => agent.status().network_slice, 'slice');
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    await pub(c, 'S-9', reading('S-9', 'R-1', Date.now()));
    await pub(c, 'S-1', reading('S-1', 'R-2', Date.now())); // S-1 is on R-1 in the slice
    await pub(c, 'S-1', reading('S-1', 'R-1', Date.now()));
    const s = agent.status();
    expect(s.quarantined_by_code).toEqual({ CF_UNKNOWN_SENSOR: 1, CF_INVALID_READING: 1 });
    expect(s.readings_total).toBe(1);
    expect(s.readings_flagged_total).toBe(0);
  });

  it('local broker ACL: with sensor credentials a sensor publishes only to its own topic', async () => {
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      sensorCredentials: { 'S-1': 'secret-1' },
    });
    cleanups.push(tmp.cleanup, () => agent.stop());
    await expect(connect(agent.mqttUrl, { username: 'S-1', password: 'wrong' })).rejects.toThrow();
    const good = await connect(agent.mqttUrl, { username: 'S-1', password: 'secret-1' });
    cleanups.push(() => void good.end(true));
    await pub(good, 'S-1', reading('S-1', 'R-1', Date.now()));
    expect(agent.status().readings_total).toBe(1);
    // S-1 publishing as S-2: the broker refuses (MQTT 3.1.1 has no negative PUBACK: the connection drops)
    const closed = new Promise((r) => good.once('close', r));
    good.publish('cityflow/traffic/S-2', reading('S-2', 'R-1', Date.now()), { qos: 1 });
    await closed;
    const anon = await connect(agent.mqttUrl);
    cleanups.push(() => void anon.end(true));
    const anonClosed = new Promise((r) => anon.once('close', r));
    anon.publish('cityflow/traffic/S-1', reading('S-1', 'R-1', Date.now()), { qos: 1 });
    await anonClosed;
    await waitFor(() => agent.status().quarantined_total === 2, 'refused publishes quarantined');
    expect(agent.status().quarantined_by_code).toEqual({ CF_NOT_AUTHORIZED: 2 });
    expect(agent.status().readings_total).toBe(1);
  });
});
