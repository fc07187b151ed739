#!/usr/bin/env node
/**
 * API latency (issue 4): GET /api/traffic/live at a fixed 2,000 req/s (uniformly paced, from a separate
 * load-generator process, bench/lib/paced-load.js; BENCH_LOADGEN=autocannon for the former), p99 with the
 * response cache on (in-process; and Redis when BENCH_REDIS_URL/CITYFLOW_TEST_REDIS_URL is set) and
 * off, each against a hub process (`cityflow-hub serve`) on PostgreSQL fed live data by an MQTT agent.
 * Goal: p99 ≤ 10 ms at 2,000 req/s. Bounded: BENCH_DURATION_S per variant (default 10).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEFAULT_NETWORK_FILE, loadNetworkFile, topics } from '@cityflow/protocol';
import autocannon from 'autocannon';
import mqtt from 'mqtt';
import pg from 'pg';

const BIN = fileURLToPath(new URL('../hub/bin/cityflow-hub.js', import.meta.url));
const PG_URL =
  process.env.BENCH_PG_URL ?? process.env.CITYFLOW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.CITYFLOW_TEST_REDIS_URL;
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const DURATION = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP_S ?? 5);
/** `paced` (default): bench/lib/paced-load.js in its own process; `autocannon`: the former in-process load. */
const LOADGEN = process.env.BENCH_LOADGEN ?? 'paced';
const PACED = fileURLToPath(new URL('./lib/paced-load.js', import.meta.url));
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

/**
 * `duration` s of GET `url` at RATE req/s over 50 keep-alive connections. The default generator sends
 * uniformly paced requests from a separate process and measures from each request's due time;
 * autocannon's overallRate sends each second's quota as a burst at the start of the second and pads
 * its histogram with synthetic samples (see lib/paced-load.js), so its p99 is not the server's.
 */
async function load(url, duration, token) {
  if (LOADGEN === 'autocannon') {
    const r = await autocannon({
      url,
      connections: 50,
      overallRate: RATE,
      duration,
      headers: { authorization: `Bearer ${token}` },
    });
    return {
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      max_ms: r.latency.max,
      req_per_s: Math.round(r.requests.average),
      non2xx: r.non2xx,
      errors: r.errors,
    };
  }
  const arg = JSON.stringify({
    url,
    rate: RATE,
    duration_s: duration,
    connections: 50,
    headers: { authorization: `Bearer ${token}` },
  });
  const out = await new Promise((resolve, reject) =>
    execFile(process.execPath, [PACED, arg], { timeout: (duration + 30) * 1000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
  const r = JSON.parse(out);
  return {
    p50_ms: r.p50_ms,
    p90_ms: r.p90_ms,
    p99_ms: r.p99_ms,
    max_ms: r.max_ms,
    req_per_s: r.req_per_s,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

async function startHubProcess(extraEnv) {
  const proc = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      ...process.env,
      PORT: '0',
      MQTT_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'bench-secret-0123456789abc',
      CITYFLOW_ADMIN_EMAIL: 'bench@city.test',
      CITYFLOW_ADMIN_PASSWORD: 'bench-password',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => proc.kill('SIGKILL'));
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
  });
  return { proc, out: () => out };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** LOG_LEVEL=warn: at info the hub logs every request, which is not what this measures. */
async function hubUrls(proc, outFn, port, mqttPort) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { api_url: `http://127.0.0.1:${port}`, mqtt_url: `mqtt://127.0.0.1:${mqttPort}` };
    if (Date.now() > deadline || proc.exitCode !== null)
      throw new Error(`hub did not start: ${outFn().slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function variant(name, extraEnv) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const u = new URL(PG_URL);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const port = await freePort();
  const mqttPort = await freePort();
  const { proc, out } = await startHubProcess({
    DATABASE_URL: u.toString(),
    PORT: String(port),
    MQTT_PORT: String(mqttPort),
    ...extraEnv,
  });
  try {
    const { api_url: api, mqtt_url: mqttUrl } = await hubUrls(proc, out, port, mqttPort);
    const post = async (path, body, token) =>
      (
        await fetch(`${api}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        })
      ).json();
    const { token } = await post('/api/auth/login', { email: 'bench@city.test', password: 'bench-password' });
    // Live state of every road of the default city, sent by its agents.
    const net = loadNetworkFile(DEFAULT_NETWORK_FILE);
    for (const [agentId, slice] of net.agents) {
      const c = await post('/api/agents', { agent_id: agentId }, token);
      const client = await mqtt.connectAsync(mqttUrl, {
        clientId: `agent:${agentId}`,
        username: c.username,
        password: c.password,
      });
      const ts = new Date().toISOString();
      const roads = slice.roads.map((road_id, i) => ({
        road_id,
        ts,
        speed_kmh: 20 + i,
        flow_rate: 600,
        occupancy: 0.2,
        congestion_score: 0.3,
        sensors: 2,
        samples: 20,
      }));
      await client.publishAsync(
        topics.uplink(agentId, 'live'),
        JSON.stringify({ v: 1, agent_id: agentId, stream: 'live', ts, roads }),
        { qos: 1 },
      );
      await client.endAsync();
    }
    await new Promise((r) => setTimeout(r, 500));
    const url = `${api}/api/traffic/live?limit=50`;
    const check = await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json();
    // Steady state is what the goal is about: a fresh process spends its first seconds compiling the
    // route (JIT) and sizing its heap, stalls that would otherwise sit in the measured p99.
    log(`${name}: warm-up ${WARMUP} s at ${RATE} req/s (not measured)`);
    await load(url, WARMUP, token);
    log(`${name}: ${check.data.length} roads live; ${RATE} req/s for ${DURATION} s (${LOADGEN})`);
    return await load(url, DURATION, token);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

const off = await variant('cache off', { CITYFLOW_CACHE: 'false' });
const on = await variant('cache on (in-process)', { CITYFLOW_CACHE: 'true' });
const redis = REDIS_URL ? await variant('cache on (Redis)', { CITYFLOW_CACHE: 'true', REDIS_URL }) : null;
console.log(
  JSON.stringify({
    name: 'hub-api',
    metrics: {
      rate_req_s: RATE,
      load_generator: LOADGEN,
      duration_s: DURATION,
      warmup_s: WARMUP,
      cache_in_process: on,
      ...(redis ? { cache_redis: redis } : {}),
      goal_p99_ms: 10,
    },
    peer: { name: 'cache off', ...off },
    ratio: Number((on.p99_ms / Math.max(off.p99_ms, 0.001)).toFixed(3)),
  }),
);
process.exit(0);
