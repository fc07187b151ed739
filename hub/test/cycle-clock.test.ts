import { loadNetwork } from '@cityflow/protocol';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HubClock } from '../src/clock.js';
import { resolveConfig } from '../src/config.js';
import { Cycles } from '../src/cycles/cycles.js';
import { type Db, openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import { LiveBus } from '../src/live/bus.js';
import { ResponseCache } from '../src/live/cache.js';
import { createMetrics } from '../src/metrics.js';
import { gridNetwork, writeNetwork } from './helpers.js';

describe('cycle scheduling on the data clock', () => {
  let db: Db;
  afterEach(async () => {
    vi.useRealTimers();
    await db?.close();
  });

  it('runs once per period of data time, including after the clock jumps back to a replay', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    db = await openDb('pglite://memory');
    await migrate(db);
    const r = loadNetwork(gridNetwork());
    if (!r.ok) throw new Error(r.errors.join());
    const log = pino({ level: 'silent' });
    const metrics = createMetrics();
    const bus = new LiveBus(undefined, log);
    const clock = new HubClock('data');
    const config = resolveConfig({ clock: 'data', cycleIntervalS: 60, networkFile: writeNetwork() });
    const cycles = new Cycles({
      db,
      net: r.value,
      clock,
      metrics,
      bus,
      cache: new ResponseCache(true, undefined, 'cityflow:', bus, metrics, log),
      config,
      log,
      publish: async () => undefined,
    });
    await cycles.start();
    // a replay of 2026-03-02 starts: the data clock jumps months back from the wall clock
    const T0 = Date.UTC(2026, 2, 2, 8, 0, 10);
    clock.observe(T0);
    await cycles.tick(); // re-based on the replay's timeline; 08:00:10 is before the 08:01 boundary
    expect(cycles.runs).toBe(0);
    clock.observe(T0 + 55_000); // 08:01:05: due
    await cycles.tick();
    expect(cycles.runs).toBe(1);
    clock.observe(T0 + 100_000); // 08:01:50: same period
    await cycles.tick();
    expect(cycles.runs).toBe(1);
    clock.observe(T0 + 10 * 60_000); // ten data minutes in one wall second: one cycle, not ten
    await cycles.tick();
    expect(cycles.runs).toBe(2);
    await cycles.stop();
  });
});
