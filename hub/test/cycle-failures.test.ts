import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { testHub } from './helpers.js';
import { parseSamples, sampleOf } from './prom-text.js';

describe('cityflow_hub_cycle_failures_total (the cycle-failure alert reads it)', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await testHub();
  });
  afterAll(() => hub.stop());

  it('counts a failing reroute step by cycle name', async () => {
    const failures = async () =>
      sampleOf(
        parseSamples(await (await fetch(`${hub.apiUrl}/metrics`)).text()),
        'cityflow_hub_cycle_failures_total',
        {
          cycle: 'reroute',
        },
      )?.value ?? 0;
    expect(await hub.cycles.runOnce()).toBe(true);
    expect(await failures()).toBe(0);
    // The reroute step starts from the live state of every road: without its table it fails.
    await hub.db.query('ALTER TABLE road_live RENAME TO road_live_away');
    expect(await hub.cycles.runOnce()).toBe(false);
    expect(await failures()).toBe(1);
    await hub.db.query('ALTER TABLE road_live_away RENAME TO road_live');
  });
});
