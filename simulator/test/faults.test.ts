import { parseReadingMessage, parseTopic } from '@cityflow/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BrokerPool } from '../src/broker-pool.js';
import { SimClock } from '../src/clock.js';
import { FAULT_KINDS, FAULT_KIND_LIST, FaultInjector, corrupt } from '../src/faults.js';
import { SensorFleet } from '../src/fleet.js';
import { createRng } from '../src/rng.js';
import { NormalScenario } from '../src/scenarios/normal.js';
import { startBroker } from './helpers/broker.js';
import { fixtureNetwork } from './helpers/network.js';

const good = {
  ts: '2026-03-02T08:00:00Z',
  sensor_id: 's-AB-0',
  road_id: 'AB',
  speed_kmh: 31.2,
  flow_rate: 540,
  occupancy: 0.12,
};

describe('fault injection', () => {
  it.each(FAULT_KIND_LIST)('%s is rejected by the protocol with its expected code', (kind) => {
    const msg = corrupt(good, kind);
    const t = parseTopic(msg.topic);
    expect(t).toEqual({ kind: 'sensor', sensorId: 's-AB-0' });
    const r = parseReadingMessage('s-AB-0', msg.payload);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe(FAULT_KINDS[kind]);
  });

  it('replaces about the requested share of readings, cycling through the kinds', () => {
    const inj = new FaultInjector(0.2, createRng(1));
    const out = Array.from({ length: 5000 }, () => inj.maybe(good));
    const faults = out.filter((m) => m !== null);
    expect(faults.length).toBeGreaterThan(900);
    expect(faults.length).toBeLessThan(1100);
    expect(inj.injected).toBe(faults.length);
    const codes = new Set(
      faults.map((m) => {
        const r = parseReadingMessage('s-AB-0', m!.payload);
        return r.ok ? 'ok' : r.code;
      }),
    );
    expect([...codes].sort()).toEqual([...new Set(Object.values(FAULT_KINDS))].sort());
    expect(new FaultInjector(0, createRng(1)).maybe(good)).toBeNull();
  });

  it('a fleet with faults on still sends one message per sensor, the rest of them valid and unchanged', async () => {
    const net = fixtureNetwork();
    const b = await startBroker();
    const log = pino({ level: 'silent' });
    const pool = new BrokerPool(new Map([...net.agents.keys()].map((a) => [a, b.url])), 1, log);
    await pool.start();
    try {
      const clock = new SimClock('data', Date.parse('2026-03-02T08:00:00Z'), 1, () => 0);
      const scenario = new NormalScenario({ network: net, utcOffsetH: 0 });
      const clean = new SensorFleet({ network: net, pool, scenario, clock, intervalS: 3600, log });
      const faulty = new SensorFleet({
        network: net,
        pool,
        scenario,
        clock,
        intervalS: 3600,
        log,
        faultShare: 0.5,
      });
      await clean.tick();
      const cleanMsgs = b.messages.splice(0);
      await faulty.tick();
      expect(b.messages).toHaveLength(net.sensors.size);
      expect(faulty.faults.injected).toBeGreaterThan(0);
      const valid = b.messages.filter((m) => {
        const t = parseTopic(m.topic);
        return t?.kind === 'sensor' && parseReadingMessage(t.sensorId, m.payload).ok;
      });
      expect(valid.length).toBe(net.sensors.size - faulty.faults.injected);
      // Faults draw from their own random stream: the readings that stay valid are the clean run's.
      for (const m of valid) expect(cleanMsgs.map((c) => c.payload)).toContain(m.payload);
    } finally {
      await pool.stop();
      await b.stop();
    }
  });
});
