/**
 * Hostile clients of the HTTP API (issue 9, "API"): each test names the finding it closes and fails on
 * the code before the fix. Black-box through app.inject against a real hub (PGlite, embedded broker).
 */
import { topics } from '@cityflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHub } from '../src/hub.js';
import { startHub } from '../src/hub.js';
import { agentClient, testHub, writeNetwork } from './helpers.js';

const ADMIN = { email: 'admin@city.test', password: 'admin-pass-1' };

describe('API under hostile clients', () => {
  let hub: RunningHub;
  let admin: string;
  beforeAll(async () => {
    hub = await testHub({
      adminEmail: ADMIN.email,
      adminPassword: ADMIN.password,
      loginPasswordRateLimit: 4,
      loginRateLimit: 50,
      registerRateLimit: 3,
      diagRateLimit: 2,
      metricsToken: 'metrics-token-0123456789',
    });
    admin = (await hub.app.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN })).json().token;
  });
  afterAll(async () => hub?.stop());
  const auth = (t: string) => ({ authorization: `Bearer ${t}` });

  it('a crafted pagination cursor is a 400, never a 500 (every list)', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const crafted = [
      b64(['1', 'R00-10']), // Date.parse accepts it, PostgreSQL does not
      b64(['Tuesday 5', 'R00-10']),
      b64(['0', 'x']),
      b64(['2026-01-01T00:00:00Z', 'a\u0000b']), // NUL byte in the key
      b64(['0000-01-01T00:00:00Z', '1']), // a year PostgreSQL has not
      b64({ ts: 1 }),
      'not base64 at all!',
    ];
    const lists = [
      '/api/traffic/live',
      '/api/predictions',
      '/api/reroutes/recommended',
      '/api/agents',
      '/api/traffic/history?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z',
    ];
    for (const url of lists)
      for (const before of crafted) {
        const r = await hub.app.inject({
          url: `${url}${url.includes('?') ? '&' : '?'}before=${encodeURIComponent(before)}`,
          headers: auth(admin),
        });
        expect(r.statusCode, `${url} before=${before}`).toBe(400);
        expect(r.json().error.code).toBe('CF_BAD_REQUEST');
      }
    // lists keyed by a bigint row id refuse any other key
    for (const url of ['/api/predictions', '/api/reroutes/recommended']) {
      const before = b64(['2026-01-01T00:00:00Z', 'not-a-bigint']);
      const r = await hub.app.inject({ url: `${url}?before=${before}`, headers: auth(admin) });
      expect(r.statusCode, url).toBe(400);
    }
    // a real cursor still pages
    expect((await hub.app.inject({ url: '/api/agents?limit=1', headers: auth(admin) })).statusCode).toBe(200);
  });

  it('history ranges are capped per bucket size: 400 CF_RANGE_TOO_LARGE beyond, 200 at the cap', async () => {
    const day = 86_400_000;
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const q = (bucket: string, spanMs: number) =>
      hub.app.inject({
        url: `/api/traffic/history?bucket=${bucket}&from=${new Date(t0).toISOString()}&to=${new Date(t0 + spanMs).toISOString()}`,
        headers: auth(admin),
      });
    for (const [bucket, days] of [
      ['1m', 1],
      ['5m', 7],
      ['15m', 31],
      ['1h', 366],
    ] as const) {
      expect((await q(bucket, days * day)).statusCode, `${bucket} at ${days} d`).toBe(200);
      const over = await q(bucket, days * day + 60_000);
      expect(over.statusCode, `${bucket} beyond ${days} d`).toBe(400);
      expect(over.json().error.code).toBe('CF_RANGE_TOO_LARGE');
    }
  });

  it('logout with Content-Type: application/json and an empty body answers 204', async () => {
    const t = (await hub.app.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN })).json().token;
    const r = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { ...auth(t), 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(204);
    expect((await hub.app.inject({ url: '/api/agents', headers: auth(t) })).statusCode).toBe(401);
    // a body that is required is still required
    const login = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
    });
    expect(login.statusCode).toBe(400);
  });

  it('security headers (helmet): CSP, nosniff, frame denial, no x-powered-by', async () => {
    for (const url of ['/', '/health', '/api/agents']) {
      const r = await hub.app.inject({ url, headers: auth(admin) });
      expect(r.headers['x-content-type-options'], url).toBe('nosniff');
      expect(String(r.headers['content-security-policy']), url).toContain("frame-ancestors 'none'");
      expect(String(r.headers['content-security-policy']), url).toContain("script-src 'self'");
      expect(r.headers['x-frame-options'], url).toBeDefined();
      expect(r.headers['strict-transport-security'], url).toBeDefined();
    }
  });

  it('the login limiter also stops one password tried across many emails (password spraying)', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 7; i++)
      codes.push(
        (
          await hub.app.inject({
            method: 'POST',
            url: '/api/auth/login',
            payload: { email: `victim${i}@city.test`, password: 'Spring2026!' },
          })
        ).statusCode,
      );
    expect(codes.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(codes.slice(4)).toEqual([429, 429, 429]);
    // another password is not affected
    const ok = await hub.app.inject({ method: 'POST', url: '/api/auth/login', payload: ADMIN });
    expect(ok.statusCode).toBe(200);
  });

  it('registration is rate-limited per client IP and gives viewers', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await hub.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email: `new${i}@city.test`, password: 'password123' },
      });
      codes.push(r.statusCode);
      if (r.statusCode === 201) expect(r.json().user.role).toBe('viewer');
    }
    expect(codes).toEqual([201, 201, 201, 429, 429]);
    // a viewer may read but not ask an agent for diagnostics
    const viewer = (
      await hub.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: 'new0@city.test', password: 'password123' },
      })
    ).json().token;
    expect((await hub.app.inject({ url: '/api/agents', headers: auth(viewer) })).statusCode).toBe(200);
    const diag = await hub.app.inject({
      method: 'POST',
      url: '/api/agents/A1/diag',
      headers: auth(viewer),
      payload: { from: '2026-03-02T08:00:00Z', to: '2026-03-02T08:05:00Z' },
    });
    expect(diag.statusCode).toBe(403);
  });

  it('diagnostics are rate-limited per user and per agent (429 before the agent is asked)', async () => {
    const asked: string[] = [];
    const agents = await Promise.all(
      ['A1', 'A2'].map(async (id) => {
        const c = await agentClient(hub, await hub.addAgent(id));
        await c.client.subscribeAsync(topics.diagRequest(id), { qos: 1 });
        c.client.on('message', (topic, payload) => {
          if (topic !== topics.diagRequest(id)) return;
          const req = JSON.parse(payload.toString());
          asked.push(id);
          const res = {
            v: 1,
            agent_id: id,
            stream: 'diag',
            request_id: req.request_id,
            items: [],
            truncated: false,
          };
          c.client.publish(topics.uplink(id, 'diag'), JSON.stringify(res), { qos: 1 });
        });
        return c;
      }),
    );
    const op2 = 'op2@city.test';
    await hub.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      remoteAddress: '10.0.0.2',
      payload: { email: op2, password: 'password123' },
    });
    await hub.app.inject({
      method: 'PUT',
      url: `/api/users/${op2}/role`,
      headers: auth(admin),
      payload: { role: 'operator' },
    });
    const opToken = (
      await hub.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: op2, password: 'password123' },
      })
    ).json().token;
    const diag = (token: string, agent: string) =>
      hub.app.inject({
        method: 'POST',
        url: `/api/agents/${agent}/diag`,
        headers: auth(token),
        payload: { from: '2026-03-02T08:00:00Z', to: '2026-03-02T08:05:00Z' },
      });
    // per user: the admin asks A1 twice, then A2 (another agent) is refused for this user
    expect((await diag(admin, 'A1')).statusCode).toBe(200);
    expect((await diag(admin, 'A1')).statusCode).toBe(200);
    const perUser = await diag(admin, 'A2');
    expect(perUser.statusCode).toBe(429);
    expect(perUser.json().error.code).toBe('CF_RATE_LIMITED');
    // per agent: A1 had its two; another user is refused for A1 but may ask A2
    const perAgent = await diag(opToken, 'A1');
    expect(perAgent.statusCode).toBe(429);
    expect(perAgent.json().error.message).toMatch(/agent/);
    expect((await diag(opToken, 'A2')).statusCode).toBe(200);
    // refused requests never reached an agent
    expect(asked.sort()).toEqual(['A1', 'A1', 'A2']);
    for (const a of agents) await a.client.endAsync();
  });

  it('metrics token: compared whole (a prefix or a longer string is refused), the right one passes', async () => {
    const m = (h?: string) =>
      hub.app.inject({ url: '/metrics', headers: h === undefined ? {} : { authorization: h } });
    expect((await m()).statusCode).toBe(401);
    expect((await m('Bearer metrics-token-012345678')).statusCode).toBe(401);
    expect((await m('Bearer metrics-token-0123456789x')).statusCode).toBe(401);
    expect((await m('Bearer metrics-token-0123456789')).statusCode).toBe(200);
  });

  it('/health does not leak the database error text', async () => {
    const down = await testHub();
    try {
      await down.db.close();
      const r = await down.app.inject({ url: '/health' });
      expect(r.statusCode).toBe(503);
      expect(r.json().checks.database).toBe('unavailable');
      // (the storage block names the backend on purpose: "pglite" there is no leak)
      const { storage: _storage, ...rest } = r.json();
      expect(JSON.stringify(rest)).not.toMatch(/closed|PGlite|ECONN|error:/i);
      expect(JSON.stringify(_storage)).not.toMatch(/closed|ECONN|error:/i);
    } finally {
      await down.stop();
    }
  });
});

describe('registration default', () => {
  it('is closed when CITYFLOW_OPEN_REGISTRATION is not set (403)', async () => {
    const hub = await startHub({
      databaseUrl: 'pglite://memory',
      mqttPort: 0,
      port: 0,
      host: '127.0.0.1',
      networkFile: writeNetwork(),
      logLevel: 'silent',
      cycleIntervalS: 3600,
    });
    try {
      const r = await hub.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { email: 'a@b.cd', password: 'password123' },
      });
      expect(r.statusCode).toBe(403);
      expect(r.json().error.code).toBe('CF_FORBIDDEN');
    } finally {
      await hub.stop();
    }
  });
});

describe('rate limits with Redis down', () => {
  it('still refuse (429) when the configured Redis does not answer: each replica counts on its own', async () => {
    // a port nothing listens on: REDIS_URL set, Redis unreachable from the start
    const hub = await testHub({ redisUrl: 'redis://127.0.0.1:9', loginRateLimit: 3 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++)
        codes.push(
          (
            await hub.app.inject({
              method: 'POST',
              url: '/api/auth/login',
              payload: { email: 'down@city.test', password: 'wrong-password' },
            })
          ).statusCode,
        );
      expect(codes).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await hub.stop();
    }
  });
});
