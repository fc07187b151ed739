#!/usr/bin/env node
/**
 * Durable QoS 1 ingest through the edge agent (broker + validation + SQLite group commit before the
 * PUBACK) vs the PUBACK rate of a bare Mosquitto (no subscriber, no persistence) — same mqtt.js
 * client, 200 in flight, same machine, same run. Then p50/p99 PUBACK latency at a paced 5k readings/s.
 *   node bench/agent-ingest.js            (BENCH_N=100000 readings, BENCH_ROUNDS=3; runs sync=full and sync=normal agents)
 * Prints one JSON object on stdout. Needs `npx tsc -b` (uses the built agent) and `mosquitto`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_VERSION } from '@cityflow/edge-agent';
import mqtt from 'mqtt';

const N = Number(process.env.BENCH_N ?? 100_000);
const INFLIGHT = 200;
const RATE = 5000;
const PACED_S = Number(process.env.BENCH_PACED_S ?? 6);
const SENSORS = 64;
const BIN = fileURLToPath(new URL('../edge-agent/bin/cityflow-agent.js', import.meta.url));
const deadline = setTimeout(() => {
  console.error('agent-ingest: time bound reached');
  process.exit(2);
}, 8 * 60_000);

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const payloads = Array.from({ length: SENSORS }, (_, i) => `S-${String(i).padStart(3, '0')}`);
function message(i) {
  const sensor = payloads[i % SENSORS];
  const p = `{"ts":"${new Date().toISOString()}","sensor_id":"${sensor}","road_id":"R-${i % 16}","speed_kmh":${20 + (i % 50)},"flow_rate":${300 + (i % 400)},"occupancy":0.${i % 9}}`;
  return [`cityflow/traffic/${sensor}`, p];
}

/** 200 in flight, one client: readings/s of PUBACKs. */
async function throughput(url, n) {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, clean: true });
  const t0 = performance.now();
  let sent = 0;
  let acked = 0;
  await new Promise((resolve, reject) => {
    const send = () => {
      if (sent >= n) return;
      const [t, p] = message(sent++);
      c.publish(t, p, { qos: 1 }, (err) => {
        if (err) return reject(err);
        if (++acked === n) resolve();
        else send();
      });
    };
    for (let k = 0; k < INFLIGHT; k++) send();
  });
  const s = (performance.now() - t0) / 1000;
  await c.endAsync();
  return { readings: n, seconds: Math.round(s * 100) / 100, per_s: Math.round(n / s) };
}

/** Paced at RATE/s: PUBACK latency percentiles. */
async function latency(url) {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, clean: true });
  const lat = [];
  const total = RATE * PACED_S;
  const t0 = performance.now();
  let i = 0;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
      while (i < due) {
        const start = performance.now();
        const [t, p] = message(i++);
        c.publish(t, p, { qos: 1 }, () => {
          lat.push(performance.now() - start);
          if (lat.length === total) resolve();
        });
      }
      if (i >= total) clearInterval(timer);
    }, 2);
  });
  await c.endAsync();
  lat.sort((a, b) => a - b);
  const q = (p) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 100) / 100;
  return { rate_per_s: RATE, readings: total, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: q(1) };
}

function startMosquitto(port) {
  return new Promise((resolve, reject) => {
    const child = spawn('mosquitto', ['-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.once('error', reject);
    const t = setInterval(async () => {
      try {
        const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
        await c.endAsync();
        clearInterval(t);
        resolve(child);
      } catch {}
    }, 50);
  });
}

const stop = (child) =>
  new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', r);
    child.kill('SIGTERM');
  });

async function spawnAgent(dir, sync) {
  writeFileSync(
    join(dir, `${sync}.json`),
    JSON.stringify({ sync, logLevel: 'error', liveIntervalS: 3600, mqttPublishRatePerS: 0 }),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--config',
        join(dir, `${sync}.json`),
        '--agent-id',
        'BENCH',
        '--data-dir',
        join(dir, sync),
        '--mqtt-port',
        '0',
        '--http-port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CITYFLOW_CLOCK: 'wall' } },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'));
      if (line) resolve({ child, url: JSON.parse(line).mqtt_url, http: JSON.parse(line).http_url });
    });
    child.once('exit', (code) => reject(new Error(`agent exited ${code}`)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const dir = mkdtempSync(join(tmpdir(), 'cf-bench-agent-'));
try {
  // The machine may be shared: rounds interleave the three brokers so load affects them alike.
  const full = await spawnAgent(dir, 'full');
  const normal = await spawnAgent(dir, 'normal');
  const port = await freePort();
  const mosq = await startMosquitto(port);
  const mosqUrl = `mqtt://127.0.0.1:${port}`;
  const runs = { full: [], normal: [], mosquitto: [] };
  for (const [, url] of [
    ['full', full.url],
    ['normal', normal.url],
    ['mosquitto', mosqUrl],
  ])
    await throughput(url, 5000); // warm-up
  for (let r = 0; r < ROUNDS; r++)
    for (const [k, url] of [
      ['full', full.url],
      ['normal', normal.url],
      ['mosquitto', mosqUrl],
    ])
      runs[k].push((await throughput(url, N)).per_s);
  const lat = {
    full: await latency(full.url),
    normal: await latency(normal.url),
    mosquitto: await latency(mosqUrl),
  };
  const stored = (await (await fetch(`${full.http}/status`)).json()).readings_total;
  await Promise.all([stop(full.child), stop(normal.child), stop(mosq)]);
  const perS = { full: median(runs.full), normal: median(runs.normal), mosquitto: median(runs.mosquitto) };
  const ratio = Math.round((perS.full / perS.mosquitto) * 100) / 100;
  const ratioNormal = Math.round((perS.normal / perS.mosquitto) * 100) / 100;
  console.log(
    JSON.stringify({
      name: 'agent-ingest',
      description: `durable QoS 1 ingest of ${N} readings, 1 mqtt.js client, ${INFLIGHT} in flight, median of ${ROUNDS} interleaved rounds vs bare Mosquitto; ratio = default sync=full`,
      metrics: {
        readings_per_s: perS.full,
        readings_per_s_sync_normal: perS.normal,
        ratio_sync_normal: ratioNormal,
        p50_puback_ms_at_5k: lat.full.p50_ms,
        p99_puback_ms_at_5k: lat.full.p99_ms,
        p99_puback_ms_at_5k_sync_normal: lat.normal.p99_ms,
        rounds: runs,
        stored_full: stored,
        version: AGENT_VERSION,
      },
      peer: {
        name: 'mosquitto',
        readings_per_s: perS.mosquitto,
        p50_puback_ms_at_5k: lat.mosquitto.p50_ms,
        p99_puback_ms_at_5k: lat.mosquitto.p99_ms,
      },
      ratio,
      targets: { ratio: '>= 0.7', p99_puback_ms_at_5k: '< 20' },
      pass: ratio >= 0.7 && lat.full.p99_ms < 20,
    }),
  );
} finally {
  clearTimeout(deadline);
  rmSync(dir, { recursive: true, force: true });
}
