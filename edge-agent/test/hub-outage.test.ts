/**
 * Fault test against the real hub (`@cityflow/hub`, built): the hub goes down for a while and comes
 * back on the same database and port; every reading published meanwhile appears exactly once in
 * `/api/traffic/history` (samples), and nothing is counted twice.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '@cityflow/hub';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { sliceConfig } from './helpers/network.js';
import { connect, pub, reading, waitFor } from './helpers/util.js';

const ADMIN = { email: 'admin@agent.test', password: 'admin-password-1' };
const T0 = Date.UTC(2026, 1, 9, 10, 0, 0);

describe('real hub outage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-agent-hub-'));
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hub down for a while then back: no loss, no duplicate in /api/traffic/history samples', async () => {
    const net = sliceConfig('A-1').network as { features: unknown[] };
    net.features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [2.35, 48.85] },
      properties: { kind: 'intersection', node_id: 'N-2', agent_id: 'A-1' },
    });
    const networkFile = join(dir, 'network.geojson');
    writeFileSync(networkFile, JSON.stringify(net));
    const hubOpts = {
      databaseUrl: `pglite://${join(dir, 'hub')}`,
      port: 0,
      host: '127.0.0.1',
      jwtSecret: 'agent-test-secret-agent-test-secret-0123',
      networkFile,
      clock: 'data' as const,
      adminEmail: ADMIN.email,
      adminPassword: ADMIN.password,
      logLevel: 'silent',
    };
    let hub = await startHub({ ...hubOpts, mqttPort: 0 });
    const mqttPort = Number(new URL(hub.mqttUrl).port);
    const cred = await hub.addAgent('A-1');
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: join(dir, 'agent'),
      hubUrl: hub.mqttUrl,
      hubUsername: cred.username,
      hubPassword: cred.password,
      clock: 'data',
      backoffBaseMs: 50,
      backoffMaxMs: 300,
    });
    cleanups.push(() => agent.stop());
    await waitFor(
      () => agent.status().hub_connected && agent.status().network_slice,
      'connected with a slice',
      20_000,
    );

    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    let published = 0;
    const minutes = async (from: number, to: number) => {
      for (let m = from; m < to; m++)
        for (const [s, r] of [
          ['S-1', 'R-1'],
          ['S-2', 'R-2'],
        ] as const)
          for (const off of [5_000, 25_000, 45_000]) {
            await pub(c, s, reading(s, r, T0 + m * 60_000 + off, 20 + m));
            published++;
          }
    };
    await minutes(0, 5);
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 5 * 60_000 + 10_000)); // closes minutes 0-4
    published++;
    await waitFor(() => agent.status().outbox_pending === 0, 'first minutes acked', 20_000);

    await hub.stop();
    await waitFor(() => agent.status().hub_connected === false, 'agent sees the outage');
    await minutes(6, 20);
    await pub(c, 'S-1', reading('S-1', 'R-1', T0 + 21 * 60_000 + 10_000)); // closes up to minute 20
    published++;
    await waitFor(
      () => (agent.status().streams as { summary: { pending: number } }).summary.pending > 0,
      'backlog while down',
    );

    hub = await startHub({ ...hubOpts, mqttPort });
    cleanups.push(() => hub.stop());
    await waitFor(
      () => agent.status().hub_connected && agent.status().outbox_pending === 0,
      'backlog drained after the hub is back',
      30_000,
    );

    const login = await fetch(`${hub.apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const { token } = (await login.json()) as { token: string };
    let samples = 0;
    let buckets = 0;
    for (const road of ['R-1', 'R-2']) {
      const url = `${hub.apiUrl}/api/traffic/history?road_id=${road}&bucket=1m&limit=200&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 21 * 60_000).toISOString()}`;
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: Array<{ samples: number }> };
      samples += body.data.reduce((a, b) => a + b.samples, 0);
      buckets += body.data.length;
    }
    // minutes 0-4 and 6-19 for 2 roads, 3 readings each, plus minute 5 (one closing reading of S-1)
    expect(buckets).toBe(19 * 2 + 1);
    expect(samples).toBe(published - 1); // the last closing reading's minute (21) is still open
  }, 90_000);
});
