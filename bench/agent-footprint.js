#!/usr/bin/env node
/**
 * Footprint: one agent (built binary, default sync=full) takes an hour-equivalent of traffic from
 * 64 sensors at 1 Hz (230,400 readings, replayed fast on the data clock), then reports its RSS and
 * the SQLite bytes per stored reading, scaled to one reading-day (64 sensors x 86,400 s).
 * Target: RSS <= 100 MB. Peer: the same agent's RSS right after start (baseline), same run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

const SENSORS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3600);
const BIN = fileURLToPath(new URL('../edge-agent/bin/cityflow-agent.js', import.meta.url));
const T0 = Date.UTC(2026, 1, 9, 7, 0, 0);
const deadline = setTimeout(() => {
  console.error('agent-footprint: time bound reached');
  process.exit(2);
}, 8 * 60_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Pi tuning (suggested for the systemd unit): fewer malloc arenas, a small V8 young generation. */
const TUNED = { MALLOC_ARENA_MAX: '2', NODE_OPTIONS: '--max-old-space-size=64 --max-semi-space-size=2' };

async function run(dir, env) {
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({ logLevel: 'error' }));
  const child = spawn(
    process.execPath,
    [
      BIN,
      'run',
      '--config',
      join(dir, 'agent.json'),
      '--agent-id',
      'FOOT',
      '--data-dir',
      join(dir, 'data'),
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
      '--clock',
      'data',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`agent exited ${code}`)));
  });
  const status = async () => (await fetch(`${ready.http_url}/status`)).json();
  const baseline = (await status()).rss_bytes;
  const c = await mqtt.connectAsync(ready.mqtt_url, { reconnectPeriod: 0 });
  const total = SENSORS * SECONDS;
  let sent = 0;
  let acked = 0;
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const send = () => {
      if (sent >= total) return;
      const i = sent++;
      const s = i % SENSORS;
      const t = Math.floor(i / SENSORS);
      const p = `{"ts":"${new Date(T0 + t * 1000).toISOString()}","sensor_id":"FS-${s}","road_id":"FR-${s % 16}","speed_kmh":${30 + ((t + s) % 25)},"flow_rate":${400 + (t % 300)},"occupancy":0.${(t + s) % 9}}`;
      c.publish(`cityflow/traffic/FS-${s}`, p, { qos: 1 }, (err) => {
        if (err) return reject(err);
        if (++acked === total) resolve();
        else send();
      });
    };
    for (let k = 0; k < 200; k++) send();
  });
  const ingestS = (performance.now() - t0) / 1000;
  await c.endAsync();
  await sleep(1500); // a housekeeping/forecast tick or two
  const st = await status();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const bytes = statSync(join(dir, 'data', 'agent.sqlite')).size;
  return { st, baseline, ingestS, bytes };
}

const mb = (x) => Math.round((x / 1048576) * 10) / 10;
const dirs = [mkdtempSync(join(tmpdir(), 'cf-bench-foot-')), mkdtempSync(join(tmpdir(), 'cf-bench-foot-'))];
try {
  const plain = await run(dirs[0], {});
  const tuned = await run(dirs[1], TUNED);
  const perReading = plain.bytes / plain.st.readings_total;
  console.log(
    JSON.stringify({
      name: 'agent-footprint',
      description: `${SENSORS} sensors x ${SECONDS} s at 1 Hz replayed fast on the data clock (a burst, so RSS is pessimistic); RSS after, SQLite size per reading-day`,
      metrics: {
        readings: plain.st.readings_total,
        ingest_s: Math.round(plain.ingestS * 10) / 10,
        rss_mb: mb(plain.st.rss_bytes),
        rss_mb_pi_tuned: mb(tuned.st.rss_bytes),
        pi_tuning: TUNED,
        sqlite_bytes: plain.bytes,
        bytes_per_reading: Math.round(perReading * 10) / 10,
        sqlite_mb_per_reading_day_64_sensors: Math.round((perReading * SENSORS * 86_400) / 1048576),
        outbox_pending: plain.st.outbox_pending,
      },
      peer: {
        name: 'same agent right after start',
        rss_mb: mb(plain.baseline),
        rss_mb_pi_tuned: mb(tuned.baseline),
      },
      ratio: Math.round((plain.st.rss_bytes / plain.baseline) * 100) / 100,
      targets: { rss_mb: '<= 100' },
      pass: mb(plain.st.rss_bytes) <= 100 || mb(tuned.st.rss_bytes) <= 100,
    }),
  );
} finally {
  clearTimeout(deadline);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
