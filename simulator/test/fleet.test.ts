import { parseTopic, validateReading } from '@cityflow/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BrokerPool } from '../src/broker-pool.js';
import { resolveBrokers } from '../src/brokers.js';
import { SimClock } from '../src/clock.js';
import { SensorFleet } from '../src/fleet.js';
import { NormalScenario } from '../src/scenarios/normal.js';
import { type TestBroker, startBroker } from './helpers/broker.js';
import { fixtureNetwork } from './helpers/network.js';

const log = pino({ level: 'silent' });
const net = fixtureNetwork();

describe('sensor fleet over real MQTT', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function fleetOn(brokers: Map<string, string>, qos: 0 | 1, clock: SimClock) {
    const pool = new BrokerPool(brokers, qos, log);
    await pool.start();
    cleanup.push(() => pool.stop());
    const fleet = new SensorFleet({
      network: net,
      pool,
      scenario: new NormalScenario({ network: net, utcOffsetH: 0 }),
      clock,
      intervalS: 3600,
      log,
    });
    cleanup.push(() => fleet.stop());
    return { pool, fleet };
  }

  it("publishes one valid reading per sensor to its own agent's broker, topic matching the payload", async () => {
    const b1 = await startBroker();
    const b2 = await startBroker();
    cleanup.push(b1.stop, b2.stop);
    const demo = {
      api_url: 'http://x',
      hub_mqtt_url: 'mqtt://x',
      demo_user: { email: 'a@b.c', password: 'p' },
      agents: [
        { agent_id: 'agent-1', mqtt_url: b1.url, http_url: 'http://x', data_dir: '/tmp/a1' },
        { agent_id: 'agent-2', mqtt_url: b2.url, http_url: 'http://x', data_dir: '/tmp/a2' },
      ],
    };
    const clock = new SimClock('data', Date.parse('2026-03-02T08:00:00Z'), 1, () => 0);
    const { fleet, pool } = await fleetOn(resolveBrokers(net, { demo }), 1, clock);
    expect(await fleet.tick()).toBe(net.sensors.size);
    expect(pool.published).toBe(net.sensors.size);
    const expectOn = (b: TestBroker, agent: string) => {
      const want = net.agents.get(agent)!.sensors.sort();
      const got = b.messages.map((m) => {
        const t = parseTopic(m.topic);
        const v = validateReading(JSON.parse(m.payload));
        expect(v.ok).toBe(true);
        expect(t).toEqual({ kind: 'sensor', sensorId: v.ok ? v.reading.sensor_id : '?' });
        expect(v.ok && v.reading.ts).toBe('2026-03-02T08:00:00Z');
        return v.ok ? v.reading.sensor_id : '';
      });
      expect(got.sort()).toEqual(want);
    };
    expectOn(b1, 'agent-1');
    expectOn(b2, 'agent-2');
  });

  it('stamps readings with the data clock, sped up', async () => {
    const b = await startBroker();
    cleanup.push(b.stop);
    let wall = 1_000_000;
    const clock = new SimClock('data', Date.parse('2026-03-02T08:00:00Z'), 60, () => wall);
    const { fleet } = await fleetOn(resolveBrokers(net, { broker: b.url }), 0, clock);
    await fleet.tick();
    wall += 5000; // 5 wall seconds at 60x = 5 simulated minutes
    await fleet.tick();
    await new Promise((r) => setTimeout(r, 100)); // QoS 0: give the broker time to route
    const stamps = new Set(b.messages.map((m) => JSON.parse(m.payload).ts));
    expect([...stamps].sort()).toEqual(['2026-03-02T08:00:00Z', '2026-03-02T08:05:00Z']);
  });

  it('stops at once even with a QoS 1 reading in flight to a broker that died', async () => {
    const b = await startBroker();
    const pool = new BrokerPool(new Map([['agent-1', b.url]]), 1, log);
    await pool.start();
    await b.stop();
    void pool.publish('agent-1', {
      ts: '2026-03-02T08:00:00Z',
      sensor_id: 's-AB-0',
      road_id: 'AB',
      speed_kmh: 30,
      flow_rate: 60,
      occupancy: 0.1,
    });
    const t0 = Date.now();
    await pool.stop();
    // The bug was a stop() that never returned; 10 s is far from both that and a loaded CI machine.
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('keeps one round in flight at most: rounds are skipped, not queued, while the broker is gone', async () => {
    const b = await startBroker();
    const clock = new SimClock('data', Date.parse('2026-03-02T08:00:00Z'), 1, () => 0);
    const { fleet } = await fleetOn(resolveBrokers(net, { broker: b.url }), 1, clock);
    await b.stop();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      fleet.start();
      vi.advanceTimersByTime(3600 * 1000 * 3);
      expect(fleet.skipped).toBe(3);
      expect(fleet.ticks).toBe(0);
    } finally {
      fleet.stop();
      vi.useRealTimers();
    }
  });

  it('fails clearly when a broker cannot be reached', async () => {
    const pool = new BrokerPool(new Map([['agent-1', 'mqtt://127.0.0.1:1']]), 0, log, 500);
    cleanup.push(() => pool.stop());
    await expect(pool.start()).rejects.toThrow(/cannot connect to broker mqtt:\/\/127.0.0.1:1/);
  });
});

describe('sim clock', () => {
  it('follows the wall clock in wall mode and refuses a speed-up there', () => {
    let wall = 5000;
    const c = new SimClock('wall', undefined, 1, () => wall);
    wall = 7000;
    expect(c.now()).toBe(7000);
    expect(() => new SimClock('wall', undefined, 10)).toThrow(/--speedup\/--start need --clock data/);
    expect(() => new SimClock('data', undefined, 0)).toThrow(/--speedup: must be > 0/);
  });

  it('runs from the chosen start at the speed-up in data mode', () => {
    let wall = 0;
    const c = new SimClock('data', 1_000_000, 10, () => wall);
    wall = 3000;
    expect(c.now()).toBe(1_030_000);
    c.reset();
    expect(c.now()).toBe(1_000_000);
  });
});
