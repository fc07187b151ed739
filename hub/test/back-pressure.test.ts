import { topics } from '@cityflow/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithService } from '../../test-support/services.js';
import type { RunningHub } from '../src/hub.js';
import { agentClient, summary, summaryBatch, testHub, until } from './helpers.js';
import { freshSchemaUrl } from './pg-schema.js';
import { TcpProxy } from './tcp-proxy.js';

describeWithService('PG', 'back-pressure: the database goes away and comes back', (pgUrl) => {
  let schema: Awaited<ReturnType<typeof freshSchemaUrl>>;
  let proxy: TcpProxy;
  let hub: RunningHub;
  let agent: Awaited<ReturnType<typeof agentClient>>;

  beforeAll(async () => {
    schema = await freshSchemaUrl(pgUrl);
    const u = new URL(schema.url);
    proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    await proxy.up();
    u.host = `127.0.0.1:${proxy.port}`;
    hub = await testHub({ databaseUrl: u.toString() });
    agent = await agentClient(hub, await hub.addAgent('A1'));
  });
  afterAll(async () => {
    await agent?.client.endAsync();
    await hub?.stop();
    await proxy?.down();
    await schema?.drop();
  });

  const send = (seqs: number[]) =>
    agent.client.publishAsync(
      topics.uplink('A1', 'summary'),
      JSON.stringify(
        summaryBatch(
          'A1',
          seqs.map((s) => summary(s, 'R00-10', new Date(Date.UTC(2026, 2, 2, 8, s)).toISOString())),
        ),
      ),
      { qos: 1 },
    );

  it('stops acking while the database is down, loses nothing, and recovers by itself', async () => {
    await send([1, 2]);
    await until(() => agent.acks.some((a) => a.watermark === 2));
    await proxy.down();
    const acksBefore = agent.acks.length;
    await send([3, 4]);
    await new Promise((r) => setTimeout(r, 500));
    await hub.ingest.idle();
    expect(agent.acks.length).toBe(acksBefore); // no ack: the agent keeps rows 3 and 4
    const health = await hub.app.inject({ url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json().checks.database).toBe('unavailable'); // never the driver's text (issue 9)

    await proxy.up(); // same port: the database is back
    await until(async () => (await hub.app.inject({ url: '/health' })).statusCode === 200, 10_000, 100);
    await send([3, 4]); // the agent's resend after its timeout
    await until(() => agent.acks.some((a) => a.watermark === 4), 10_000);
    const n = await hub.db.query<{ n: number }>('SELECT count(*)::int AS n FROM traffic_minute');
    expect(n.rows[0]!.n).toBe(4);
  });
});
