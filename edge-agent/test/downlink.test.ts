import { createEdgeForecaster } from '@cityflow/forecast';
import { type Advice, topics, validateDiagResponse, validateForecastBatch } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { FakeHub } from './helpers/fake-hub.js';
import { sliceConfig } from './helpers/network.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

const T0 = Date.UTC(2026, 1, 9, 7, 0, 0);

function advice(issuedMs: number, validMs: number): Advice {
  return {
    v: 1,
    agent_id: 'A-1',
    issued_at: new Date(issuedMs).toISOString(),
    items: [
      {
        ts: new Date(issuedMs).toISOString(),
        route_id: 'R-1',
        alt_route_id: 'ALT-1',
        reason: 'congestion',
        estimated_co2_gain: 1.2,
        eta_gain_min: 3,
        path: ['R-2'],
        decision_node: 'N-1',
        diverted_share: 0.2,
        valid_until: new Date(validMs).toISOString(),
        co2_gain_g_per_vehicle: 40,
      },
    ],
  };
}

describe('downlink, local services and local prediction', () => {
  const cleanups = useCleanups();

  it('keeps serving the last advice with its age on the local topic after the hub is gone', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const tmp = tempDir();
    const agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir, hubUrl: hub.url, backoffBaseMs: 50 });
    cleanups.push(tmp.cleanup, () => agent.stop());
    await waitFor(() => agent.status().hub_connected, 'connected');
    const issued = Date.now() - 30_000;
    await hub.publish(topics.advice('A-1'), advice(issued, Date.now() + 600_000), true);
    const sign = await connect(agent.mqttUrl);
    cleanups.push(() => void sign.end(true));
    const got: Array<{ age_s: number; hub_connected: boolean; items: unknown[] }> = [];
    sign.on('message', (_t, p) => got.push(JSON.parse(p.toString())));
    await sign.subscribeAsync(topics.localAdvice(), { qos: 1 });
    await waitFor(
      () => got.some((g) => g.hub_connected && g.items.length === 1),
      'advice on the local topic',
    );
    expect(got.at(-1)!.age_s).toBeGreaterThanOrEqual(29);
    await hub.stop();
    await waitFor(() => got.some((g) => !g.hub_connected), 'advice re-published with hub_connected=false');
    const last = got.at(-1)!;
    expect(last.items).toHaveLength(1);
    expect(last.age_s).toBeGreaterThanOrEqual(30);
  });

  it('answers a diagnostics request with raw readings kept on the agent', async () => {
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
    const now = Date.now();
    for (let i = 0; i < 5; i++) await pub(c, 'S-1', reading('S-1', 'R-1', now - 10_000 + i * 1000, 40 + i));
    await pub(c, 'S-2', reading('S-2', 'R-2', now - 5000));
    await c.endAsync();
    await hub.publish(
      topics.diagRequest('A-1'),
      {
        v: 1,
        request_id: 'q-1',
        kind: 'raw',
        sensor_id: 'S-1',
        from: new Date(now - 60_000).toISOString(),
        to: new Date(now + 1000).toISOString(),
        limit: 3,
      },
      false,
    );
    const res = await waitFor(() => hub.messages.find((m) => m.topic.endsWith('/up/diag')), 'diag response');
    const r = validateDiagResponse(res.payload);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.request_id).toBe('q-1');
    expect(r.value.items.map((i) => i.speed_kmh)).toEqual([40, 41, 42]);
    expect(r.value.truncated).toBe(true);
  });

  it('forecasts every road it has data for at 15/30/60 min on the forecast stream, also while the hub is away', async () => {
    const hub = new FakeHub({ agentId: 'A-1', config: sliceConfig() });
    await hub.start();
    const port = hub.port;
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      hubUrl: hub.url,
      clock: 'data',
      backoffBaseMs: 20,
      backoffMaxMs: 100,
    });
    cleanups.push(tmp.cleanup, () => agent.stop());
    await waitFor(() => agent.status().network_slice, 'slice');
    await hub.stop();
    const c = await connect(agent.mqttUrl);
    for (let m = 0; m < 90; m++) {
      await pub(c, 'S-1', reading('S-1', 'R-1', T0 + m * 60_000 + 10_000, 45 - (m % 10)));
      await pub(c, 'S-2', reading('S-2', 'R-2', T0 + m * 60_000 + 20_000, 25));
    }
    await c.endAsync();
    await waitFor(
      () => (agent.status().streams as { forecast: { pending: number } }).forecast.pending > 0,
      'forecasts queued offline',
    );
    await hub.start(port);
    cleanups.push(() => hub.stop());
    await waitFor(
      () => hub.storedItems('forecast').length > 0 && agent.status().outbox_pending === 0,
      'forecasts at the hub',
      15_000,
    );
    const items = hub.storedItems('forecast');
    const batch = hub.messages.find((m) => m.topic.endsWith('/up/forecast'))!;
    expect(validateForecastBatch(batch.payload).ok).toBe(true);
    expect(new Set(items.map((i) => i.horizon_min))).toEqual(new Set([15, 30, 60]));
    expect(new Set(items.map((i) => i.road_id))).toEqual(new Set(['R-1', 'R-2']));
    expect(items.every((i) => i.model_version === agent.status().forecast_model)).toBe(true);
    // the edge model of @cityflow/forecast itself, never a silent stand-in
    expect(agent.status().forecast_model).toBe(createEdgeForecaster().modelVersion);
    const r2 = items.find((i) => i.road_id === 'R-2' && i.horizon_min === 30)!;
    expect(Date.parse(r2.target_ts as string) - Date.parse(r2.ts as string)).toBe(30 * 60_000);
  }, 30_000);
});
