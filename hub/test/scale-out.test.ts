/**
 * Two hub processes against one PostgreSQL, one Redis and one Mosquitto (shared subscriptions):
 * uplink split with no duplicate, WebSocket on A sees what B ingested, singleton cycle fails over.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topics } from '@cityflow/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { describeWithService, serviceUrl } from '../../test-support/services.js';
import { openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import { writeMosquittoConfig } from '../src/mqtt/mosquitto-config.js';
import { createAgent } from '../src/store/agents.js';
import { TEST_REDIS_PREFIX, agentClient, summary, summaryBatch, until, writeNetwork } from './helpers.js';
import { startMosquitto } from './mosquitto.js';
import { freshSchemaUrl } from './pg-schema.js';

const BIN = fileURLToPath(new URL('../bin/cityflow-hub.js', import.meta.url));

interface Replica {
  proc: ChildProcess;
  apiUrl: string;
  exited: Promise<number | null>;
  /** everything the process printed so far */
  output: () => string;
}

async function startReplica(env: Record<string, string>): Promise<Replica> {
  const proc = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  // never leave a replica behind (it would hold the cycle lock for the next run)
  process.once('exit', () => proc.kill('SIGKILL'));
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    out += d;
  });
  // generous: the whole suite may be running on two cores
  const line = await until(() => out.split('\n').find((l) => l.includes('"hub started"')), 60_000, 50).catch(
    () => {
      throw new Error(`replica did not start (exit ${proc.exitCode}):\n${out.slice(-2000)}`);
    },
  );
  return { proc, apiUrl: JSON.parse(line).api_url, exited, output: () => out };
}

describeWithService('PG', 'scale-out: two hub replicas, one PostgreSQL, Redis and Mosquitto', (pgUrl) => {
  const redisUrl = serviceUrl('REDIS');
  const dir = mkdtempSync(join(tmpdir(), 'cityflow-scale-'));
  let schema: Awaited<ReturnType<typeof freshSchemaUrl>>;
  let broker: Awaited<ReturnType<typeof startMosquitto>>;
  const replicas: Replica[] = [];
  const creds: Record<string, { agent_id: string; username: string; password: string }> = {};
  let token = '';

  beforeAll(async () => {
    if (!redisUrl) throw new Error('scale-out needs CITYFLOW_TEST_REDIS_URL');
    schema = await freshSchemaUrl(pgUrl);
    const db = await openDb(schema.url);
    await migrate(db);
    for (const id of ['A1', 'A2', 'A3', 'A4']) creds[id] = (await createAgent(db, id))!;
    await writeMosquittoConfig(db, dir, 'hub-secret-2');
    await db.close();
    broker = await startMosquitto(dir);
    const env = {
      DATABASE_URL: schema.url,
      REDIS_URL: redisUrl,
      CITYFLOW_REDIS_PREFIX: TEST_REDIS_PREFIX,
      MQTT_URL: `mqtt://cityflow-hub:hub-secret-2@127.0.0.1:${broker.port}`,
      PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET: 'scale-out-secret-0123456789',
      NETWORK_FILE: writeNetwork(),
      CITYFLOW_CYCLE_INTERVAL_S: '1',
      CITYFLOW_OPEN_REGISTRATION: 'true',
      LOG_LEVEL: 'info',
    };
    replicas.push(await startReplica(env), await startReplica(env));
    // the broker password of MQTT_URL never reaches the logs
    for (const r of replicas) {
      expect(r.output()).toContain('"mqtt_url":"mqtt://127.0.0.1:');
      expect(r.output()).not.toContain('hub-secret-2');
    }
    const r = await fetch(`${replicas[0]!.apiUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `s${Date.now()}@c.test`, password: 'password123' }),
    });
    token = (await r.json()).token;
  }, 180_000);

  afterAll(async () => {
    for (const r of replicas) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
    await broker?.stop();
    await schema?.drop();
  });

  const metric = async (r: Replica, re: RegExp) => {
    const m = (await (await fetch(`${r.apiUrl}/metrics`)).text()).match(re);
    return m ? Number(m[1]) : 0;
  };

  it('splits the uplink between replicas with no duplicate row and a contiguous watermark per agent', async () => {
    const agents = await Promise.all(
      Object.values(creds).map((c) => agentClient({ mqttUrl: broker.url }, c)),
    );
    // 4 agents × 10 batches of 10 seqs, every batch sent twice (a replay after a lost ack).
    // Recent minutes: the replicas run retention in wall mode, which would delete months-old rows.
    const base = Math.floor(Date.now() / 60_000) * 60_000 - 180 * 60_000;
    for (let round = 0; round < 2; round++)
      for (let b = 0; b < 10; b++)
        await Promise.all(
          agents.map((a, i) => {
            const id = `A${i + 1}`;
            const items = Array.from({ length: 10 }, (_, k) => {
              const seq = b * 10 + k + 1;
              return summary(seq, 'R00-10', new Date(base + seq * 60_000).toISOString(), {
                sensor_id: `S-${id}`,
              });
            });
            return a.client.publishAsync(
              topics.uplink(id, 'summary'),
              JSON.stringify(summaryBatch(id, items)),
              { qos: 1 },
            );
          }),
        );
    for (const a of agents) await until(() => a.acks.some((x) => x.watermark === 100), 15_000);
    const db = await openDb(schema.url);
    const n = await db.query<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT (sensor_id, minute))::int AS d FROM traffic_minute',
    );
    await db.close();
    expect(n.rows[0]).toEqual({ n: 400, d: 400 });
    // the replays may still be in flight after the last ack: wait until all 80 messages are counted
    const per = await until(async () => {
      const p = await Promise.all(
        replicas.map((r) => metric(r, /cityflow_hub_ingest_messages_total\{stream="summary"\} (\d+)/)),
      );
      return p[0]! + p[1]! === 80 && p;
    });
    expect(per[0]).toBeGreaterThan(0);
    expect(per[1]).toBeGreaterThan(0);
    for (const a of agents) await a.client.endAsync();
  });

  it('a WebSocket client on replica A sees live data ingested by replica B', async () => {
    const a = replicas[0]!;
    const ws = new WebSocket(`${a.apiUrl.replace('http', 'ws')}/ws/live?token=${token}`);
    const speeds = new Set<number>();
    ws.on('message', (m) => {
      const msg = JSON.parse(m.toString());
      if (msg.type === 'traffic' && msg.data.road_id === 'R10-00') speeds.add(msg.data.speed_kmh);
    });
    await new Promise((r) => ws.once('open', r));
    const agent = await agentClient({ mqttUrl: broker.url }, creds.A1!);
    const liveBefore = await metric(
      replicas[1]!,
      /cityflow_hub_ingest_messages_total\{stream="live"\} (\d+)/,
    );
    for (let i = 1; i <= 10; i++) {
      const ts = new Date().toISOString();
      const road = {
        road_id: 'R10-00',
        ts,
        speed_kmh: i,
        flow_rate: 100,
        occupancy: 0.1,
        congestion_score: 0,
        sensors: 1,
        samples: 1,
      };
      await agent.client.publishAsync(
        topics.uplink('A1', 'live'),
        JSON.stringify({ v: 1, agent_id: 'A1', stream: 'live', ts, roads: [road] }),
        { qos: 1 },
      );
    }
    await until(() => speeds.size === 10, 10_000);
    expect(
      await metric(replicas[1]!, /cityflow_hub_ingest_messages_total\{stream="live"\} (\d+)/),
    ).toBeGreaterThan(liveBefore);
    ws.close();
    await agent.client.endAsync();
  });

  it('new data invalidates the cached live answer on every replica, not only on the one that ingested it', async () => {
    const live = async (r: Replica) =>
      (
        await (
          await fetch(`${r.apiUrl}/api/traffic/live?road_id=R01-11`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()
      ).data[0]?.speed_kmh;
    const agent = await agentClient({ mqttUrl: broker.url }, creds.A1!);
    const publish = async (speed: number) => {
      const ts = new Date().toISOString();
      const road = {
        road_id: 'R01-11',
        ts,
        speed_kmh: speed,
        flow_rate: 100,
        occupancy: 0.1,
        congestion_score: 0,
        sensors: 1,
        samples: 1,
      };
      await agent.client.publishAsync(
        topics.uplink('A1', 'live'),
        JSON.stringify({ v: 1, agent_id: 'A1', stream: 'live', ts, roads: [road] }),
        { qos: 1 },
      );
    };
    for (let round = 1; round <= 4; round++) {
      await publish(round * 10);
      // well inside the 5 s TTL: only an invalidation (local or broadcast) can make both replicas agree
      await until(
        async () => (await live(replicas[0]!)) === round * 10 && (await live(replicas[1]!)) === round * 10,
        2000,
      );
    }
    await agent.client.endAsync();
  });

  it('the cycle runs on one replica at a time and moves when that replica is killed', async () => {
    const leaders = async () =>
      Promise.all(
        replicas
          .filter((r) => r.proc.exitCode === null)
          .map(async (r) => (await (await fetch(`${r.apiUrl}/health`)).json()).cycle_leader as boolean),
      );
    const first = await until(async () => {
      const l = await leaders();
      return l.filter(Boolean).length === 1 && l;
    }, 10_000);
    const leader = replicas[first.indexOf(true)]!;
    const other = replicas[first.indexOf(false)]!;
    leader.proc.kill('SIGKILL');
    await leader.exited;
    await until(
      async () => (await (await fetch(`${other.apiUrl}/health`)).json()).cycle_leader === true,
      15_000,
    );
  });
});
