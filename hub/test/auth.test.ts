import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { JWT_AUDIENCE, JWT_ISSUER, TokenService } from '../src/auth/tokens.js';
import type { RunningHub } from '../src/hub.js';
import { testHub } from './helpers.js';

const SECRET = 'test-secret-0123456789abcdef';

describe('auth API (app.inject)', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await testHub({
      jwtSecret: SECRET,
      adminEmail: 'admin@city.test',
      adminPassword: 'admin-pass-1',
      loginRateLimit: 5,
    });
  });
  afterAll(async () => hub?.stop());

  const post = (url: string, payload: unknown, token?: string) =>
    hub.app.inject({
      method: 'POST',
      url,
      payload: payload as object,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  const get = (url: string, token?: string) =>
    hub.app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('register: 201 with a viewer token (admins make operators), 409 on a duplicate, 400 on invalid input', async () => {
    const r = await post('/api/auth/register', { email: 'ops@city.test', password: 'password123' });
    expect(r.statusCode).toBe(201);
    expect(r.json().user).toMatchObject({ email: 'ops@city.test', role: 'viewer' });
    expect((await get('/api/traffic/live', r.json().token)).statusCode).toBe(200);
    const dup = await post('/api/auth/register', { email: 'ops@city.test', password: 'password123' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('CF_CONFLICT');
    for (const bad of [
      { email: 'nope', password: 'password123' },
      { email: 'a@b.c', password: 'short' },
      {},
    ]) {
      const x = await post('/api/auth/register', bad);
      expect(x.statusCode).toBe(400);
      expect(x.json().error.code).toBe('CF_BAD_REQUEST');
    }
  });

  it('login: 200 with the right password, 401 otherwise; logout revokes the token', async () => {
    expect(
      (await post('/api/auth/login', { email: 'ops@city.test', password: 'wrong-password' })).statusCode,
    ).toBe(401);
    expect(
      (await post('/api/auth/login', { email: 'ghost@city.test', password: 'password123' })).statusCode,
    ).toBe(401);
    const ok = await post('/api/auth/login', { email: 'ops@city.test', password: 'password123' });
    expect(ok.statusCode).toBe(200);
    const token = ok.json().token as string;
    expect((await get('/api/agents', token)).statusCode).toBe(200);
    expect((await post('/api/auth/logout', {}, token)).statusCode).toBe(204);
    const after = await get('/api/agents', token);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('CF_UNAUTHORIZED');
  });

  it('logout closes an open /ws/live socket of that token (and only that one)', async () => {
    const reg = async (email: string) =>
      (await post('/api/auth/register', { email, password: 'password123' })).json().token as string;
    const [t1, t2] = [await reg('ws1@city.test'), await reg('ws2@city.test')];
    const open = async (t: string) => {
      const ws = new WebSocket(`${hub.apiUrl.replace('http', 'ws')}/ws/live?token=${t}`);
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      await new Promise((r) => ws.once('open', r));
      return { ws, closed };
    };
    const a = await open(t1);
    const b = await open(t2);
    expect((await post('/api/auth/logout', {}, t1)).statusCode).toBe(204);
    expect(await a.closed).toBe(4001);
    // the other token's socket still works: it answers a ping
    const pong = new Promise((r) =>
      b.ws.on('message', (m) => JSON.parse(m.toString()).type === 'pong' && r(1)),
    );
    b.ws.send(JSON.stringify({ type: 'ping' }));
    expect(await pong).toBe(1);
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
    b.ws.close();
    await b.closed;
  });

  it('refuses missing, forged, expired, alg:none and wrong-audience tokens', async () => {
    expect((await get('/api/traffic/live')).statusCode).toBe(401);
    const forged = await new TokenService('another-secret-0123456789').sign({
      id: 1,
      email: 'x@y.z',
      role: 'admin',
    });
    expect((await get('/api/traffic/live', forged)).statusCode).toBe(401);
    const expired = await new TokenService(SECRET, 60).sign(
      { id: 1, email: 'x@y.z', role: 'admin' },
      Math.floor(Date.now() / 1000) - 3600,
    );
    expect((await get('/api/traffic/live', expired)).statusCode).toBe(401);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '1', role: 'admin', iss: JWT_ISSUER, aud: JWT_AUDIENCE, exp: 9e9, jti: 'x' })}.`;
    expect((await get('/api/traffic/live', none)).statusCode).toBe(401);
    const otherAud = await new SignJWT({ role: 'admin', email: 'x@y.z' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('1')
      .setIssuer(JWT_ISSUER)
      .setAudience('someone-else')
      .setJti('j')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    expect((await get('/api/traffic/live', otherAud)).statusCode).toBe(401);
  });

  it('roles per route: an operator may not create agents (403); the admin may (201), 409 twice, rotate 201', async () => {
    const admin = (
      await post('/api/auth/login', { email: 'admin@city.test', password: 'admin-pass-1' })
    ).json().token;
    const promoted = await hub.app.inject({
      method: 'PUT',
      url: '/api/users/ops@city.test/role',
      payload: { role: 'operator' },
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(promoted.statusCode).toBe(200);
    const op = (await post('/api/auth/login', { email: 'ops@city.test', password: 'password123' })).json()
      .token;
    const denied = await post('/api/agents', { agent_id: 'A7' }, op);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('CF_FORBIDDEN');
    const created = await post('/api/agents', { agent_id: 'A7' }, admin);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ agent_id: 'A7', username: 'A7' });
    expect(created.json().password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await post('/api/agents', { agent_id: 'A7' }, admin)).statusCode).toBe(409);
    const rotated = await post('/api/agents/A7/credentials', {}, admin);
    expect(rotated.statusCode).toBe(201);
    expect(rotated.json().password).not.toBe(created.json().password);
    expect((await post('/api/agents/NOPE/credentials', {}, admin)).statusCode).toBe(404);
    expect((await post('/api/agents', { agent_id: 'bad id/#' }, admin)).statusCode).toBe(400);
  });

  it('login is rate-limited (429) and bodies over the limit get 413', async () => {
    const big = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(100_000) }),
    });
    expect(big.statusCode).toBe(413);
    const codes: number[] = [];
    for (let i = 0; i < 8; i++)
      codes.push(
        (await post('/api/auth/login', { email: 'ops@city.test', password: 'wrong-password' })).statusCode,
      );
    expect(codes).toContain(429);
    const last = await post('/api/auth/login', { email: 'ops@city.test', password: 'wrong-password' });
    expect(last.json().error.code).toBe('CF_RATE_LIMITED');
  });
});

describe('closed registration', () => {
  it('answers 403 when CITYFLOW_OPEN_REGISTRATION is false', async () => {
    const hub = await testHub({ openRegistration: false });
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

describe('CORS', () => {
  it('allows only the configured origins', async () => {
    const hub = await testHub({ corsOrigins: ['https://ops.city.test'] });
    try {
      const pre = (origin: string) =>
        hub.app.inject({
          method: 'OPTIONS',
          url: '/api/traffic/live',
          headers: {
            origin,
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'authorization',
          },
        });
      expect((await pre('https://ops.city.test')).headers['access-control-allow-origin']).toBe(
        'https://ops.city.test',
      );
      expect((await pre('https://evil.test')).headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await hub.stop();
    }
  });
});
