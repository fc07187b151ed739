/**
 * Hub-side chaos faults (hung/restarted PostgreSQL, restarted Redis, refused-for-good items): a real
 * `cityflow-hub serve` child process on PostgreSQL (a fresh schema of CHAOS_PG_URL) and, optionally,
 * Redis, each behind a TCP proxy that can cut or stall the socket; and a fleet of protocol-level agents
 * (mqtt.js clients speaking the agent uplink as `cityflow-agent` does: sequenced batches, resend of
 * everything above the watermark after an ack timeout). Spawning 100 real agents would need ~6 GB here;
 * the agent's own faults are in the agent rows.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import pg from 'pg';

export const HUB_BIN = fileURLToPath(new URL('../../hub/bin/cityflow-hub.js', import.meta.url));
export const PG_URL =
  process.env.CHAOS_PG_URL ?? process.env.CITYFLOW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL =
  process.env.CHAOS_REDIS_URL ?? process.env.CITYFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(fn, timeoutMs, what, stepMs = 200) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** A fresh schema on the shared PostgreSQL. */
export async function pgSchema() {
  const schema = `chaos_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  const u = new URL(PG_URL);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: u.toString(),
    async query(sql, params) {
      const q = new pg.Client({ connectionString: u.toString() });
      await q.connect();
      try {
        return (await q.query(sql, params)).rows;
      } finally {
        await q.end();
      }
    },
    async drop() {
      const d = new pg.Client({ connectionString: PG_URL });
      await d.connect();
      await d.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await d.end();
    },
  };
}

/** A TCP proxy: `cut()` closes every connection and refuses new ones (a restart); `stall()` moves no byte. */
export async function tcpProxy(targetUrl) {
  const t = new URL(targetUrl);
  const sockets = new Set();
  let server = null;
  let stalled = false;
  let port = 0;
  const up = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(t.port), t.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      if (stalled) for (const s of [client, upstream]) s.pause();
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise((r) => server.listen(port, '127.0.0.1', r));
    port = server.address().port;
  };
  await up();
  const url = new URL(targetUrl);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    stall() {
      stalled = true;
      for (const s of sockets) s.pause();
    },
    resume() {
      stalled = false;
      for (const s of sockets) s.resume();
    },
    async cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      const s = server;
      server = null;
      if (s) await new Promise((r) => s.close(r));
    },
    restore: up,
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server) await new Promise((r) => server.close(r));
    },
  };
}

/** `count` agents H0..H{n-1}, each with one sensor S-H<i> on road R0. */
export function fleetNetwork(count) {
  const pos = (x) => [2.35 + x * 0.002, 48.85];
  const features = [
    {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: pos(0) },
      properties: { kind: 'intersection', node_id: 'N0' },
    },
    {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: pos(1) },
      properties: { kind: 'intersection', node_id: 'N1' },
    },
    {
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: [pos(0), pos(1)] },
      properties: {
        kind: 'road',
        road_id: 'R0',
        from_node: 'N0',
        to_node: 'N1',
        length_m: 200,
        lanes: 2,
        speed_limit_kmh: 50,
      },
    },
  ];
  for (let i = 0; i < count; i++)
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: pos(0) },
      properties: { kind: 'sensor', sensor_id: `S-H${i}`, road_id: 'R0', agent_id: `H${i}` },
    });
  return { type: 'FeatureCollection', features };
}

const ADMIN = { email: 'chaos-admin@city.test', password: 'chaos-admin-password' };

/** `cityflow-hub serve` as a child process; resolves once it logged `hub started`. */
export async function spawnHub({ databaseUrl, redisUrl, network, env = {} }) {
  const dir = mkdtempSync(join(tmpdir(), 'cf-chaos-hub-'));
  const networkFile = join(dir, 'network.geojson');
  writeFileSync(networkFile, JSON.stringify(network));
  const child = spawn(process.execPath, [HUB_BIN, 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      ...(redisUrl
        ? { REDIS_URL: redisUrl, CITYFLOW_REDIS_PREFIX: `chaos-${randomBytes(3).toString('hex')}:` }
        : {}),
      NETWORK_FILE: networkFile,
      PORT: '0',
      MQTT_PORT: '0',
      HOST: '127.0.0.1',
      JWT_SECRET: 'chaos-secret-0123456789abcdef',
      CITYFLOW_ADMIN_EMAIL: ADMIN.email,
      CITYFLOW_ADMIN_PASSWORD: ADMIN.password,
      CITYFLOW_CYCLE_INTERVAL_S: '3600',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', process.env.CHAOS_VERBOSE ? 'inherit' : 'ignore'],
  });
  let out = '';
  const started = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.length > 1e6) out = out.slice(-1e5);
      for (const line of out.split('\n'))
        if (line.includes('"hub started"')) return resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`hub exited ${code}: ${out.slice(-2000)}`)));
  });
  const apiUrl = started.api_url;
  const login = await (
    await fetch(`${apiUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    })
  ).json();
  return {
    child,
    apiUrl,
    mqttUrl: started.mqtt_url,
    networkFile,
    /** the hub process's resident set, bytes (Linux) */
    rss() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : 0;
      } catch {
        return 0;
      }
    },
    async addAgent(id) {
      const r = await fetch(`${apiUrl}/api/agents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${login.token}` },
        body: JSON.stringify({ agent_id: id }),
      });
      if (r.status !== 201) throw new Error(`POST /api/agents ${id}: ${r.status} ${await r.text()}`);
      return r.json();
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Item minutes start two days ago, so they are in the past (wall clock) and within every retention. */
const BASE_MS = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 86_400_000;
const minuteOf = (seq) => new Date(BASE_MS + seq * 60_000).toISOString();

/** A summary item of agent `i` (one reading-minute of `count` readings). */
export function item(i, seq, over = {}) {
  return {
    seq,
    sensor_id: `S-H${i}`,
    road_id: 'R0',
    minute: minuteOf(seq),
    count: 5,
    null_speed_count: 0,
    speed_mean: 40,
    speed_min: 30,
    speed_max: 50,
    flow_mean: 600,
    occupancy_mean: 0.1,
    ...over,
  };
}

/**
 * `count` protocol agents: `produce(n)` gives each n new items and sends them; `resend()` sends
 * everything above the watermark again (the agent's ack timeout). Counters are in readings
 * (`count` per item).
 */
export async function startFleet(hub, count, { batchMax = 200, incarnation } = {}) {
  const agents = [];
  for (let i = 0; i < count; i++) {
    const cred = await hub.addAgent(`H${i}`);
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      clientId: `agent:H${i}`,
      username: cred.username,
      password: cred.password,
      reconnectPeriod: 500,
    });
    client.on('error', () => {});
    const a = { i, client, sent: 0, watermark: 0, rejected: new Set() };
    client.on('message', (_t, p) => {
      const ack = JSON.parse(p.toString());
      if (incarnation && ack.incarnation !== incarnation) return;
      if (ack.watermark > a.watermark) a.watermark = ack.watermark;
      for (const r of ack.rejected ?? []) a.rejected.add(r.seq);
    });
    await client.subscribeAsync(`cityflow/v1/agents/H${i}/ack/+`, { qos: 1 });
    agents.push(a);
  }
  const publish = (a, from, to, over) => {
    const items = [];
    for (let s = from; s <= Math.min(to, from + batchMax - 1); s++) items.push(item(a.i, s, over?.(s, a.i)));
    if (!items.length) return Promise.resolve();
    const batch = { v: 1, agent_id: `H${a.i}`, stream: 'summary', sent_at: new Date().toISOString(), items };
    if (incarnation) batch.incarnation = incarnation;
    return a.client
      .publishAsync(`cityflow/v1/agents/H${a.i}/up/summary`, JSON.stringify(batch), { qos: 1 })
      .catch(() => {});
  };
  return {
    agents,
    get items() {
      return agents.reduce((n, a) => n + a.sent, 0);
    },
    get acked() {
      return agents.reduce((n, a) => n + a.watermark, 0);
    },
    async produce(n, over) {
      await Promise.all(
        agents.map((a) => {
          const from = a.sent + 1;
          a.sent += n;
          return publish(a, from, a.sent, over);
        }),
      );
    },
    resend(over) {
      return Promise.all(
        agents.map((a) => (a.watermark < a.sent ? publish(a, a.watermark + 1, a.sent, over) : undefined)),
      );
    },
    allAcked() {
      return agents.every((a) => a.watermark >= a.sent);
    },
    async close() {
      for (const a of agents) await a.client.endAsync(true).catch(() => {});
    },
  };
}

/** Readings stored and duplicated in the hub (one row per sensor-minute; each item is 5 readings). */
export async function hubCounts(schema) {
  const [r] = await schema.query(
    'SELECT coalesce(sum(count), 0)::bigint AS readings, count(*)::int AS rows, count(DISTINCT (sensor_id, minute))::int AS distinct FROM traffic_minute',
  );
  return { readings: Number(r.readings), rows: r.rows, distinct: r.distinct };
}
