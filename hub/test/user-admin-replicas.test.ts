/**
 * Token revocation across replicas (issue 9): two hubs on one PostgreSQL. An admin action on replica A
 * (or the CLI, a separate process) ends the user's tokens on replica B too, and closes B's WebSocket
 * of that user with 4001:
 * - with Redis, at once through the bus (the database reload is set to an hour, so only the bus can
 *   explain it);
 * - with Redis down, within the reload period (CITYFLOW_REVOCATION_POLL_S) from the database.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithService, serviceUrl } from '../../test-support/services.js';
import type { RunningHub } from '../src/hub.js';
import { TEST_REDIS_PREFIX, openLive, testHub, until, writeNetwork } from './helpers.js';
import { freshSchemaUrl } from './pg-schema.js';

const BIN = fileURLToPath(new URL('../bin/cityflow-hub.js', import.meta.url));
const SECRET = 'replica-secret-0123456789abcdef';
const ADMIN = { email: 'boss@city.test', password: 'boss-pass-1' };
/** A port nothing listens on: Redis "down" from the start. */
const DEAD_REDIS = 'redis://127.0.0.1:9';

describeWithService('PG', 'revocation across replicas', (pgUrl) => {
  const redisUrl = serviceUrl('REDIS');
  let schema: Awaited<ReturnType<typeof freshSchemaUrl>>;
  const hubs: RunningHub[] = [];
  beforeAll(async () => {
    if (!redisUrl) throw new Error('needs CITYFLOW_TEST_REDIS_URL');
    schema = await freshSchemaUrl(pgUrl);
  }, 60_000);
  afterAll(async () => {
    for (const h of hubs) await h.stop();
    await schema?.drop();
  });

  async function pair(redis: string, revocationPollMs: number): Promise<[RunningHub, RunningHub]> {
    const opts = {
      databaseUrl: schema.url,
      redisUrl: redis,
      jwtSecret: SECRET,
      revocationPollMs,
      adminEmail: ADMIN.email,
      adminPassword: ADMIN.password,
      networkFile: writeNetwork(),
    };
    const a = await testHub(opts);
    hubs.push(a);
    const b = await testHub(opts);
    hubs.push(b);
    return [a, b];
  }
  const auth = (t: string) => ({ authorization: `Bearer ${t}` });
  async function login(hub: RunningHub, email: string, password = 'password123') {
    const r = await hub.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
    expect(r.statusCode).toBe(200);
    return r.json().token as string;
  }
  async function register(hub: RunningHub, email: string) {
    const r = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      remoteAddress: `10.1.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
      payload: { email, password: 'password123' },
    });
    expect(r.statusCode).toBe(201);
    return r.json().token as string;
  }
  const status = async (hub: RunningHub, t: string) =>
    (await hub.app.inject({ url: '/api/agents', headers: auth(t) })).statusCode;

  it('with Redis: a role change on A closes the user’s socket on B at once and B refuses the token', async () => {
    const [a, b] = await pair(redisUrl!, 3_600_000);
    const token = await register(a, 'bus@city.test');
    // B has never seen this user: it looks it up once instead of refusing a fresh account
    expect(await status(b, token)).toBe(200);
    const onB = await openLive(b.apiUrl, token);
    const admin = await login(a, ADMIN.email, ADMIN.password);
    const t0 = Date.now();
    const r = await a.app.inject({
      method: 'PUT',
      url: '/api/users/bus@city.test/role',
      headers: auth(admin),
      payload: { role: 'operator' },
    });
    expect(r.statusCode).toBe(200);
    expect(await onB.closed).toBe(4001);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await status(b, token)).toBe(401);
    expect(await status(a, token)).toBe(401);
  }, 120_000);

  it('with Redis: the CLI (another process) removes a user and the running replicas close its sockets at once', async () => {
    const [a, b] = [hubs[0]!, hubs[1]!];
    const token = await register(a, 'cli@city.test');
    const onA = await openLive(a.apiUrl, token);
    const onB = await openLive(b.apiUrl, token);
    const r = spawnSync(process.execPath, [BIN, 'users', 'remove', 'cli@city.test'], {
      env: {
        ...process.env,
        DATABASE_URL: schema.url,
        REDIS_URL: redisUrl,
        CITYFLOW_REDIS_PREFIX: TEST_REDIS_PREFIX,
        LOG_LEVEL: 'warn',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed/);
    expect(await onA.closed).toBe(4001);
    expect(await onB.closed).toBe(4001);
    expect(await status(b, token)).toBe(401);
  }, 120_000);

  it('with Redis down: A applies a change at once; B within its database reload period', async () => {
    const [a, b] = await pair(DEAD_REDIS, 300);
    const token = await register(a, 'noredis@city.test');
    await until(async () => (await status(b, token)) === 200, 10_000);
    const onB = await openLive(b.apiUrl, token);
    const admin = await login(a, ADMIN.email, ADMIN.password);
    const r = await a.app.inject({
      method: 'POST',
      url: '/api/users/noredis@city.test/password',
      headers: auth(admin),
      payload: { password: 'another-pass-1' },
    });
    expect(r.statusCode).toBe(200);
    expect(await status(a, token)).toBe(401);
    expect(await onB.closed).toBe(4001);
    expect(await status(b, token)).toBe(401);
    // logout (one token) reaches B the same way
    const t2 = await login(b, 'noredis@city.test', 'another-pass-1');
    expect(
      (await a.app.inject({ method: 'POST', url: '/api/auth/logout', headers: auth(t2) })).statusCode,
    ).toBe(204);
    await until(async () => (await status(b, t2)) === 401, 10_000);
  }, 120_000);

  it('the CLI without Redis: `users role` reaches running replicas within the reload period', async () => {
    const [a, b] = [hubs[2]!, hubs[3]!];
    const token = await register(a, 'cli2@city.test');
    const onB = await openLive(b.apiUrl, token);
    const r = spawnSync(process.execPath, [BIN, 'users', 'role', 'cli2@city.test', 'operator'], {
      env: { ...process.env, DATABASE_URL: schema.url, REDIS_URL: '', LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/now operator/);
    expect(await onB.closed).toBe(4001);
    // A reloads on its own timer: it refuses the token within its reload period too, not at B's instant
    const deadline = Date.now() + 15_000;
    let code = await status(a, token);
    while (code !== 401 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      code = await status(a, token);
    }
    expect(code).toBe(401);
  }, 120_000);
});
