import { validateReading } from '@cityflow/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BrokerPool } from '../src/broker-pool.js';
import { LoadGenerator } from '../src/load.js';
import { startBroker } from './helpers/broker.js';

const log = pino({ level: 'silent' });

describe('load generator over real MQTT', () => {
  it('sends exactly rate x duration valid readings, round-robin over the sensors, all acknowledged', async () => {
    const b = await startBroker();
    const pool = new BrokerPool(new Map([['a', b.url]]), 1, log);
    await pool.start();
    try {
      const sensors = ['s-0', 's-1', 's-2'].map((id) => ({ sensorId: id, roadId: 'R', agentId: 'a' }));
      const stats = await new LoadGenerator({
        pool,
        sensors,
        ratePerS: 400,
        durationS: 0.5,
        maxInFlight: 1,
        log,
      }).run();
      expect(stats).toMatchObject({ target: 200, sent: 200, acked: 200, failed: 0 });
      expect(stats.latency_ms.p50).not.toBeNull();
      expect(b.messages).toHaveLength(200);
      const ids = b.messages.map((m) => JSON.parse(m.payload).sensor_id);
      expect(ids.slice(0, 6)).toEqual(['s-0', 's-1', 's-2', 's-0', 's-1', 's-2']);
      for (const m of b.messages) expect(validateReading(JSON.parse(m.payload)).ok).toBe(true);
    } finally {
      await pool.stop();
      await b.stop();
    }
  });

  it('counts readings to a broker that is gone as failed, not acked', async () => {
    const b = await startBroker();
    const pool = new BrokerPool(new Map([['a', b.url]]), 0, log);
    await pool.start();
    try {
      const sensors = [{ sensorId: 's-0', roadId: 'R', agentId: 'nobody' }];
      const stats = await new LoadGenerator({
        pool,
        sensors,
        ratePerS: 100,
        durationS: 0.1,
        maxInFlight: 10,
        log,
      }).run();
      expect(stats).toMatchObject({ target: 10, sent: 10, acked: 0, failed: 10 });
    } finally {
      await pool.stop();
      await b.stop();
    }
  });
});
