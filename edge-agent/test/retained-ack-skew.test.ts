import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { OutboxStore } from '../src/storage/outbox-store.js';
import { openDb } from '../src/storage/sqlite.js';
import { FakeHub } from './helpers/fake-hub.js';
import { sliceConfig } from './helpers/network.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

describe('clock skew is measured on live acks only', () => {
  const cleanups = useCleanups();

  it('a retained ack sent an hour ago does not set the skew, so live readings are not CF_TS_FUTURE', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const tmp = tempDir();
    // the database exists before the agent starts, so the hub's retained ack can name its incarnation
    const db = openDb(tmp.dir);
    const incarnation = new OutboxStore(db).incarnation('summary');
    db.close();
    // the last ack the hub sent before going quiet, an hour ago, still retained by its broker
    await hub.presetWatermark('summary', 5, Date.now() - 3_600_000, incarnation);
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      hubUrl: hub.url,
      clock: 'wall',
      forecastIntervalS: 3600,
      liveIntervalS: 3600,
    });
    cleanups.push(
      tmp.cleanup,
      () => hub.stop(),
      () => agent.stop(),
    );
    // watermark 5 above every seq of this empty database: applying it moves the stream to a new
    // incarnation (the restored-image rule), which shows the retained ack was applied
    await waitFor(
      () =>
        (agent.status().streams as { summary: { incarnation: string } }).summary.incarnation !== incarnation,
      'the retained ack applied',
    );
    expect((agent.status().clock as { skew_s: number | null }).skew_s).toBeNull();
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    await pub(c, 'S-1', reading('S-1', 'R-1', Date.now()));
    expect(agent.status().quarantined_total).toBe(0);
    expect(agent.status().readings_total).toBe(1);
  });

  it('a live ack (answering a batch) does set the skew', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      hubUrl: hub.url,
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
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    const t0 = Date.UTC(2026, 1, 9, 6, 0, 0);
    await pub(c, 'S-1', reading('S-1', 'R-1', t0 + 5_000));
    await pub(c, 'S-1', reading('S-1', 'R-1', t0 + 65_000)); // closes minute 0
    await waitFor(() => hub.watermarks.get('summary') === 1, 'summary acked');
    await waitFor(() => agent.status().outbox_pending === 0, 'ack applied');
    expect((agent.status().clock as { skew_s: number | null }).skew_s).not.toBeNull();
  });
});
