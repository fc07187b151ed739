import { connect as tcpConnect } from 'node:net';
import { MQTT_LIMITS, topics } from '@cityflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { agentClient, summary, summaryBatch, testHub, until } from './helpers.js';

/** A fixed header announcing `len` body bytes (MQTT 3.1.1 §2.2.3). */
function header(type: number, len: number): Buffer {
  const out = [type];
  let x = len;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    out.push(b);
  } while (x > 0);
  return Buffer.from(out);
}

/** Writes `head`, then zeros until the hub closes the socket or `max` bytes are written. */
function streamUntilClosed(port: number, head: Buffer, max: number): Promise<number> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024);
    s.on('error', () => resolve(written));
    s.on('close', () => resolve(written));
    s.on('connect', () => {
      s.write(head);
      const pump = () => {
        while (written < max && !s.destroyed) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        if (written >= max) s.end();
      };
      pump();
    });
  });
}

const refusedCount = async (hub: RunningHub, reason: string) => {
  const text = (await hub.app.inject({ method: 'GET', url: '/metrics' })).body;
  const m = text.match(new RegExp(`cityflow_hub_broker_refused_total\\{reason="${reason}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
};

const port = (url: string) => Number(new URL(url).port);

describe('the hub broker under hostile clients', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await testHub({ mqttPublishRatePerS: 5 });
  });
  afterAll(async () => hub?.stop());

  it(`cuts an unauthenticated CONNECT announcing 256 MB at its header (bound ${MQTT_LIMITS.hubPacketMaxBytes} B); agents keep working`, async () => {
    const written = await streamUntilClosed(port(hub.mqttUrl), header(0x10, 256 * 1024 * 1024 - 1), 50 << 20);
    expect(written).toBeLessThan(20 << 20);
    await until(async () => (await refusedCount(hub, 'packet_size')) === 1);
    const a = await agentClient(hub, await hub.addAgent('A1'));
    await a.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(summaryBatch('A1', [summary(1, 'R00-10', '2026-03-02T08:00:00Z')])),
      { qos: 1 },
    );
    await until(() => a.acks.some((x) => x.watermark === 1));
    await a.client.endAsync();
  });

  it('an agent may retain only its status: a retained uplink publish is refused and counted', async () => {
    const a = await agentClient(hub, await hub.addAgent('A2'));
    const gone = new Promise<void>((r) => a.client.once('close', () => r()));
    a.client.publish(topics.uplink('A2', 'live'), Buffer.alloc(512 * 1024, 97), { qos: 1, retain: true });
    await gone;
    expect(await refusedCount(hub, 'retained')).toBe(1);
  });

  it('an agent publishing faster than MQTT_PUBLISH_RATE is disconnected and counted', async () => {
    const a = await agentClient(hub, await hub.addAgent('A3'));
    const gone = new Promise<void>((r) => a.client.once('close', () => r()));
    for (let i = 0; i < 40; i++) a.client.publish(topics.uplink('A3', 'health'), '{}', { qos: 0 });
    await gone;
    expect(await refusedCount(hub, 'rate')).toBe(1);
  });

  it('connections over MQTT_MAX_CONNECTIONS are refused and counted (the hub’s own client holds one)', async () => {
    const small = await testHub({ mqttMaxConnections: 2 });
    try {
      const creds = await small.addAgent('A1');
      const a = await agentClient(small, creds);
      await new Promise<void>((r) =>
        tcpConnect(port(small.mqttUrl), '127.0.0.1')
          .on('close', () => r())
          .on('error', () => r()),
      );
      expect(await refusedCount(small, 'connections')).toBe(1);
      await a.client.endAsync();
      // the slot is free again once the agent leaves
      const again = await until(() => agentClient(small, creds).catch(() => null), 10_000);
      await again.client.endAsync();
    } finally {
      await small.stop();
    }
  });
});
