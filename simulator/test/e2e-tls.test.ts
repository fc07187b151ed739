/**
 * The production transport end to end: sensor -> agent -> hub over mqtts with a pinned CA and a client
 * certificate (mutual TLS, plaintext off) -> /api/traffic/history over the hub's own HTTPS. An agent
 * pinning another CA never connects, and says why in its status.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '@cityflow/edge-agent';
import { startHub } from '@cityflow/hub';
import { topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestPki, makeTestPki } from '../../test-support/certs.js';
import { closedMinute, getJson, iso, waitUntil, writeFixtureNetwork } from './helpers/http.js';

const ADMIN = { email: 'admin@tls.test', password: 'admin-password-1' };

function httpsJson(
  url: string,
  ca: Buffer,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      url,
      {
        ca,
        method: data ? 'POST' : 'GET',
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(data ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe('e2e over TLS: agent -> hub (mqtts, mutual TLS, plaintext off) -> HTTPS API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-e2e-tls-'));
  let pki: TestPki;
  let ca: Buffer;
  let hub: Awaited<ReturnType<typeof startHub>>;
  let agent: Awaited<ReturnType<typeof startAgent>>;

  beforeAll(async () => {
    pki = await makeTestPki();
    ca = readFileSync(pki.ca);
    hub = await startHub({
      databaseUrl: 'pglite://memory',
      host: '127.0.0.1',
      port: 0,
      mqttPort: 0,
      mqttTlsPort: 0,
      mqttTlsCert: pki.server.cert,
      mqttTlsKey: pki.server.key,
      mqttTlsCa: pki.ca,
      mqttPlaintext: false,
      httpsCert: pki.server.cert,
      httpsKey: pki.server.key,
      jwtSecret: 'e2e-secret-e2e-secret-e2e-secret-0123',
      networkFile: writeFixtureNetwork(dir),
      adminEmail: ADMIN.email,
      adminPassword: ADMIN.password,
      logLevel: 'warn',
    });
    const cred = await hub.addAgent('agent-1');
    const cert = await pki.client('agent-1');
    agent = await startAgent({
      agentId: 'agent-1',
      dataDir: join(dir, 'agent-1'),
      mqttPort: 0,
      httpPort: 0,
      hubUrl: hub.mqttUrl,
      hubUsername: cred.username,
      hubPassword: cred.password,
      hubCa: pki.ca,
      hubCert: cert.cert,
      hubKey: cert.key,
      logLevel: 'warn',
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a closed minute of readings reaches /api/traffic/history', async () => {
    expect(hub.mqttUrl).toMatch(/^mqtts:/);
    await waitUntil('the agent to connect over mqtts', async () => agent.status().hub_connected === true);
    const sensor = await mqtt.connectAsync(agent.mqttUrl, { reconnectPeriod: 0 });
    const minute = closedMinute(2);
    for (const [i, speed] of [40, 30, 20].entries())
      await sensor.publishAsync(
        topics.sensor('s-AB-0'),
        JSON.stringify({
          ts: iso(minute + 5_000 + i * 10_000),
          sensor_id: 's-AB-0',
          road_id: 'AB',
          speed_kmh: speed,
          flow_rate: 600,
          occupancy: 0.1,
        }),
        { qos: 1 },
      );
    await sensor.endAsync();
    const login = await httpsJson(`${hub.apiUrl}/api/auth/login`, ca, { body: ADMIN });
    expect(login.status).toBe(200);
    const url = `${hub.apiUrl}/api/traffic/history?road_id=AB&bucket=1m&from=${iso(minute)}&to=${iso(minute + 60_000)}`;
    const page = await waitUntil(
      'the AB minute in history',
      async () => {
        const r = await httpsJson(url, ca, { token: login.body.token });
        return r.body?.data?.[0]?.samples === 3 ? r.body : undefined;
      },
      60_000,
    );
    expect(page.data[0].speed_kmh).toBeCloseTo(30, 5);
  });

  it('an agent pinning another CA never connects, and its status says why', async () => {
    const cred = await hub.addAgent('agent-2');
    const cert = await pki.client('agent-2');
    const wrong = await startAgent({
      agentId: 'agent-2',
      dataDir: join(dir, 'agent-2'),
      mqttPort: 0,
      httpPort: 0,
      hubUrl: hub.mqttUrl,
      hubUsername: cred.username,
      hubPassword: cred.password,
      hubCa: pki.otherCa,
      hubCert: cert.cert,
      hubKey: cert.key,
      backoffBaseMs: 100,
      backoffMaxMs: 200,
      logLevel: 'silent',
    });
    try {
      const err = await waitUntil('a TLS error in the status', async () => {
        const s = (await getJson(`${wrong.httpUrl}/status`)).body ?? wrong.status();
        return (s.hub_last_error as string | null) ?? undefined;
      });
      expect(err).toMatch(/self.signed|unable to verify|certificate/i);
      expect(wrong.status().hub_connected).toBe(false);
    } finally {
      await wrong.stop();
    }
  });
});
