import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { testHub } from './helpers.js';
import { parseSamples, sampleOf } from './prom-text.js';

describe('/health/live (the K3s liveness probe)', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await testHub();
  });
  afterAll(() => hub.stop());

  it('answers 200 without auth while /health reports the dependencies', async () => {
    const live = await fetch(`${hub.apiUrl}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const full = (await (await fetch(`${hub.apiUrl}/health`)).json()) as { checks: unknown };
    expect(full.checks).toBeTruthy();
  });

  it('still answers 200 when the database is gone (a database outage must not restart the replicas); /metrics says database_up 0', async () => {
    await hub.db.close();
    expect((await fetch(`${hub.apiUrl}/health`)).status).toBe(503);
    expect((await fetch(`${hub.apiUrl}/health/live`)).status).toBe(200);
    // /metrics still answers, and says the database is down (the DB-down alert reads it).
    const m = await fetch(`${hub.apiUrl}/metrics`);
    expect(m.status).toBe(200);
    const samples = parseSamples(await m.text());
    expect(sampleOf(samples, 'cityflow_hub_database_up')?.value).toBe(0);
    // The error counter is written out before the fleet gauges run their query: it shows on the next scrape.
    const again = parseSamples(await (await fetch(`${hub.apiUrl}/metrics`)).text());
    expect(sampleOf(again, 'cityflow_hub_db_errors_total', { op: 'fleet_metrics' })?.value).toBeGreaterThan(
      0,
    );
  });
});
