import { topics } from '@cityflow/protocol';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithService } from '../../test-support/services.js';
import type { RunningHub } from '../src/hub.js';
import { TEST_REDIS_PREFIX, agentClient, testHub, until } from './helpers.js';

describeWithService('REDIS', 'response cache in Redis', (redisUrl) => {
  let hub: RunningHub;
  let token: string;
  let agent: Awaited<ReturnType<typeof agentClient>>;
  beforeAll(async () => {
    hub = await testHub({ redisUrl });
    token = (
      await hub.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email: `r${Date.now()}@c.test`, password: 'password123' },
      })
    ).json().token;
    agent = await agentClient(hub, await hub.addAgent('A1'));
  });
  afterAll(async () => {
    await agent?.client.endAsync();
    await hub?.stop();
  });
  const live = async () =>
    (
      await hub.app.inject({
        url: '/api/traffic/live?road_id=R00-10',
        headers: { authorization: `Bearer ${token}` },
      })
    ).json();
  const hits = async () => {
    const m = (await hub.app.inject({ url: '/metrics' })).body.match(
      /cityflow_hub_cache_requests_total\{result="hit"\} (\d+)/,
    );
    return m ? Number(m[1]) : 0;
  };
  const snapshot = (speed: number) => ({
    v: 1,
    agent_id: 'A1',
    stream: 'live',
    ts: new Date().toISOString(),
    roads: [
      {
        road_id: 'R00-10',
        ts: new Date().toISOString(),
        speed_kmh: speed,
        flow_rate: 1,
        occupancy: 0.1,
        congestion_score: 0,
        sensors: 1,
        samples: 1,
      },
    ],
  });

  it('serves repeated reads from the cache and drops it when new data arrives', async () => {
    await agent.client.publishAsync(topics.uplink('A1', 'live'), JSON.stringify(snapshot(31)), { qos: 0 });
    await until(async () => (await live()).data[0]?.speed_kmh === 31);
    const h0 = await hits();
    expect((await live()).data[0].speed_kmh).toBe(31);
    expect(await hits()).toBeGreaterThan(h0);
    // keys live under CITYFLOW_REDIS_PREFIX (tests and deployments sharing a Redis do not collide)
    const r = new Redis(redisUrl);
    try {
      expect(await r.exists(`${TEST_REDIS_PREFIX}cache:live`)).toBe(1);
    } finally {
      r.disconnect();
    }
    await agent.client.publishAsync(topics.uplink('A1', 'live'), JSON.stringify(snapshot(12)), { qos: 0 });
    // invalidated on ingest, not after the 5 s TTL
    await until(async () => (await live()).data[0]?.speed_kmh === 12, 2000);
  });
});

describeWithService('REDIS', 'Redis down', () => {
  it('the API keeps answering from the database when Redis is unreachable', async () => {
    // a port nothing listens on: every cache call fails fast and counts as a miss
    const hub = await testHub({ redisUrl: 'redis://127.0.0.1:1' });
    try {
      const token = (
        await hub.app.inject({
          method: 'POST',
          url: '/api/auth/register',
          payload: { email: 'd@c.test', password: 'password123' },
        })
      ).json().token;
      const r = await hub.app.inject({
        url: '/api/traffic/live',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ data: [], next_cursor: null, has_more: false });
    } finally {
      await hub.stop();
    }
  });
});

describeWithService('REDIS', 'login rate limit shared through Redis', (redisUrl) => {
  it('failed logins on two replicas count against one limit', async () => {
    const a = await testHub({ redisUrl, loginRateLimit: 3 });
    const b = await testHub({ redisUrl, loginRateLimit: 3 });
    try {
      const email = `rl${Date.now()}@c.test`;
      const login = (h: typeof a) =>
        h.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { email, password: 'wrong-password' },
        });
      expect((await login(a)).statusCode).toBe(401);
      expect((await login(b)).statusCode).toBe(401);
      expect((await login(a)).statusCode).toBe(401);
      const fourth = await login(b);
      expect(fourth.statusCode).toBe(429);
      expect(fourth.json().error.code).toBe('CF_RATE_LIMITED');
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
