import { connect as tcpConnect, type Socket } from 'node:net';
import { MQTT_LIMITS } from '@cityflow/protocol';
import { describe, expect, it } from 'vitest';
import { startAgent } from '../src/index.js';
import { connect, pub, reading, tempDir, useCleanups, waitFor } from './helpers/util.js';

const portOf = (url: string) => Number(new URL(url).port);

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

/** Streams zeros after `head` until the peer closes or `maxBytes` are written; resolves with bytes written. */
function streamUntilClosed(port: number, head: Buffer, maxBytes: number): Promise<number> {
  return new Promise((resolve) => {
    const s: Socket = tcpConnect(port, '127.0.0.1');
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024);
    const done = () => resolve(written);
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => {
      s.write(head);
      const pump = () => {
        while (written < maxBytes && !s.destroyed) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        if (written >= maxBytes) s.end();
      };
      pump();
    });
  });
}

const refused = async (httpUrl: string, reason: string) => {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const m = text.match(new RegExp(`cityflow_agent_broker_refused_total\\{reason="${reason}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
};

describe('the sensor broker under hostile clients', () => {
  const cleanups = useCleanups();

  it(`cuts a CONNECT announcing 256 MB at its header (bound ${MQTT_LIMITS.sensorPacketMaxBytes} B) and still acks a normal sensor`, async () => {
    const tmp = tempDir();
    const agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir, mqttPort: 0, httpPort: 0 });
    cleanups.push(tmp.cleanup, () => agent.stop());
    const written = await streamUntilClosed(
      portOf(agent.mqttUrl),
      header(0x10, 256 * 1024 * 1024 - 1),
      50 << 20,
    );
    // Closed long before 50 MB (what remains is the kernel's socket buffers, not the agent's memory).
    expect(written).toBeLessThan(20 << 20);
    await waitFor(async () => (await refused(agent.httpUrl, 'packet_size')) === 1, 'the refusal count');
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    await pub(c, 'S-1', reading('S-1', 'R-1', Date.now()));
    expect(agent.status().readings_total).toBe(1);
  });

  it('never stores a retained sensor reading: a later subscriber gets nothing, and the drop is counted', async () => {
    const tmp = tempDir();
    const agent = await startAgent({ agentId: 'A-1', dataDir: tmp.dir, mqttPort: 0, httpPort: 0 });
    cleanups.push(tmp.cleanup, () => agent.stop());
    const c = await connect(agent.mqttUrl);
    cleanups.push(() => void c.end(true));
    await c.publishAsync('cityflow/traffic/S-1', reading('S-1', 'R-1', Date.now()), { qos: 1, retain: true });
    expect(agent.status().readings_total).toBe(1);
    const late = await connect(agent.mqttUrl);
    cleanups.push(() => void late.end(true));
    const got: string[] = [];
    late.on('message', (t) => got.push(t));
    await late.subscribeAsync('cityflow/traffic/#', { qos: 1 });
    // A live message still flows to it; a retained one would have arrived before this one.
    await c.publishAsync('cityflow/traffic/S-1', reading('S-1', 'R-1', Date.now()), { qos: 1 });
    await waitFor(() => got.length >= 1, 'the live message');
    expect(got).toEqual(['cityflow/traffic/S-1']);
    expect(await refused(agent.httpUrl, 'retained')).toBe(1);
  });

  it('refuses connections over mqttMaxConnections and counts them', async () => {
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      mqttPort: 0,
      httpPort: 0,
      mqttMaxConnections: 2,
    });
    cleanups.push(tmp.cleanup, () => agent.stop());
    const a = await connect(agent.mqttUrl);
    const b = await connect(agent.mqttUrl);
    cleanups.push(
      () => void a.end(true),
      () => void b.end(true),
    );
    // the third socket is closed by the agent without a byte from us
    await new Promise<void>((r) =>
      tcpConnect(portOf(agent.mqttUrl), '127.0.0.1')
        .on('close', () => r())
        .on('error', () => r()),
    );
    expect(await refused(agent.httpUrl, 'connections')).toBe(1);
    await a.endAsync();
    // the slot is free again once a client leaves
    const c = await waitFor(() => connect(agent.mqttUrl, { connectTimeout: 2000 }), 'a free slot');
    await c.endAsync();
  });

  it('disconnects a client publishing faster than mqttPublishRatePerS, and counts it', async () => {
    const tmp = tempDir();
    const agent = await startAgent({
      agentId: 'A-1',
      dataDir: tmp.dir,
      mqttPort: 0,
      httpPort: 0,
      mqttPublishRatePerS: 5,
    });
    cleanups.push(tmp.cleanup, () => agent.stop());
    const flood = await connect(agent.mqttUrl);
    cleanups.push(() => void flood.end(true));
    const closed = new Promise<void>((r) => flood.once('close', () => r()));
    for (let i = 0; i < 50; i++)
      flood.publish('cityflow/traffic/S-1', reading('S-1', 'R-1', Date.now()), { qos: 0 });
    await closed;
    expect(await refused(agent.httpUrl, 'rate')).toBe(1);
    // burst = two seconds' worth: at most 10 of the 50 got through
    expect(agent.status().readings_total as number).toBeLessThanOrEqual(10);
    const normal = await connect(agent.mqttUrl);
    cleanups.push(() => void normal.end(true));
    await pub(normal, 'S-2', reading('S-2', 'R-1', Date.now()));
  });
});
