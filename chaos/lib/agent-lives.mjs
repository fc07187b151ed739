/**
 * Agent identity faults (a wiped card, a restored old SD image): real `cityflow-agent run` processes
 * on SQLite files that are wiped or copied between lives, a real `cityflow-hub serve` on PostgreSQL,
 * and a QoS 1 sensor. Readings are of closed minutes (wall clock), so each minute becomes one summary.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { spawnAgent } from '../../bench/lib/agent-fixture.js';
import { fleetNetwork, pgSchema, spawnHub, until } from './hub-fleet.mjs';

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Start of the minute `k` minutes before the module was loaded (fixed, so minutes never collide). */
const LOADED_MINUTE = Math.floor(Date.now() / 60_000) * 60_000;
export const minuteAgo = (k) => LOADED_MINUTE - k * 60_000;

export async function startLives() {
  const dir = mkdtempSync(join(tmpdir(), 'cf-chaos-lives-'));
  const schema = await pgSchema();
  const hub = await spawnHub({ databaseUrl: schema.url, network: fleetNetwork(1) });
  const cred = await hub.addAgent('H0');
  const cfg = join(dir, 'agent.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      logLevel: 'fatal',
      liveIntervalS: 3600,
      forecastIntervalS: 3600,
      ackTimeoutS: 2,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
    }),
  );
  const sent = new Map(); // minute -> readings PUBACKed by the agent
  let published = 0;
  const running = [];
  const stored = async () =>
    new Map(
      (
        await schema.query(
          "SELECT minute, sum(count)::int AS n FROM traffic_minute WHERE sensor_id = 'S-H0' GROUP BY minute",
        )
      ).map((r) => [new Date(r.minute).getTime(), r.n]),
    );
  const lives = {
    dir,
    hub,
    schema,
    sent,
    get published() {
      return published;
    },
    /** an agent on `dataDir`, connected to the hub or (online false) to a port nobody listens on */
    async agent(dataDir, online) {
      const hubUrl = online ? hub.mqttUrl : `mqtt://127.0.0.1:${await freePort()}`;
      const { child, ready } = await spawnAgent([
        ...[
          '--config',
          cfg,
          '--agent-id',
          'H0',
          '--data-dir',
          dataDir,
          '--mqtt-port',
          '0',
          '--http-port',
          '0',
        ],
        ...[
          '--hub-url',
          hubUrl,
          '--hub-username',
          cred.username,
          '--hub-password',
          cred.password,
          '--clock',
          'wall',
        ],
      ]);
      running.push(child);
      const status = async () => (await fetch(`${ready.http_url}/status`)).json();
      return {
        status,
        async feed(minute, n) {
          const before = (await status()).streams.summary.pending;
          const c = await mqtt.connectAsync(ready.mqtt_url, { clientId: `sensor-${minute}-${Date.now()}` });
          for (let i = 0; i < n; i++) {
            published++;
            const ts = new Date(minute + 1000 * (i + 1)).toISOString();
            await c.publishAsync(
              'cityflow/traffic/S-H0',
              JSON.stringify({
                ts,
                sensor_id: 'S-H0',
                road_id: 'R0',
                speed_kmh: 30 + i,
                flow_rate: 600,
                occupancy: 0.1,
              }),
              { qos: 1 },
            );
            sent.set(minute, (sent.get(minute) ?? 0) + 1);
          }
          await c.endAsync();
          if (!online)
            await until(
              async () => (await status()).streams.summary.pending >= before + 1,
              60_000,
              'minute summarised',
            );
          else
            await until(
              async () => (await stored()).get(minute) === sent.get(minute),
              60_000,
              'minute stored by the hub',
            );
        },
        /** every reading PUBACKed so far is in the hub, and the summary outbox is empty */
        async drained() {
          await until(
            async () => {
              const got = await stored();
              return (
                [...sent].every(([m, n]) => (got.get(m) ?? 0) >= n) &&
                (await status()).streams.summary.pending === 0
              );
            },
            120_000,
            'the hub to hold every reading',
          );
        },
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await gone;
        },
      };
    },
    /** The chaos row: the hub's readings per minute against what the agent PUBACKed. */
    async row(recover_s, note) {
      const got = await stored();
      let lost = 0;
      let duplicated = 0;
      for (const k of new Set([...sent.keys(), ...got.keys()])) {
        const d = (got.get(k) ?? 0) - (sent.get(k) ?? 0);
        if (d > 0) duplicated += d;
        else lost -= d;
      }
      const acked = [...sent.values()].reduce((a, b) => a + b, 0);
      return {
        sent: published,
        acked,
        stored: [...got.values()].reduce((a, b) => a + b, 0),
        lost,
        duplicated,
        recover_s,
        note,
      };
    },
    async close() {
      for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await hub.stop();
      await schema.drop();
    },
  };
  return lives;
}
