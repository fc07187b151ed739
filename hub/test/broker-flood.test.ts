/**
 * The flood of bench/broker-flood.js at a smaller scale, against a real `cityflow-hub serve` on
 * PostgreSQL: connections announcing 256 MB and streaming, plus retained 512 KB publishes by an
 * authenticated agent. The hub stays under 500 MB of peak RSS and a normal agent still gets its PUBACK.
 */
import { topics } from '@cityflow/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { memoryOf, oversizeFlood, pubackMs, retainedFlood } from '../../bench/lib/flood.js';
import { addAgentViaApi, freshPgSchema, spawnHub, stopChild } from '../../bench/lib/hub-process.js';
import { describeWithService } from '../../test-support/services.js';

describeWithService('PG', 'the hub under a flood (real process, PostgreSQL)', (pgUrl) => {
  let db: { databaseUrl: string; drop(): Promise<void> };
  let hub: { child: import('node:child_process').ChildProcess; apiUrl: string; mqttUrl: string };

  beforeAll(async () => {
    db = await freshPgSchema(pgUrl);
    hub = await spawnHub({ DATABASE_URL: db.databaseUrl, LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    if (hub) await stopChild(hub.child);
    await db?.drop();
  });

  it('50 connections announcing 256 MB (streaming 20 MB each) + 200 retained 512 KB publishes: peak RSS < 500 MB, an agent still acked', async () => {
    const flooder = await addAgentViaApi(hub.apiUrl, 'F-1');
    const normal = await addAgentViaApi(hub.apiUrl, 'N-1');
    const as = (c: { agent_id: string; username: string; password: string }) => ({
      clientId: `agent:${c.agent_id}`,
      username: c.username,
      password: c.password,
    });
    await Promise.all([
      oversizeFlood(Number(new URL(hub.mqttUrl).port), {
        connections: 50,
        announce: 256 * 1024 * 1024 - 1,
        maxBytes: 20 << 20,
      }),
      retainedFlood(hub.mqttUrl, {
        count: 200,
        size: 512 * 1024,
        topic: () => topics.status('F-1'),
        options: as(flooder),
      }),
    ]);
    expect(await pubackMs(hub.mqttUrl, topics.uplink('N-1', 'health'), '{}', as(normal))).toBeGreaterThan(0);
    expect(memoryOf(hub.child.pid!).peak_rss_bytes).toBeLessThan(500 * 2 ** 20);
  }, 180_000);
});
