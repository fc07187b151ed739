/**
 * PostgreSQL accepts connections and answers nothing for 5 minutes (CHAOS_STALL_S) while 100
 * agents (CHAOS_AGENTS) publish: the hub stops acking, keeps its queues bounded (RSS < 1 GB), and
 * once the socket moves again stores everything exactly once, by itself.
 */
import {
  fleetNetwork,
  hubCounts,
  pgSchema,
  sleep,
  spawnHub,
  startFleet,
  tcpProxy,
  until,
} from '../lib/hub-fleet.mjs';

const AGENTS = Number(process.env.CHAOS_AGENTS ?? 100);
const STALL_S = Number(process.env.CHAOS_STALL_S ?? 300);

export default {
  name: `hung PostgreSQL (${STALL_S} s, ${AGENTS} agents)`,
  async run() {
    const schema = await pgSchema();
    const proxy = await tcpProxy(schema.url);
    const hub = await spawnHub({
      databaseUrl: proxy.url,
      network: fleetNetwork(AGENTS),
      env: { CITYFLOW_PG_QUERY_TIMEOUT_MS: '5000' },
    });
    const fleet = await startFleet(hub, AGENTS);
    try {
      await fleet.produce(10);
      await until(async () => fleet.allAcked(), 60_000, 'first batches acked');
      proxy.stall();
      const stalledAt = Date.now();
      const ackedAtStall = fleet.acked;
      let peakRss = 0;
      while (Date.now() - stalledAt < STALL_S * 1000) {
        await fleet.produce(2); // a summary per sensor per minute, faster: 2 per 2 s
        await fleet.resend();
        peakRss = Math.max(peakRss, hub.rss());
        await sleep(2000);
      }
      const ackedDuringStall = fleet.acked - ackedAtStall;
      proxy.resume();
      const resumedAt = Date.now();
      await until(
        async () => {
          await fleet.resend();
          peakRss = Math.max(peakRss, hub.rss());
          return fleet.allAcked();
        },
        600_000,
        'every agent acked after the stall',
        2000,
      );
      const recover_s = Math.round((Date.now() - resumedAt) / 100) / 10;
      const c = await hubCounts(schema);
      const sent = fleet.items * 5;
      return {
        sent,
        acked: fleet.acked * 5,
        stored: c.readings,
        lost: Math.max(0, sent - c.readings),
        duplicated: Math.max(0, c.readings - sent) + (c.rows - c.distinct),
        recover_s,
        note: `hub peak RSS ${Math.round(peakRss / 2 ** 20)} MB; ${ackedDuringStall} items acked during the stall; protocol-level agents`,
      };
    } finally {
      await fleet.close();
      await hub.stop();
      await proxy.close();
      await schema.drop();
    }
  },
};
