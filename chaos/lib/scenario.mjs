/**
 * The shape every agent-side chaos fault shares: sensors publish for `seconds` of wall time, `inject`
 * runs the fault meanwhile and resolves when the fault has ended, then every minute sent is closed and
 * the hub's history is compared with what was sent, road-minute by road-minute:
 *   stored = samples in `/api/traffic/history` (1-minute buckets);
 *   lost = samples missing from a road-minute; duplicated = samples too many in one;
 *   recover_s = from the fault's end until the hub's ack watermark covers every summary the agent
 *   had assigned by then (polled on the agent's /status every 100 ms).
 */
import { startSensors, T0 } from './sensors.mjs';
import { startWorld } from './world.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      /* the agent may be restarting */
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until the hub's watermark (as acked to the agent) reaches `seq`; returns the seconds taken. */
export async function recoveredAfter(world, fromMs, seq, timeoutMs = 120_000) {
  await until(async () => (await world.status()).streams.summary.watermark >= seq, timeoutMs, 'watermark');
  return (Date.now() - fromMs) / 1000;
}

async function history(world, minutes) {
  const api = world.hub.apiUrl;
  const email = `chaos-${Date.now()}@city.test`;
  const reg = await fetch(`${api}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'password123' }),
  });
  const { token } = await reg.json();
  const from = new Date(T0).toISOString();
  const to = new Date(T0 + minutes * 60_000).toISOString();
  let buckets = [];
  let cursor = null;
  do {
    const q = `from=${from}&to=${to}&bucket=1m&limit=200${cursor ? `&before=${cursor}` : ''}`;
    const page = await (
      await fetch(`${api}/api/traffic/history?${q}`, { headers: { authorization: `Bearer ${token}` } })
    ).json();
    if (!Array.isArray(page.data)) throw new Error(`history: ${JSON.stringify(page)}`);
    buckets = buckets.concat(page.data);
    cursor = page.has_more ? page.next_cursor : null;
  } while (cursor);
  return buckets;
}

/**
 * `inject(world, sensors)` resolves with `{ endedMs, note? }` once the fault is over (endedMs: when).
 * `world` options go to startWorld (dataDir, agentConfig). Returns the chaos table row.
 */
export async function runScenario({ seconds = 12, stepMs = 25, world: worldOpts = {}, inject }) {
  const world = await startWorld(worldOpts);
  try {
    const sensors = await startSensors(world.mqttUrl, { sensors: world.sensors, roads: world.roads, stepMs });
    const fault = await inject(world, sensors);
    // the watermark target: every summary assigned when the fault ended
    const target = await until(
      async () => (await world.status()).streams.summary.highest_seq,
      60_000,
      'status',
    );
    const recovery = recoveredAfter(world, fault.endedMs, target);
    const left = seconds * 1000 - (Date.now() - fault.startedMs);
    if (left > 0) await sleep(left);
    const { dataSeconds, minutes } = await sensors.stop();
    const recover_s = await recovery;
    const expectSummaries = (minutes + 1) * world.sensors;
    await until(
      async () => {
        const s = (await world.status()).streams.summary;
        return s.highest_seq >= expectSummaries - world.sensors && s.watermark >= s.highest_seq;
      },
      120_000,
      'the hub to hold every summary',
    );
    const buckets = await history(world, minutes);
    // expected samples per road-minute: sensors s with s % roads == road, one per data-second
    const expected = new Map();
    for (let t = 0; t < dataSeconds; t++)
      for (let s = 0; s < world.sensors; s++) {
        const key = `CR-${s % world.roads}|${Math.floor(t / 60)}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
    const got = new Map();
    for (const b of buckets) {
      const key = `${b.road_id}|${Math.round((Date.parse(b.ts) - T0) / 60_000)}`;
      got.set(key, (got.get(key) ?? 0) + b.samples);
    }
    let lost = 0;
    let duplicated = 0;
    for (const k of new Set([...expected.keys(), ...got.keys()])) {
      const d = (got.get(k) ?? 0) - (expected.get(k) ?? 0);
      if (d > 0) duplicated += d;
      else lost -= d;
    }
    const stored = [...got.values()].reduce((a, b) => a + b, 0);
    const p = [...sensors.pubackMs].sort((a, b) => a - b);
    const p99 = p.length ? p[Math.min(p.length - 1, Math.floor(p.length * 0.99))] : null;
    return {
      sent: sensors.sent,
      acked: sensors.acked,
      stored,
      lost,
      duplicated,
      recover_s: Math.round(recover_s * 10) / 10,
      puback_p99_ms: p99 === null ? null : Math.round(p99 * 10) / 10,
      note: fault.note,
    };
  } finally {
    await world.close();
  }
}
