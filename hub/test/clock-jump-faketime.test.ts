import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeWithService } from '../../test-support/services.js';
import { openDb } from '../src/db/db.js';
import { migrate } from '../src/db/migrations.js';
import { applyStoragePolicy } from '../src/db/storage-policy.js';
import { insertQuarantine } from '../src/store/quarantine-store.js';
import { until, writeNetwork } from './helpers.js';
import { freshSchemaUrl } from './pg-schema.js';

const BIN = fileURLToPath(new URL('../bin/cityflow-hub.js', import.meta.url));
const FAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const DAY = 86_400_000;

/**
 * Issue 10, fault 7, black-box: a real `cityflow-hub serve` whose whole process clock is a year ahead
 * (Debian's libfaketime), on PostgreSQL holding recent data. Its retention (run by the first cycle)
 * must delete nothing within retention of the newest data. Needs the `libfaketime` package.
 */
describeWithService('PG', 'a hub process started with its clock a year ahead (libfaketime)', (pgUrl) => {
  let hub: ChildProcess | undefined;
  let schema: Awaited<ReturnType<typeof freshSchemaUrl>> | undefined;
  afterAll(async () => {
    hub?.kill('SIGKILL');
    await schema?.drop();
  });

  it('keeps the month partitions, predictions, reroutes and dead letters of the last days', async () => {
    expect(existsSync(FAKETIME), `${FAKETIME} (apt-get install libfaketime)`).toBe(true);
    schema = await freshSchemaUrl(pgUrl);
    const db = await openDb(schema.url);
    await migrate(db);
    await applyStoragePolicy(db, (await import('pino')).default({ level: 'silent' }));
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const [sensor, at] of [
      ['S-1H', now - 3_600_000],
      ['S-10D', now - 10 * DAY],
    ] as const)
      await db.query(
        `INSERT INTO traffic_minute (minute, sensor_id, road_id, agent_id, seq, count, null_speed_count, flow_mean, occupancy_mean)
         VALUES (date_trunc('minute', $1::timestamptz), $2, 'R00-10', 'A1', 1, 5, 0, 100, 0.1)`,
        [iso(at), sensor],
      );
    await db.query(
      `INSERT INTO predictions (ts, target_ts, road_id, horizon_min, congestion_score, confidence, model_version)
       VALUES ($1, $2, 'R00-10', 30, 0.2, 0.5, 'cityflow-edge')`,
      [iso(now - 3_600_000), iso(now)],
    );
    await db.query(
      `INSERT INTO reroutes (ts, route_id, alt_route_id, reason, estimated_co2_gain, eta_gain_min, path, decision_node,
         diverted_share, valid_until, co2_gain_g_per_vehicle)
       VALUES ($1, 'R00-10', 'alt', 'test', 1, 1, '[]', 'N00', 0.1, $2, 1)`,
      [iso(now - 3_600_000), iso(now)],
    );
    await insertQuarantine(db, [
      { agentId: 'A1', stream: 'summary', code: 'CF_TS_FUTURE', message: 'm', payload: {} },
    ]);
    const counts = async () => {
      const r = await db.query<{ m: number; p: number; r: number; q: number }>(
        `SELECT (SELECT count(*)::int FROM traffic_minute) AS m, (SELECT count(*)::int FROM predictions) AS p,
                (SELECT count(*)::int FROM reroutes) AS r, (SELECT count(*)::int FROM quarantine) AS q`,
      );
      return r.rows[0]!;
    };
    expect(await counts()).toEqual({ m: 2, p: 1, r: 1, q: 1 });

    let out = '';
    hub = spawn(process.execPath, [BIN, 'serve'], {
      env: {
        ...process.env,
        LD_PRELOAD: FAKETIME,
        FAKETIME: '+365d',
        DATABASE_URL: schema.url,
        NETWORK_FILE: writeNetwork(),
        PORT: '0',
        MQTT_PORT: '0',
        HOST: '127.0.0.1',
        JWT_SECRET: 'faketime-secret-0123456789',
        CITYFLOW_CYCLE_INTERVAL_S: '1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    hub.stdout!.on('data', (d) => {
      out += d;
    });
    const started = JSON.parse(
      await until(() => out.split('\n').find((l) => l.includes('"hub started"')), 60_000, 100),
    );
    expect(new Date(started.time).getUTCFullYear()).toBeGreaterThan(new Date(now).getUTCFullYear()); // a year ahead
    // the first cycle runs retention after predictions and reroutes; the second shows it finished
    await until(
      async () => {
        const m = await (await fetch(`${started.api_url}/metrics`)).text();
        return Number(/cityflow_hub_cycle_seconds_count\{cycle="reroute"\} (\d+)/.exec(m)?.[1] ?? 0) >= 2;
      },
      90_000,
      500,
    );
    const after = await counts();
    expect(after.m).toBe(2);
    expect(after.q).toBe(1);
    expect(after.r).toBeGreaterThanOrEqual(1);
    expect(
      await db
        .query("SELECT 1 FROM predictions WHERE model_version = 'cityflow-edge'")
        .then((r) => r.rows.length),
    ).toBe(1);
    await db.close();
  }, 180_000);
});
