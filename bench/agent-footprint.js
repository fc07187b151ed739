#!/usr/bin/env node
/**
 * Footprint: one agent (built launcher `cityflow-agent run`, default sync=full, default memory
 * tuning) takes an hour-equivalent of traffic from 64 sensors at 1 Hz (230,400 readings) on the data
 * clock, two ways:
 *  - paced: 3,600 data-seconds in time order, each second's 64 readings published (QoS 1) and acked
 *    before the next, at a fixed speedup (BENCH_SPEEDUP, default 60 → one hour in one minute), RSS
 *    sampled throughout; reports max RSS, end RSS and end RSS after a full GC;
 *  - burst: the same readings as fast as the agent acks them (200 in flight) — pessimistic.
 * Peers (same run): the agent right after start, and the agent with its memory tuning switched off
 * (CITYFLOW_AGENT_TUNE=0 and sqliteCacheKb 16000: V8 and better-sqlite3 defaults, as before).
 * Also the SQLite bytes per stored reading, scaled to one reading-day (64 sensors × 86,400 s).
 * Target: RSS <= 100 MB. The agent runs with --expose-gc so `/status?gc` can report after-GC figures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

const SENSORS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3600);
const SPEEDUP = Number(process.env.BENCH_SPEEDUP ?? 60);
const BIN = fileURLToPath(new URL('../edge-agent/bin/cityflow-agent.js', import.meta.url));
const T0 = Date.UTC(2026, 1, 9, 7, 0, 0);
const deadline = setTimeout(() => {
  console.error('agent-footprint: time bound reached');
  process.exit(2);
}, 12 * 60_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (x) => Math.round((x / 1048576) * 10) / 10;

const payload = (s, t) =>
  `{"ts":"${new Date(T0 + t * 1000).toISOString()}","sensor_id":"FS-${s}","road_id":"FR-${s % 16}","speed_kmh":${30 + ((t + s) % 25)},"flow_rate":${400 + (t % 300)},"occupancy":0.${(t + s) % 9}}`;

async function startAgent(dir, env, cfg) {
  writeFileSync(
    join(dir, 'agent.json'),
    JSON.stringify({ logLevel: 'error', mqttPublishRatePerS: 0, ...cfg }),
  );
  const args = ['run', '--config', join(dir, 'agent.json'), '--agent-id', 'FOOT'];
  args.push('--data-dir', join(dir, 'data'), '--mqtt-port', '0', '--http-port', '0', '--clock', 'data');
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim();
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: nodeOptions, ...env },
  });
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`agent exited ${code}`)));
  });
  const status = async (gc = false) => (await fetch(`${ready.http_url}/status${gc ? '?gc' : ''}`)).json();
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  return { ready, status, stop };
}

const memOf = (st) => ({
  rss_mb: mb(st.rss_bytes),
  heap_used_mb: mb(st.heap_used_bytes),
  heap_total_mb: mb(st.heap_total_bytes),
  external_mb: mb(st.external_bytes),
});

/** Each data-second: 64 readings (one per sensor) published and acked, then wait for the next tick. */
async function paced(c, status) {
  const samples = [];
  const sampler = setInterval(() => {
    status().then(
      (st) => samples.push(st.rss_bytes),
      () => {},
    );
  }, 1000);
  const t0 = performance.now();
  let behind = 0;
  for (let t = 0; t < SECONDS; t++) {
    await Promise.all(
      Array.from({ length: SENSORS }, (_, s) =>
        c.publishAsync(`cityflow/traffic/FS-${s}`, payload(s, t), { qos: 1 }),
      ),
    );
    const wait = t0 + ((t + 1) * 1000) / SPEEDUP - performance.now();
    if (wait > 0) await sleep(wait);
    else behind++;
  }
  clearInterval(sampler);
  return { samples, seconds: (performance.now() - t0) / 1000, behind };
}

async function burst(c) {
  const total = SENSORS * SECONDS;
  let sent = 0;
  let acked = 0;
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const send = () => {
      if (sent >= total) return;
      const i = sent++;
      const s = i % SENSORS;
      c.publish(`cityflow/traffic/FS-${s}`, payload(s, Math.floor(i / SENSORS)), { qos: 1 }, (err) => {
        if (err) return reject(err);
        if (++acked === total) resolve();
        else send();
      });
    };
    for (let k = 0; k < 200; k++) send();
  });
  return { seconds: (performance.now() - t0) / 1000 };
}

async function run(mode, env, cfg = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cf-bench-foot-'));
  try {
    const a = await startAgent(dir, env, cfg);
    const start = await a.status(true);
    if (process.env.BENCH_DEBUG) console.error('start', JSON.stringify(memOf(start)));
    const c = await mqtt.connectAsync(a.ready.mqtt_url, { reconnectPeriod: 0 });
    const r = mode === 'paced' ? await paced(c, a.status) : await burst(c);
    await c.endAsync();
    await sleep(1500); // a housekeeping/forecast tick or two
    const end = await a.status();
    const endGc = await a.status(true);
    await a.stop();
    const bytes = statSync(join(dir, 'data', 'agent.sqlite')).size;
    const max = Math.max(end.rss_bytes, ...(r.samples ?? []));
    return {
      readings: end.readings_total,
      feed_s: Math.round(r.seconds * 10) / 10,
      ...(r.behind !== undefined ? { ticks_behind: r.behind, speedup: SPEEDUP } : {}),
      rss_start_mb: mb(start.rss_bytes),
      rss_max_mb: mb(max),
      rss_end_mb: mb(end.rss_bytes),
      end_after_gc: memOf(endGc),
      bytes_per_reading: Math.round((bytes / end.readings_total) * 10) / 10,
      outbox_pending: end.outbox_pending,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  const modes = (process.env.BENCH_MODES ?? 'paced,burst').split(',');
  const untuned = { CITYFLOW_AGENT_TUNE: '0' };
  const out = {};
  for (const m of modes) {
    out[m] = await run(m, {});
    out[`${m}_untuned`] = await run(m, untuned, { sqliteCacheKb: 16_000 });
  }
  const main = out.paced ?? out.burst;
  const perReading = main.bytes_per_reading;
  console.log(
    JSON.stringify({
      name: 'agent-footprint',
      description: `${SENSORS} sensors x ${SECONDS} s at 1 Hz on the data clock: paced at ${SPEEDUP}x (time order, each second acked before the next) and as a burst; RSS max/end/after GC; SQLite size per reading-day`,
      metrics: {
        ...out,
        sqlite_mb_per_reading_day_64_sensors: Math.round((perReading * SENSORS * 86_400) / 1048576),
      },
      peer: {
        name: 'same agent untuned: CITYFLOW_AGENT_TUNE=0, sqliteCacheKb 16000 (V8 and better-sqlite3 defaults)',
      },
      targets: { rss_mb: '<= 100 (max RSS, paced, default settings)' },
      pass: main.rss_max_mb <= 100,
    }),
  );
} finally {
  clearTimeout(deadline);
}
