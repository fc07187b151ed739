/**
 * Readings the hub rejects for good (a sensor not in the network yet) are acked, deleted at the agent
 * and quarantined; after the network is fixed, `cityflow-hub quarantine replay` stores them: nothing
 * lost, nothing stored twice (a second replay stores nothing).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import {
  HUB_BIN,
  fleetNetwork,
  hubCounts,
  pgSchema,
  spawnHub,
  startFleet,
  until,
} from '../lib/hub-fleet.mjs';

const AGENTS = 10;

function replay(schema, networkFile) {
  const r = spawnSync(
    process.execPath,
    [HUB_BIN, 'quarantine', 'replay', '--code', 'CF_UNKNOWN_SENSOR', '--json'],
    {
      env: { ...process.env, DATABASE_URL: schema.url, NETWORK_FILE: networkFile, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`quarantine replay: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export default {
  name: 'rejected for good, then replayed',
  async run() {
    const schema = await pgSchema();
    // the hub's network lacks the agents' second sensors S-X<i>
    const hub = await spawnHub({ databaseUrl: schema.url, network: fleetNetwork(AGENTS) });
    const fleet = await startFleet(hub, AGENTS);
    try {
      // every third item comes from the sensor the hub does not know
      const over = (seq, i) => (seq % 3 === 0 ? { sensor_id: `S-X${i}` } : {});
      for (let k = 0; k < 5; k++) await fleet.produce(30, over);
      await until(
        async () => {
          await fleet.resend(over);
          return fleet.allAcked();
        },
        60_000,
        'every item acked (stored or rejected)',
        1000,
      );
      const rejected = fleet.agents.reduce((n, a) => n + a.rejected.size, 0);
      const fixed = fleetNetwork(AGENTS);
      for (let i = 0; i < AGENTS; i++)
        fixed.features.push({
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [2.35, 48.85] },
          properties: { kind: 'sensor', sensor_id: `S-X${i}`, road_id: 'R0', agent_id: `H${i}` },
        });
      const netFile = `${hub.networkFile}.fixed`;
      writeFileSync(netFile, JSON.stringify(fixed));
      await hub.stop();
      const first = replay(schema, netFile);
      const second = replay(schema, netFile);
      const c = await hubCounts(schema);
      const sent = fleet.items * 5;
      const stillRefused = first.filter((r) => r.outcome !== 'stored').length;
      return {
        sent,
        acked: fleet.acked * 5,
        stored: c.readings,
        lost: Math.max(0, sent - c.readings),
        duplicated: Math.max(0, c.readings - sent) + second.filter((r) => r.outcome === 'stored').length,
        recover_s: null,
        note: `${rejected} items rejected for good and acked; replay stored ${first.length - stillRefused}, ${stillRefused} still refused; a second replay stored ${second.filter((r) => r.outcome === 'stored').length}`,
      };
    } finally {
      await fleet.close();
      await hub.stop();
      await schema.drop();
    }
  },
};
