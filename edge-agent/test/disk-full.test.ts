import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { openDb } from '../src/storage/sqlite.js';
import { exited, spawnAgent } from './helpers/child.js';
import { smallFs } from '../../chaos/lib/small-fs.mjs';
import { reading, useCleanups, waitFor } from './helpers/util.js';

const SENSORS = 4;
const T0 = Date.UTC(2026, 1, 9, 6, 0, 0);

describe('disk full on the agent (SQLITE_FULL), real process on a filled tmpfs (fault 2)', () => {
  const cleanups = useCleanups();

  it('no PUBACK for what was not stored, alarm and metrics say so, recovery by itself, no seq gap, nothing lost or doubled', async () => {
    const fs = smallFs(8);
    cleanups.push(() => fs.unmount());
    const dataDir = join(fs.dir, 'agent');
    const cfgFile = join(fs.dir, 'agent.json');
    writeFileSync(
      cfgFile,
      JSON.stringify({ logLevel: 'warn', liveIntervalS: 3600, forecastIntervalS: 3600 }),
    );
    const { child, ready } = await spawnAgent([
      ...['--config', cfgFile, '--agent-id', 'A-DF', '--data-dir', dataDir],
      ...['--mqtt-port', '0', '--http-port', '0', '--clock', 'data'],
    ]);
    cleanups.push(() => void child.kill('SIGKILL'));
    const status = async () => (await fetch(`${ready.http_url}/status`)).json();
    const metrics = async () => (await fetch(`${ready.http_url}/metrics`)).text();
    // a real sensor: QoS 1, reconnects and resends what was not PUBACKed
    const c = await mqtt.connectAsync(ready.mqtt_url, {
      reconnectPeriod: 100,
      clean: false,
      clientId: 'df-sensor',
    });
    cleanups.push(() => void c.end(true));
    // A QoS 1 publish that mqtt.js gives up on (its connection closed before the PUBACK) is sent again,
    // as a sensor's firmware does: at-least-once, and the agent must not store it twice.
    const publishUntilAcked = async (topic: string, payload: string): Promise<void> => {
      for (;;) {
        try {
          await c.publishAsync(topic, payload, { qos: 1 });
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    let t = 0;
    const publishSeconds = (n: number, inFlight: Array<Promise<unknown>>) => {
      for (let k = 0; k < n; k++, t++)
        for (let s = 0; s < SENSORS; s++)
          inFlight.push(
            publishUntilAcked(`cityflow/traffic/S-${s}`, reading(`S-${s}`, `R-${s}`, T0 + t * 1000)),
          );
    };

    // 1. normal ingest
    const first: Array<Promise<unknown>> = [];
    publishSeconds(300, first);
    await Promise.all(first);

    // 2. the disk fills up; sensors keep publishing
    fs.fill();
    const duringFull: Array<Promise<unknown>> = [];
    let acked = 0;
    let resolvedWhileFull = 0;
    for (let round = 0; round < 20; round++) {
      const batch: Array<Promise<unknown>> = [];
      publishSeconds(30, batch);
      for (const p of batch) duringFull.push(p.then(() => acked++));
      await new Promise((r) => setTimeout(r, 50));
    }
    const full = await waitFor(
      async () => {
        const s = await status();
        return s.disk_full && s.alarms.some((a: { code: string }) => a.code === 'CF_DISK_FULL') ? s : null;
      },
      'the disk-full alarm',
      30_000,
      100,
    );
    resolvedWhileFull = acked;
    expect(full.disk_full_rejected_total).toBeGreaterThan(0);
    expect(await metrics()).toMatch(/^cityflow_agent_disk_full 1$/m);
    expect(await metrics()).toMatch(/^cityflow_agent_alarm\{code="CF_DISK_FULL"\} 1$/m);
    // refused messages were not acknowledged: not everything sent while full is acked yet
    expect(resolvedWhileFull).toBeLessThan(duringFull.length);

    // 3. space returns: every message ends acked, the alarm clears by itself
    fs.release();
    await waitFor(() => acked === duringFull.length, 'every reading acked after space returned', 60_000, 100);
    await waitFor(
      async () => {
        const s = await status();
        return !s.disk_full && !s.alarms.some((a: { code: string }) => a.code === 'CF_DISK_FULL');
      },
      'the alarm to clear',
      30_000,
      200,
    );
    const sent = t * SENSORS;
    // close every minute sent: one reading per sensor well past the last one
    const closeT = (Math.floor(t / 60) + 2) * 60;
    await Promise.all(
      Array.from({ length: SENSORS }, (_, s) =>
        c.publishAsync(`cityflow/traffic/S-${s}`, reading(`S-${s}`, `R-${s}`, T0 + closeT * 1000), {
          qos: 1,
        }),
      ),
    );
    await waitFor(
      async () => (await status()).streams.summary.highest_seq >= Math.ceil(t / 60) * SENSORS,
      'every minute summarised',
      30_000,
      200,
    );
    await c.endAsync();
    child.kill('SIGTERM');
    expect((await exited(child)).code).toBe(0);

    // 4. the file: every reading counted once, summaries with contiguous seqs holding every sample
    const db = openDb(dataDir);
    cleanups.push(() => void db.close());
    const counter = (name: string) =>
      (db.prepare('SELECT value FROM counters WHERE name = ?').get(name) as { value: number } | undefined)
        ?.value ?? 0;
    expect(counter('readings_total')).toBe(sent + SENSORS);
    const seqs = db
      .prepare("SELECT min(seq) AS lo, max(seq) AS hi, count(*) AS n FROM outbox WHERE stream = 'summary'")
      .get() as {
      lo: number;
      hi: number;
      n: number;
    };
    const next = db.prepare("SELECT next_seq FROM streams WHERE stream = 'summary'").get() as {
      next_seq: number;
    };
    expect(seqs.lo).toBe(1);
    expect(seqs.n).toBe(seqs.hi); // 1..hi, no gap
    expect(next.next_seq).toBe(seqs.hi + 1); // no seq burnt by a rolled-back commit
    const samples = (
      db
        .prepare("SELECT sum(json_extract(body, '$.count')) AS n FROM outbox WHERE stream = 'summary'")
        .get() as { n: number }
    ).n;
    expect(samples).toBe(sent); // the close readings' minute is still open
    const dropped = db
      .prepare("SELECT name FROM counters WHERE name LIKE 'dropped.%' AND name != 'dropped.raw_thinned'")
      .all();
    expect(dropped).toEqual([]);
    // the policy freed space in its stated order: raw readings first (and nothing else was needed)
    expect(counter('dropped.raw_thinned')).toBeGreaterThan(0);
  }, 180_000);
});
