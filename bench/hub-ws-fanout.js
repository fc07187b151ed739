#!/usr/bin/env node
/**
 * WebSocket fan-out (issue 4): BENCH_CLIENTS (default 5,000) clients on /ws/live of a hub process;
 * an MQTT agent publishes live snapshots; latency = delivery time at each client − publish time at the
 * agent (same machine clock), i.e. ingest → stored → fan-out → delivered. Goal: p99 ≤ 250 ms.
 * Needs `ulimit -n` above 2 × clients (the hub and this script each hold one socket per client).
 * Peer: the same run with BENCH_PEER_CLIENTS (default 100) clients.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEFAULT_NETWORK_FILE, loadNetworkFile, topics } from '@cityflow/protocol';
import mqtt from 'mqtt';
import WebSocket from 'ws';

const BIN = fileURLToPath(new URL('../hub/bin/cityflow-hub.js', import.meta.url));
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 5000);
const PEER_CLIENTS = Number(process.env.BENCH_PEER_CLIENTS ?? 100);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20);
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null;

async function run(clients) {
  const port = await freePort();
  const mqttPort = await freePort();
  const proc = spawn(process.execPath, [BIN, 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: 'pglite://memory',
      PORT: String(port),
      MQTT_PORT: String(mqttPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'bench-secret-0123456789abc',
      CITYFLOW_ADMIN_EMAIL: 'bench@city.test',
      CITYFLOW_ADMIN_PASSWORD: 'bench-password',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.once('exit', () => proc.kill('SIGKILL'));
  const api = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (
        await fetch(`${api}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 600) throw new Error('hub did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
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
    const net = loadNetworkFile(DEFAULT_NETWORK_FILE);
    const [agentId, slice] = [...net.agents][0];
    const road = slice.roads[0];
    const creds = await post('/api/agents', { agent_id: agentId }, token);

    const latencies = [];
    const sockets = [];
    const sent = new Map();
    for (let i = 0; i < clients; i += 250) {
      await Promise.all(
        Array.from({ length: Math.min(250, clients - i) }, async () => {
          const ws = new WebSocket(`${api.replace('http', 'ws')}/ws/live?token=${token}`);
          ws.on('message', (raw) => {
            const now = performance.timeOrigin + performance.now();
            const m = JSON.parse(raw.toString());
            if (m.type !== 'traffic' || m.data.road_id !== road) return;
            const t = sent.get(m.data.speed_kmh);
            if (t !== undefined) latencies.push(now - t);
          });
          await new Promise((res, rej) => ws.once('open', res).once('error', rej));
          ws.send(JSON.stringify({ type: 'subscribe', roads: [road] }));
          sockets.push(ws);
        }),
      );
    }
    log(`${clients} WebSocket clients connected`);
    await new Promise((r) => setTimeout(r, 1000));
    const agent = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      clientId: `agent:${agentId}`,
      username: creds.username,
      password: creds.password,
    });
    for (let k = 1; k <= MESSAGES; k++) {
      const speed = 1000 + k; // a unique value identifies the message
      const ts = new Date().toISOString();
      sent.set(speed, performance.timeOrigin + performance.now());
      const r = {
        road_id: road,
        ts,
        speed_kmh: speed,
        flow_rate: 600,
        occupancy: 0.2,
        congestion_score: 0.3,
        sensors: 2,
        samples: 20,
      };
      agent.publish(
        topics.uplink(agentId, 'live'),
        JSON.stringify({ v: 1, agent_id: agentId, stream: 'live', ts, roads: [r] }),
        { qos: 0 },
      );
      await new Promise((res) => setTimeout(res, 500));
    }
    await new Promise((r) => setTimeout(r, 2000));
    await agent.endAsync();
    for (const s of sockets) s.terminate();
    latencies.sort((a, b) => a - b);
    return {
      clients,
      messages: MESSAGES,
      deliveries: latencies.length,
      expected_deliveries: clients * MESSAGES,
      p50_ms: Number(pct(latencies, 0.5)?.toFixed(1)),
      p99_ms: Number(pct(latencies, 0.99)?.toFixed(1)),
      max_ms: Number(latencies.at(-1)?.toFixed(1)),
    };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

const peer = await run(PEER_CLIENTS);
const main = await run(CLIENTS);
console.log(
  JSON.stringify({
    name: 'hub-ws-fanout',
    metrics: { ...main, goal_p99_ms: 250 },
    peer: { name: `${PEER_CLIENTS} clients`, ...peer },
    ratio: Number((main.p99_ms / Math.max(peer.p99_ms, 0.1)).toFixed(2)),
  }),
);
process.exit(0);
