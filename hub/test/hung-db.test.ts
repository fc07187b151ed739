import { type Ack, topics } from '@cityflow/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithService } from '../../test-support/services.js';
import type { RunningHub } from '../src/hub.js';
import { agentClient, gridNetwork, summary, summaryBatch, testHub, until, writeNetwork } from './helpers.js';
import { freshSchemaUrl } from './pg-schema.js';
import { TcpProxy } from './tcp-proxy.js';

const AGENTS = 20;
const STALL_MS = 20_000;
const BATCH = 50;

/** Every agent of this test owns one sensor on road R00-10. */
function network() {
  const net = gridNetwork();
  for (let i = 0; i < AGENTS; i++)
    net.features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [2.35, 48.85] },
      properties: { kind: 'sensor', sensor_id: `S-H${i}`, road_id: 'R00-10', agent_id: `H${i}` },
    });
  return net;
}

/**
 * Issue 10, fault 5: PostgreSQL accepts connections and answers nothing (a TCP proxy that stalls the
 * socket) while 20 agents publish. The hub stops acking, sheds what does not fit its bounded queues
 * (unacked: the agents keep it), stays small, and recovers by itself: everything arrives, once.
 * (The 5-minute, 100-agent version is the chaos suite's `hung-postgresql` row.)
 */
describeWithService('PG', 'a hung PostgreSQL: bounded queues, no acks, recovery by itself', (pgUrl) => {
  let schema: Awaited<ReturnType<typeof freshSchemaUrl>>;
  let proxy: TcpProxy;
  let hub: RunningHub;
  const agents: Array<Awaited<ReturnType<typeof agentClient>>> = [];

  beforeAll(async () => {
    schema = await freshSchemaUrl(pgUrl);
    const u = new URL(schema.url);
    proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    await proxy.up();
    u.host = `127.0.0.1:${proxy.port}`;
    hub = await testHub({
      databaseUrl: u.toString(),
      networkFile: writeNetwork(network()),
      pgQueryTimeoutMs: 2000,
      ingestQueueAgentBytes: 64 << 10,
      ingestQueueTotalBytes: 512 << 10,
    });
    for (let i = 0; i < AGENTS; i++) agents.push(await agentClient(hub, await hub.addAgent(`H${i}`)));
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) await a.client.endAsync(true);
    await hub?.stop();
    await proxy?.down();
    await schema?.drop();
  });

  it('stops acking during a 20 s stall, stays bounded, and stores everything exactly once after it', async () => {
    const sent = new Array<number>(AGENTS).fill(0);
    const watermark = (i: number) => Math.max(0, ...agents[i]!.acks.map((a: Ack) => a.watermark));
    const minute = (seq: number) => new Date(Date.UTC(2026, 11, 1, 0, 0) + seq * 60_000).toISOString();
    // like the real agent: new rows every tick, and everything above the watermark resent after a timeout
    const publish = (i: number, from: number, upTo: number) => {
      const items = [];
      const to = Math.min(upTo, from + 199); // the agent's batch size
      for (let s = from; s <= to; s++) items.push(summary(s, 'R00-10', minute(s), { sensor_id: `S-H${i}` }));
      return agents[i]!.client.publishAsync(
        topics.uplink(`H${i}`, 'summary'),
        JSON.stringify(summaryBatch(`H${i}`, items)),
        { qos: 1 },
      );
    };
    const produce = () =>
      Promise.all(
        agents.map((_, i) => {
          const from = sent[i]! + 1;
          sent[i] = from + BATCH - 1;
          return publish(i, from, sent[i]!);
        }),
      );
    await produce();
    await until(() => agents.every((_, i) => watermark(i) === sent[i]), 30_000, 50);

    proxy.stall();
    const stalledAt = Date.now();
    const before = agents.map((_, i) => watermark(i));
    let peakRss = 0;
    let peakQueued = 0;
    while (Date.now() - stalledAt < STALL_MS) {
      await produce();
      // the agents' resend of everything unacked (their ack timeout)
      await Promise.all(agents.map((_, i) => publish(i, watermark(i) + 1, sent[i]!)));
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const m = await hub.app.inject({ url: '/metrics' });
      peakQueued = Math.max(
        peakQueued,
        Number(/cityflow_hub_ingest_queued_bytes (\d+)/.exec(m.body)?.[1] ?? 0),
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
    // no watermark moved while the database answered nothing
    expect(agents.map((_, i) => watermark(i))).toEqual(before);
    // the total bound, plus at most one message per agent with nothing queued (batches < 64 KiB here)
    expect(peakQueued).toBeLessThanOrEqual((512 << 10) + AGENTS * (64 << 10));
    expect(peakRss).toBeLessThan(1 << 30);
    const metrics = (await hub.app.inject({ url: '/metrics' })).body;
    expect(
      Number(/cityflow_hub_ingest_shed_total\{bound="(?:agent|total)"\} (\d+)/.exec(metrics)?.[1] ?? 0),
    ).toBeGreaterThan(0);

    proxy.resume();
    const resumedAt = Date.now();
    await until(
      async () => {
        await Promise.all(
          agents.map((_, i) =>
            watermark(i) < sent[i]! ? publish(i, watermark(i) + 1, sent[i]!) : undefined,
          ),
        );
        await new Promise((r) => setTimeout(r, 500));
        return agents.every((_, i) => watermark(i) === sent[i]);
      },
      120_000,
      1500,
    );
    const recoverS = (Date.now() - resumedAt) / 1000;
    const rows = await hub.db.query<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT (sensor_id, minute))::int AS d FROM traffic_minute',
    );
    const total = sent.reduce((a, b) => a + b, 0);
    expect(rows.rows[0]).toEqual({ n: total, d: total });
    console.log(
      JSON.stringify({
        agents: AGENTS,
        stall_s: STALL_MS / 1000,
        items: total,
        peak_rss_mb: Math.round(peakRss / 2 ** 20),
        peak_queued_bytes: peakQueued,
        recover_s: recoverS,
      }),
    );
  }, 240_000);
});
