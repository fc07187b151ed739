/**
 * The hub's wall clock jumps a year ahead (libfaketime on the hub process: `FAKETIME=+365d`): its
 * retention job must delete nothing whose data lies within retention of the newest stored data — the
 * per-minute partitions and the quarantine alike. Needs Debian's `libfaketime`.
 */
import { existsSync } from 'node:fs';
import { fleetNetwork, hubCounts, pgSchema, spawnHub, startFleet, until } from '../lib/hub-fleet.mjs';

const LIB = process.env.CHAOS_FAKETIME_LIB ?? '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

export default {
  name: 'hub clock jump (+1 year)',
  async run() {
    if (!existsSync(LIB)) throw new Error(`${LIB} missing: apt-get install libfaketime`);
    const schema = await pgSchema();
    let hub = await spawnHub({ databaseUrl: schema.url, network: fleetNetwork(10) });
    const fleet = await startFleet(hub, 10);
    let jumped = null;
    try {
      const over = (seq, i) => (seq % 10 === 0 ? { sensor_id: `S-UNKNOWN${i}` } : {}); // some dead letters
      for (let k = 0; k < 3; k++) await fleet.produce(20, over);
      await until(
        async () => {
          await fleet.resend(over);
          return fleet.allAcked();
        },
        60_000,
        'every item acked',
        1000,
      );
      await fleet.close();
      const before = await hubCounts(schema);
      const [q0] = await schema.query('SELECT count(*)::int AS n FROM quarantine');
      await hub.stop();
      const t = Date.now();
      jumped = await spawnHub({
        databaseUrl: schema.url,
        network: fleetNetwork(10),
        env: { LD_PRELOAD: LIB, FAKETIME: '+365d', CITYFLOW_CYCLE_INTERVAL_S: '1' },
      });
      hub = jumped;
      // retention runs in the leader's first cycle; the second cycle proves the first one finished
      await until(
        async () => {
          const m = await (await fetch(`${jumped.apiUrl}/metrics`)).text();
          return Number(/cityflow_hub_cycle_seconds_count\{cycle="reroute"\} (\d+)/.exec(m)?.[1] ?? 0) >= 2;
        },
        120_000,
        'two cycles on the jumped clock',
        500,
      );
      const after = await hubCounts(schema);
      const [q1] = await schema.query('SELECT count(*)::int AS n FROM quarantine');
      const sent = fleet.items * 5;
      const refused = fleet.agents.reduce((n, a) => n + a.rejected.size, 0) * 5;
      return {
        sent,
        acked: fleet.acked * 5,
        stored: after.readings,
        lost:
          Math.max(0, before.readings - after.readings) +
          Math.max(0, sent - refused - after.readings) +
          Math.max(0, q0.n - q1.n),
        duplicated: Math.max(0, after.rows - after.distinct),
        recover_s: Math.round((Date.now() - t) / 100) / 10,
        note: `hub restarted under FAKETIME=+365d; ${before.rows} minute rows and ${q0.n} dead letters before, ${after.rows} and ${q1.n} after retention`,
      };
    } finally {
      await fleet.close();
      await hub.stop();
      await schema.drop();
    }
  },
};
