import { topics } from '@cityflow/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { agentClient, testHub, until } from './helpers.js';
import { parseSamples, sampleOf } from './prom-text.js';

// The fleet's gauges travel the real path: an agent publishes health/status over MQTT, the hub stores
// them, and /metrics (HTTP) reads them back.
const hubs: RunningHub[] = [];
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.stop();
});

async function scrape(hub: RunningHub) {
  const r = await fetch(`${hub.apiUrl}/metrics`);
  expect(r.status).toBe(200);
  return parseSamples(await r.text());
}

const health = (agentId: string, over: Record<string, unknown> = {}) => ({
  v: 1,
  agent_id: agentId,
  stream: 'health',
  ts: new Date().toISOString(),
  version: '1.0.0',
  uptime_s: 12,
  rss_bytes: 50e6,
  backlog: 0,
  oldest_unsent_age_s: null,
  readings_total: 0,
  quarantined_total: 0,
  dropped: {},
  clock: { mode: 'wall', synced: true, skew_s: null },
  ...over,
});

async function publishAs(hub: RunningHub, agentId: string, online: boolean, h: object) {
  const c = await agentClient(hub, await hub.addAgent(agentId));
  const status = { v: 1, agent_id: agentId, ts: new Date().toISOString(), version: '1.0.0' };
  await c.client.publishAsync(
    topics.status(agentId),
    JSON.stringify({ ...status, state: online ? 'online' : 'offline' }),
    { qos: 1, retain: true },
  );
  await c.client.publishAsync(topics.uplink(agentId, 'health'), JSON.stringify(h), { qos: 1 });
  return c;
}

describe('fleet metrics from the agents health messages', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await testHub();
  });
  afterAll(() => hub.stop());

  it('exports online, last seen, backlog, clock skew and alarms per agent_id', async () => {
    const before = Date.now() / 1000;
    const alarm = { code: 'CF_DISK_FULL', since: new Date().toISOString(), message: 'data dir 98% full' };
    const c = await publishAs(
      hub,
      'A1',
      true,
      health('A1', { backlog: 1234, clock: { mode: 'wall', synced: false, skew_s: -2.5 }, alarms: [alarm] }),
    );
    const s = await until(async () => {
      const x = await scrape(hub);
      return sampleOf(x, 'cityflow_hub_agent_backlog', { agent_id: 'A1' })?.value === 1234 && x;
    }, 15_000);
    expect(sampleOf(s, 'cityflow_hub_agent_online', { agent_id: 'A1' })?.value).toBe(1);
    expect(sampleOf(s, 'cityflow_hub_agent_clock_skew_seconds', { agent_id: 'A1' })?.value).toBe(-2.5);
    expect(sampleOf(s, 'cityflow_hub_agent_alarms', { agent_id: 'A1' })?.value).toBe(1);
    const seen = sampleOf(s, 'cityflow_hub_agent_last_seen_timestamp_seconds', { agent_id: 'A1' })!.value;
    expect(seen).toBeGreaterThanOrEqual(Math.floor(before) - 1);
    expect(seen).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(sampleOf(s, 'cityflow_hub_database_up')?.value).toBe(1);
    // The only label is agent_id: a bounded label set.
    for (const x of s.filter((x) => x.name.startsWith('cityflow_hub_agent_')))
      expect(Object.keys(x.labels)).toEqual(['agent_id']);

    // The next health clears the alarm and the backlog; unknown skew removes the series.
    await c.client.publishAsync(topics.uplink('A1', 'health'), JSON.stringify(health('A1')), { qos: 1 });
    const s2 = await until(async () => {
      const x = await scrape(hub);
      return sampleOf(x, 'cityflow_hub_agent_backlog', { agent_id: 'A1' })?.value === 0 && x;
    }, 15_000);
    expect(sampleOf(s2, 'cityflow_hub_agent_alarms', { agent_id: 'A1' })?.value).toBe(0);
    expect(sampleOf(s2, 'cityflow_hub_agent_clock_skew_seconds', { agent_id: 'A1' })).toBeUndefined();
    await c.client.endAsync();
  });

  it('an agent whose last status is offline exports online 0', async () => {
    const c = await publishAs(hub, 'A2', false, health('A2', { backlog: 7 }));
    const s = await until(async () => {
      const x = await scrape(hub);
      return sampleOf(x, 'cityflow_hub_agent_backlog', { agent_id: 'A2' })?.value === 7 && x;
    }, 15_000);
    expect(sampleOf(s, 'cityflow_hub_agent_online', { agent_id: 'A2' })?.value).toBe(0);
    await c.client.endAsync();
  });

  it('a health message with more alarms than the schema allows is refused and counted, the gauges unchanged', async () => {
    const c = await publishAs(hub, 'A3', true, health('A3', { backlog: 3 }));
    await until(
      async () => sampleOf(await scrape(hub), 'cityflow_hub_agent_backlog', { agent_id: 'A3' })?.value === 3,
      15_000,
    );
    const refused = async () =>
      sampleOf(await scrape(hub), 'cityflow_hub_invalid_messages_total', { code: 'CF_INVALID_MESSAGE' })
        ?.value ?? 0;
    const before = await refused();
    const alarm = { code: 'CF_X', since: new Date().toISOString(), message: 'x' };
    const flood = health('A3', { backlog: 99, alarms: Array.from({ length: 33 }, () => alarm) });
    await c.client.publishAsync(topics.uplink('A3', 'health'), JSON.stringify(flood), { qos: 1 });
    await until(async () => (await refused()) > before, 15_000);
    const s = await scrape(hub);
    expect(sampleOf(s, 'cityflow_hub_agent_backlog', { agent_id: 'A3' })?.value).toBe(3);
    expect(sampleOf(s, 'cityflow_hub_agent_alarms', { agent_id: 'A3' })?.value).toBe(0);
    await c.client.endAsync();
  });

  it('beyond CITYFLOW_METRICS_MAX_AGENTS the agents left out are counted, not exported', async () => {
    const hub = await testHub({ metricsMaxAgents: 2 });
    hubs.push(hub);
    const clients = [];
    for (const id of ['A1', 'A2', 'A3'])
      clients.push(await publishAs(hub, id, true, health(id, { backlog: 5 })));
    const s = await until(async () => {
      const x = await scrape(hub);
      return sampleOf(x, 'cityflow_hub_fleet_agents')?.value === 3 && x;
    }, 15_000);
    const exported = s.filter((x) => x.name === 'cityflow_hub_agent_online').map((x) => x.labels.agent_id);
    expect(exported).toEqual(['A1', 'A2']);
    expect(sampleOf(s, 'cityflow_hub_fleet_agents_not_exported')?.value).toBe(1);
    for (const c of clients) await c.client.endAsync();
  });
});
