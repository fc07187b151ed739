import type { AgentCredentials } from '@cityflow/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { agentClient, testHub, until } from './helpers.js';

const connectAs = (hub: RunningHub, c: AgentCredentials) =>
  mqtt.connectAsync(hub.mqttUrl, {
    clientId: `agent:${c.agent_id}`,
    username: c.username,
    password: c.password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });

const closed = (c: MqttClient) => new Promise<void>((r) => c.once('close', () => r()));

describe('admins end an agent’s live session: disable/enable and rotation (embedded broker)', () => {
  let hub: RunningHub;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    hub = await testHub({ adminEmail: 'admin@city.test', adminPassword: 'admin-pass-1' });
    const login = async (email: string, password: string) =>
      (await hub.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } })).json()
        .token as string;
    admin = await login('admin@city.test', 'admin-pass-1');
    const reg = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: 'v@city.test', password: 'viewer-pass-1' },
    });
    viewer = reg.json().token;
  });
  afterAll(async () => hub?.stop());

  const post = (url: string, token: string) =>
    hub.app.inject({ method: 'POST', url, payload: {}, headers: { authorization: `Bearer ${token}` } });
  const online = async (id: string) =>
    (await hub.db.query<{ online: boolean }>('SELECT online FROM agents WHERE agent_id = $1', [id])).rows[0]
      ?.online;

  it('POST /api/agents/:id/disable closes the session at once and refuses logins; enable lets it back in', async () => {
    const creds = await hub.addAgent('A1');
    const a = await agentClient(hub, creds);
    await a.client.publishAsync(
      'cityflow/v1/agents/A1/status',
      JSON.stringify({ v: 1, agent_id: 'A1', state: 'online', ts: new Date().toISOString(), version: 't' }),
      { qos: 1, retain: true },
    );
    await until(async () => (await online('A1')) === true);
    const gone = closed(a.client);
    const r = await post('/api/agents/A1/disable', admin);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ agent_id: 'A1', disabled: true });
    await gone;
    // its last will marks it offline
    await until(async () => (await online('A1')) === false);
    await expect(connectAs(hub, creds)).rejects.toThrow(/Not authorized/i);
    expect((await post('/api/agents/A1/enable', admin)).json()).toEqual({ agent_id: 'A1', disabled: false });
    const back = await connectAs(hub, creds);
    await back.endAsync();
    const metrics = await (await hub.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/cityflow_hub_broker_refused_total\{reason="disabled"\} 1/);
  });

  it('only admins disable, and an unknown agent is 404', async () => {
    await hub.addAgent('A2');
    expect((await post('/api/agents/A2/disable', viewer)).statusCode).toBe(403);
    expect((await post('/api/agents/NOPE/disable', admin)).statusCode).toBe(404);
    expect((await post('/api/agents/NOPE/enable', admin)).statusCode).toBe(404);
  });

  it('rotating credentials (POST /api/agents/:id/credentials) closes the live session: the old secret is refused', async () => {
    const old = await hub.addAgent('A3');
    const a = await connectAs(hub, old);
    const gone = closed(a);
    const r = await post('/api/agents/A3/credentials', admin);
    expect(r.statusCode).toBe(201);
    await gone;
    await expect(connectAs(hub, old)).rejects.toThrow(/Not authorized|Bad username/i);
    const fresh = await connectAs(hub, r.json());
    await fresh.endAsync();
  });
});
