import { topics } from '@cityflow/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { type BackendDb, describeEachBackend } from './backends.js';
import { agentClient, summary, summaryBatch, testHub, until } from './helpers.js';

// On every storage backend: ingest, history and the cycles read and write what the storage layout holds.
describeEachBackend('ingest over MQTT (embedded broker, real mqtt.js agent)', (_backend, backendDb) => {
  let target: BackendDb;
  let hub: RunningHub;
  let agent: Awaited<ReturnType<typeof agentClient>>;

  beforeAll(async () => {
    target = await backendDb();
    hub = await testHub({
      databaseUrl: target.url,
      adminEmail: 'diag@city.test',
      adminPassword: 'password123',
    });
    agent = await agentClient(hub, await hub.addAgent('A1'));
  });
  afterAll(async () => {
    await agent?.client.endAsync();
    await hub?.stop();
    await target?.drop();
  });

  const count = async () =>
    Number((await hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM traffic_minute')).rows[0]!.n);
  const lastAck = (stream = 'summary') => agent.acks.filter((a) => a.stream === stream).at(-1);

  it('stores a batch, then acks its watermark after commit', async () => {
    const items = [1, 2, 3].map((s) => summary(s, 'R00-10', `2026-03-02T08:0${s}:00Z`));
    await agent.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(summaryBatch('A1', items)),
      { qos: 1 },
    );
    const ack = await until(() => lastAck()?.watermark === 3 && lastAck());
    expect(ack).toMatchObject({ v: 1, agent_id: 'A1', stream: 'summary', watermark: 3 });
    expect(await count()).toBe(3);
  });

  it('a replayed batch makes no duplicate row and is acked again', async () => {
    const before = agent.acks.length;
    const items = [1, 2, 3].map((s) => summary(s, 'R00-10', `2026-03-02T08:0${s}:00Z`));
    await agent.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(summaryBatch('A1', items)),
      { qos: 1 },
    );
    await until(() => agent.acks.length > before);
    expect(lastAck()!.watermark).toBe(3);
    expect(await count()).toBe(3);
  });

  it('the watermark is contiguous: a gap holds it until filled; skipped ranges count as resolved', async () => {
    const pub = (items: unknown[], skipped?: Array<[number, number]>) =>
      agent.client.publishAsync(
        topics.uplink('A1', 'summary'),
        JSON.stringify(summaryBatch('A1', items, skipped)),
        { qos: 1 },
      );
    let n = agent.acks.length;
    await pub([summary(5, 'R00-10', '2026-03-02T08:05:00Z'), summary(6, 'R00-10', '2026-03-02T08:06:00Z')]);
    await until(() => agent.acks.length > n);
    expect(lastAck()!.watermark).toBe(3); // 4 missing
    n = agent.acks.length;
    await pub([summary(4, 'R00-10', '2026-03-02T08:04:00Z')]);
    await until(() => agent.acks.length > n);
    expect(lastAck()!.watermark).toBe(6);
    n = agent.acks.length;
    await pub([summary(10, 'R00-10', '2026-03-02T08:10:00Z')], [[7, 9]]);
    await until(() => agent.acks.length > n);
    expect(lastAck()!.watermark).toBe(10);
    expect(await count()).toBe(7);
  });

  it('an item on an unknown road is quarantined, listed in rejected, and resolved for the watermark', async () => {
    const n = agent.acks.length;
    const items = [
      summary(11, 'NOPE', '2026-03-02T08:11:00Z'),
      summary(12, 'R00-10', '2026-03-02T08:12:00Z'),
    ];
    await agent.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(summaryBatch('A1', items)),
      { qos: 1 },
    );
    await until(() => agent.acks.length > n);
    const ack = lastAck()!;
    expect(ack.watermark).toBe(12);
    expect(ack.rejected).toEqual([expect.objectContaining({ seq: 11, code: 'CF_REJECTED_BY_HUB' })]);
    const q = await hub.db.query<{ seq: string; code: string }>(
      "SELECT seq::text, code FROM quarantine WHERE agent_id = 'A1' AND seq IS NOT NULL",
    );
    expect(q.rows).toEqual([{ seq: '11', code: 'CF_REJECTED_BY_HUB' }]);
  });

  it('an invalid envelope is refused without an ack and quarantined with its reason', async () => {
    const n = agent.acks.length;
    await agent.client.publishAsync(
      topics.uplink('A1', 'summary'),
      '{"v":1,"agent_id":"A1","stream":"summary","items":[]}',
      { qos: 1 },
    );
    await hub.ingest.idle();
    await new Promise((r) => setTimeout(r, 100));
    await hub.ingest.idle();
    expect(agent.acks.length).toBe(n);
    const q = await hub.db.query<{ code: string; message: string }>(
      "SELECT code, message FROM quarantine WHERE code = 'CF_INVALID_MESSAGE'",
    );
    expect(q.rows[0]?.message).toMatch(/sent_at/);
  });

  it('the broker refuses a publish under another agent id and a subscription to its acks', async () => {
    const other = await hub.addAgent('A2');
    // A1 may not subscribe to A2's acks: the subscription is refused (granted QoS 128).
    await expect(agent.client.subscribeAsync(topics.ackWildcard('A2'), { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    expect(agent.client.connected).toBe(true);
    const a2 = await agentClient(hub, other);
    const before = await count();
    const intruder = await agentClient(hub, await hub.addAgent('A9'));
    const closed = new Promise((r) => intruder.client.once('close', r));
    // No PUBACK comes back: the broker closes the intruder's connection instead.
    intruder.client.publish(
      topics.uplink('A2', 'summary'),
      JSON.stringify(summaryBatch('A2', [summary(1, 'R20-10', '2026-03-02T08:00:00Z')])),
      { qos: 1 },
    );
    await new Promise((r) => setTimeout(r, 200));
    await hub.ingest.idle();
    expect(await count()).toBe(before);
    expect(a2.acks).toHaveLength(0);
    await closed; // the broker cut the intruder off
    await a2.client.endAsync();
    await intruder.client.endAsync(true);
  });

  it('refuses a wrong password and a clientId that is not agent:<username>', async () => {
    const { default: mqtt } = await import('mqtt');
    await expect(
      mqtt.connectAsync(hub.mqttUrl, {
        clientId: 'agent:A1',
        username: 'A1',
        password: 'wrong',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);
    const creds = await hub.addAgent('A3');
    await expect(
      mqtt.connectAsync(hub.mqttUrl, {
        clientId: 'hello',
        username: creds.username,
        password: creds.password,
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Identifier rejected/i);
  });

  it('on an online status it re-publishes config and the stored acks (retained, from the database)', async () => {
    const c = await agentClient(hub, await hub.addAgent('A1'));
    c.received.length = 0;
    await c.client.publishAsync(
      topics.status('A1'),
      JSON.stringify({
        v: 1,
        agent_id: 'A1',
        state: 'online',
        ts: new Date().toISOString(),
        version: '1.2.3',
      }),
      { qos: 1, retain: true },
    );
    // the retained config and ack may arrive before the hub has processed the status: wait for the row
    await until(async () => {
      const r = await hub.db.query<{ online: boolean; version: string }>(
        "SELECT online, version FROM agents WHERE agent_id = 'A1'",
      );
      return r.rows[0]?.online === true && r.rows[0]?.version === '1.2.3';
    });
    await until(
      () => c.received.some((m) => m.topic === topics.config('A1')) && c.acks.some((a) => a.watermark === 12),
    );
    const cfg = c.received.find((m) => m.topic === topics.config('A1'))!.payload as {
      network: { features: Array<{ properties: { kind: string; road_id?: string } }> };
    };
    const roads = cfg.network.features
      .filter((f) => f.properties.kind === 'road')
      .map((f) => f.properties.road_id);
    expect(roads).toContain('R00-10');
    expect(roads).not.toContain('R20-10');
    const a = await hub.db.query<{ online: boolean; version: string }>(
      "SELECT online, version FROM agents WHERE agent_id = 'A1'",
    );
    expect(a.rows[0]).toEqual({ online: true, version: '1.2.3' });
    await c.client.endAsync();
  });

  it('a diagnostics request reaches the agent and its answer comes back through the API', async () => {
    const c = await agentClient(hub, await hub.addAgent('A1'));
    await c.client.subscribeAsync(topics.diagRequest('A1'), { qos: 1 });
    c.client.on('message', (topic, payload) => {
      if (topic !== topics.diagRequest('A1')) return;
      const req = JSON.parse(payload.toString());
      const reading = {
        ts: req.from,
        sensor_id: 'S-R00-10',
        road_id: 'R00-10',
        speed_kmh: null,
        flow_rate: 0,
        occupancy: 0.5,
      };
      const res = {
        v: 1,
        agent_id: 'A1',
        stream: 'diag',
        request_id: req.request_id,
        items: [reading],
        truncated: false,
      };
      c.client.publish(topics.uplink('A1', 'diag'), JSON.stringify(res), { qos: 1 });
    });
    const token = (
      await hub.app.inject({
        method: 'POST',
        // diagnostics need an operator (self-registered accounts are viewers)
        url: '/api/auth/login',
        payload: { email: 'diag@city.test', password: 'password123' },
      })
    ).json().token;
    const r = await hub.app.inject({
      method: 'POST',
      url: '/api/agents/A1/diag',
      headers: { authorization: `Bearer ${token}` },
      payload: { from: '2026-03-02T08:00:00Z', to: '2026-03-02T08:05:00Z', sensor_id: 'S-R00-10' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      agent_id: 'A1',
      truncated: false,
      items: [{ sensor_id: 'S-R00-10', occupancy: 0.5 }],
    });
    await c.client.endAsync();
  });
  it("bad items are rejected one by one (schema, future time, another agent's sensor); the rest is stored", async () => {
    const c = await agentClient(hub, await hub.addAgent('A1'));
    const before = await count();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const items = [
      summary(13, 'R00-10', '2026-03-02T08:13:00Z', { count: 0 }), // schema: count >= 1
      summary(14, 'R00-10', '2026-03-02T08:14:00Z'),
      summary(15, 'R00-10', future), // an hour ahead of the hub clock (wall mode)
      summary(16, 'R20-10', '2026-03-02T08:16:00Z'), // S-R20-10 belongs to A2
      { seq: 'x' }, // no usable seq: quarantined, not ackable
      summary(17, 'R00-10', '2026-03-02T08:17:00Z'),
      summary(18, 'R00-10', '2026-03-02T08:18:00Z', { closed_at: future }), // closed an hour from now
    ];
    await c.client.publishAsync(topics.uplink('A1', 'summary'), JSON.stringify(summaryBatch('A1', items)), {
      qos: 1,
    });
    const ack = await until(() => c.acks.find((a) => a.stream === 'summary' && a.watermark === 18));
    expect(ack.rejected).toEqual([
      expect.objectContaining({
        seq: 13,
        code: 'CF_INVALID_MESSAGE',
        message: expect.stringMatching(/count/),
      }),
      expect.objectContaining({ seq: 15, code: 'CF_TS_FUTURE' }),
      expect.objectContaining({ seq: 16, code: 'CF_NOT_AUTHORIZED' }),
      expect.objectContaining({ seq: 18, code: 'CF_TS_FUTURE', message: expect.stringMatching(/closed_at/) }),
    ]);
    expect(await count()).toBe(before + 2);
    const q = await hub.db.query<{ seq: string | null; code: string }>(
      "SELECT seq::text, code FROM quarantine WHERE agent_id = 'A1' AND (seq > 12 OR message LIKE 'items.4.%') ORDER BY id",
    );
    expect(q.rows).toEqual([
      { seq: null, code: 'CF_INVALID_MESSAGE' },
      { seq: '13', code: 'CF_INVALID_MESSAGE' },
      { seq: '15', code: 'CF_TS_FUTURE' },
      { seq: '16', code: 'CF_NOT_AUTHORIZED' },
      { seq: '18', code: 'CF_TS_FUTURE' },
    ]);
    await c.client.endAsync();
  });
});
