import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestPki, makeTestPki } from '../../test-support/certs.js';
import type { RunningHub } from '../src/hub.js';
import { summary, summaryBatch, testHub, until } from './helpers.js';
import { freePort } from './mosquitto.js';

function tlsConnect(url: string, o: mqtt.IClientOptions) {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, rejectUnauthorized: true, ...o });
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hub transport security: mqtts, plaintext off, mutual TLS, HTTPS', () => {
  let pki: TestPki;
  let hub: RunningHub;
  let plainPort: number;
  let ca: Buffer;

  beforeAll(async () => {
    pki = await makeTestPki();
    ca = readFileSync(pki.ca);
    plainPort = await freePort();
    hub = await testHub({
      mqttPort: plainPort,
      mqttTlsPort: 0,
      mqttTlsCert: pki.server.cert,
      mqttTlsKey: pki.server.key,
      mqttTlsCa: pki.ca,
      mqttPlaintext: false,
      httpsCert: pki.server.cert,
      httpsKey: pki.server.key,
    });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('agents are told the mqtts URL, and nothing listens for plaintext on MQTT_PORT', async () => {
    expect(hub.mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const refused = await new Promise<string>((r) => {
      const s = tcpConnect(plainPort, '127.0.0.1', () => {
        s.destroy();
        r('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('mutual TLS: an agent with its certificate (CN = id) and credentials gets its batch stored and acked', async () => {
    const creds = await hub.addAgent('A1');
    const cert = await pki.client('A1');
    const c = await tlsConnect(hub.mqttUrl, {
      ca,
      cert: readFileSync(cert.cert),
      key: readFileSync(cert.key),
      clientId: 'agent:A1',
      username: creds.username,
      password: creds.password,
    });
    const acks: number[] = [];
    c.on('message', (_t, p) => acks.push(JSON.parse(p.toString()).watermark));
    await c.subscribeAsync(topics.ackWildcard('A1'), { qos: 1 });
    await c.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(summaryBatch('A1', [summary(1, 'R00-10', '2026-03-02T08:00:00Z')])),
      { qos: 1 },
    );
    await until(() => acks.includes(1), 10_000);
    await c.endAsync();
  });

  it('mutual TLS: no client certificate, or another agent’s certificate, is refused', async () => {
    const creds = await hub.addAgent('A2');
    const base = { ca, clientId: 'agent:A2', username: creds.username, password: creds.password };
    await expect(tlsConnect(hub.mqttUrl, base)).rejects.toThrow();
    const a1 = await pki.client('A1');
    await expect(
      tlsConnect(hub.mqttUrl, { ...base, cert: readFileSync(a1.cert), key: readFileSync(a1.key) }),
    ).rejects.toThrow(/Not authorized|certificate/i);
  });

  it('a client pinning another CA refuses the hub certificate', async () => {
    await expect(tlsConnect(hub.mqttUrl, { ca: readFileSync(pki.otherCa) })).rejects.toThrow(
      /self.signed|unable to verify|certificate/i,
    );
  });

  it('the API is served over HTTPS with the given certificate (and not over plain HTTP)', async () => {
    expect(hub.apiUrl).toMatch(/^https:/);
    const r = await httpsGet(`${hub.apiUrl}/health`, ca);
    expect(r.status).toBe(200);
    await expect(fetch(hub.apiUrl.replace(/^https/, 'http') + '/health')).rejects.toThrow();
  });
});

describe('hub transport security: an expired certificate', () => {
  it('a client refuses a hub whose certificate has expired, even from the pinned CA', async () => {
    const pki = await makeTestPki();
    const hub = await testHub({
      mqttTlsPort: 0,
      mqttTlsCert: pki.expiredServer.cert,
      mqttTlsKey: pki.expiredServer.key,
    });
    try {
      await expect(tlsConnect(hub.mqttsUrl!, { ca: readFileSync(pki.ca) })).rejects.toThrow(/expired/i);
    } finally {
      await hub.stop();
    }
  });

  it('config: plaintext off without a certificate, a lone key, or an unreadable file are all reported at once', async () => {
    const err = await testHub({
      mqttPlaintext: false,
      httpsKey: '/nonexistent/key.pem',
      mqttTlsCa: '/nonexistent/ca.pem',
    }).catch((e: Error) => e);
    expect((err as Error).message).toContain('MQTT_PLAINTEXT=false: needs the mqtts listener');
    expect((err as Error).message).toContain('HTTPS_CERT and HTTPS_KEY: set both or neither');
    expect((err as Error).message).toContain('MQTT_TLS_CA: cannot read /nonexistent/ca.pem');
  });
});
