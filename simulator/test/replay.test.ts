import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerPool } from '../src/broker-pool.js';
import { CsvReplay } from '../src/replay.js';
import { type TestBroker, startBroker } from './helpers/broker.js';
import { fixtureNetwork } from './helpers/network.js';

const log = pino({ level: 'silent' });
const net = fixtureNetwork();
const CSV = [
  'ts,sensor_id,road_id,speed_kmh,flow_rate,occupancy',
  '2026-03-02T06:00:00Z,s-AB-0,AB,42.5,120.0,0.050',
  '2026-03-02T06:00:00Z,s-BC-1,BC,,0.0,0.000',
  '2026-03-02T06:00:00Z,e1_other_0,other,30,60,0.02',
  '2026-03-02T06:01:00Z,s-AB-0,AB,not-a-number,120.0,0.050',
  '2026-03-02T06:01:00Z,s-AB-1,AB,38.0,180.0,0.070',
  '2026-03-02T06:03:00Z,s-CB-0,CB,25.0,300.0,0.120',
].join('\n');

describe('CSV replay over real MQTT', () => {
  let dir: string;
  let broker: TestBroker;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cf-replay-'));
    writeFileSync(join(dir, 'sensors.csv'), `${CSV}\n`);
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function replay(extra: { rebaseToMs?: number; fallbackAgent?: string; csv?: string }) {
    broker.messages.length = 0;
    const brokers = new Map([...net.agents.keys()].map((a) => [a, broker.url]));
    brokers.set('*', broker.url);
    const pool = new BrokerPool(brokers, 1, log);
    await pool.start();
    let wall = 0;
    const waits: number[] = [];
    const r = new CsvReplay({
      csvPath: extra.csv ?? join(dir, 'sensors.csv'),
      network: net,
      pool,
      fallbackAgent: extra.fallbackAgent,
      speedup: 60,
      rebaseToMs: extra.rebaseToMs,
      log,
      wallNow: () => wall,
      sleep: async (ms) => {
        waits.push(ms);
        wall += ms;
      },
    });
    try {
      return { stats: await r.run(), waits };
    } finally {
      await pool.stop();
    }
  }

  it('publishes rows in order, paced by their timestamps over the speed-up, skipping invalid rows', async () => {
    const { stats, waits } = await replay({});
    // 60 s of data at 60x = 1 s of wall time between the first two groups, then 2 s.
    expect(waits).toEqual([1000, 2000]);
    expect(stats).toMatchObject({ rows: 6, invalid: 1, unknownSensor: 1, published: 4 });
    expect(stats.firstTs).toBe('2026-03-02T06:00:00Z');
    expect(stats.lastTs).toBe('2026-03-02T06:03:00Z');
    const got = broker.messages.map((m) => JSON.parse(m.payload));
    expect(got.map((r) => r.sensor_id)).toEqual(['s-AB-0', 's-BC-1', 's-AB-1', 's-CB-0']);
    expect(broker.messages[0]!.topic).toBe('cityflow/traffic/s-AB-0');
    // An empty speed is a null speed (nobody passed), not a zero.
    expect(got[1]).toEqual({
      ts: '2026-03-02T06:00:00Z',
      sensor_id: 's-BC-1',
      road_id: 'BC',
      speed_kmh: null,
      flow_rate: 0,
      occupancy: 0,
    });
  });

  it('rebases timestamps and routes unknown sensors to the single broker when asked', async () => {
    const base = Date.parse('2026-11-27T15:00:00Z');
    const { stats } = await replay({ rebaseToMs: base, fallbackAgent: '*' });
    expect(stats.published).toBe(5);
    const ts = broker.messages.map((m) => JSON.parse(m.payload).ts);
    expect(ts).toEqual([
      '2026-11-27T15:00:00Z',
      '2026-11-27T15:00:00Z',
      '2026-11-27T15:00:00Z',
      '2026-11-27T15:01:00Z',
      '2026-11-27T15:03:00Z',
    ]);
  });

  it('refuses a CSV without the long-layout columns', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'time,id,value\n1,2,3\n');
    await expect(replay({ csv: bad })).rejects.toThrow(
      /missing column\(s\) ts, sensor_id, road_id, speed_kmh, flow_rate, occupancy/,
    );
  });
});
