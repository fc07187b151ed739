import { topics } from '@cityflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { agentClient, testHub, until } from './helpers.js';

const alarm = {
  code: 'CF_DISK_FULL',
  since: '2026-03-02T08:00:00Z',
  message: 'disk full in /var/lib/cityflow',
};
const health = (alarms?: unknown[]) => ({
  v: 1,
  agent_id: 'A1',
  stream: 'health',
  ts: new Date().toISOString(),
  version: '1.0.0',
  uptime_s: 1,
  rss_bytes: 1,
  backlog: alarms ? alarms.length + 10 : 99,
  oldest_unsent_age_s: null,
  readings_total: 0,
  quarantined_total: 0,
  dropped: {},
  clock: { mode: 'wall', synced: true, skew_s: 0 },
  ...(alarms ? { alarms } : {}),
});

describe("agents' alarms: from the last health message (real MQTT) to GET /api/agents", () => {
  let hub: RunningHub;
  let token: string;
  let agent: Awaited<ReturnType<typeof agentClient>>;
  beforeAll(async () => {
    hub = await testHub();
    agent = await agentClient(hub, await hub.addAgent('A1'));
    await hub.addAgent('A2');
    const r = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: 'alarms@city.test', password: 'password123' },
    });
    token = r.json().token;
  });
  afterAll(async () => {
    await agent?.client.endAsync();
    await hub?.stop();
  });
  const agents = async () =>
    (
      await hub.app.inject({
        method: 'GET',
        url: '/api/agents',
        headers: { authorization: `Bearer ${token}` },
      })
    ).json().data as Array<{ agent_id: string; backlog: number | null; alarms: unknown[] }>;
  const send = (h: unknown) =>
    agent.client.publishAsync(topics.uplink('A1', 'health'), JSON.stringify(h), { qos: 0 });

  it('listed as sent; replaced by the next health message; [] for an agent that never sent any', async () => {
    await send(health([alarm]));
    let a1 = await until(async () => (await agents()).find((a) => a.agent_id === 'A1' && a.backlog === 11));
    expect(a1.alarms).toEqual([alarm]);
    expect((await agents()).find((a) => a.agent_id === 'A2')?.alarms).toEqual([]);
    await send(health([]));
    a1 = await until(async () => (await agents()).find((a) => a.agent_id === 'A1' && a.backlog === 10));
    expect(a1.alarms).toEqual([]);
    // an agent older than the field sends none: the list is empty, not stale
    await send(health([alarm]));
    await until(async () => (await agents()).find((a) => a.agent_id === 'A1' && a.backlog === 11));
    await send(health());
    a1 = await until(async () => (await agents()).find((a) => a.agent_id === 'A1' && a.backlog === 99));
    expect(a1.alarms).toEqual([]);
  });
});
