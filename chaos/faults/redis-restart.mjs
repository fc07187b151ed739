/**
 * Redis restarts (cache, WebSocket fan-out, rate limits): every connection is cut and refused for 10 s
 * while 20 agents publish. Ingest must not wait on Redis: acks go on, nothing is lost or doubled.
 */
import {
  REDIS_URL,
  fleetNetwork,
  hubCounts,
  pgSchema,
  sleep,
  spawnHub,
  startFleet,
  tcpProxy,
  until,
} from '../lib/hub-fleet.mjs';

export default {
  name: 'Redis restart (10 s)',
  async run() {
    const schema = await pgSchema();
    const proxy = await tcpProxy(REDIS_URL);
    const hub = await spawnHub({ databaseUrl: schema.url, redisUrl: proxy.url, network: fleetNetwork(20) });
    const fleet = await startFleet(hub, 20);
    try {
      await fleet.produce(10);
      await until(async () => fleet.allAcked(), 60_000, 'first batches acked');
      await proxy.cut();
      const downAt = Date.now();
      while (Date.now() - downAt < 10_000) {
        await fleet.produce(2);
        await fleet.resend();
        await sleep(1000);
      }
      const ackedWhileDown = fleet.allAcked();
      await proxy.restore();
      const upAt = Date.now();
      await until(
        async () => {
          await fleet.resend();
          return fleet.allAcked();
        },
        120_000,
        'every agent acked after the restart',
        1000,
      );
      const recover_s = Math.round((Date.now() - upAt) / 100) / 10;
      const c = await hubCounts(schema);
      const sent = fleet.items * 5;
      return {
        sent,
        acked: fleet.acked * 5,
        stored: c.readings,
        lost: Math.max(0, sent - c.readings),
        duplicated: Math.max(0, c.readings - sent) + (c.rows - c.distinct),
        recover_s,
        note: `${ackedWhileDown ? 'acks went on while Redis was down' : 'acks waited for Redis'}; restart simulated by a proxy`,
      };
    } finally {
      await fleet.close();
      await hub.stop();
      await proxy.close();
      await schema.drop();
    }
  },
};
