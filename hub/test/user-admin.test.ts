/**
 * Admin actions on users (issue 9): a role change, a password reset and a removal each end that
 * user's existing tokens at once — HTTP and open WebSockets (close 4001) — and a WebSocket closes when
 * its token expires. One hub (PGlite); the cross-replica behaviour is in user-admin-replicas.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TokenService } from '../src/auth/tokens.js';
import type { RunningHub } from '../src/hub.js';
import { openLive, testHub } from './helpers.js';

const SECRET = 'test-secret-0123456789abcdef';
const ADMIN = { email: 'root@city.test', password: 'root-pass-1' };

describe('admin user actions end the user’s tokens at once', () => {
  let hub: RunningHub;
  let admin: string;
  beforeAll(async () => {
    hub = await testHub({ jwtSecret: SECRET, adminEmail: ADMIN.email, adminPassword: ADMIN.password });
    admin = await login(ADMIN.email, ADMIN.password);
  });
  afterAll(async () => hub?.stop());

  const auth = (t: string) => ({ authorization: `Bearer ${t}` });
  async function login(email: string, password: string): Promise<string> {
    const r = await hub.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
    expect(r.statusCode, `login ${email}`).toBe(200);
    return r.json().token;
  }
  async function register(email: string): Promise<string> {
    const r = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      remoteAddress: `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
      payload: { email, password: 'password123' },
    });
    expect(r.statusCode).toBe(201);
    return r.json().token;
  }
  const status = async (t: string) =>
    (await hub.app.inject({ url: '/api/agents', headers: auth(t) })).statusCode;

  it('role change: old tokens (HTTP and WebSocket) stop at once; a new login carries the new role', async () => {
    const t1 = await register('promote@city.test');
    const t2 = await login('promote@city.test', 'password123');
    const live = await openLive(hub.apiUrl, t1);
    const r = await hub.app.inject({
      method: 'PUT',
      url: '/api/users/promote@city.test/role',
      headers: auth(admin),
      payload: { role: 'operator' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ email: 'promote@city.test', role: 'operator' });
    expect(r.json().token_version).toBeUndefined();
    expect(await live.closed).toBe(4001);
    expect(await status(t1)).toBe(401);
    expect(await status(t2)).toBe(401);
    const fresh = await login('promote@city.test', 'password123');
    const claims = JSON.parse(Buffer.from(fresh.split('.')[1]!, 'base64url').toString());
    expect(claims.role).toBe('operator');
    expect(await status(fresh)).toBe(200);
  }, 30_000);

  it('password reset: old tokens stop, the old password fails, the generated one (shown once) works', async () => {
    const t1 = await register('reset@city.test');
    const live = await openLive(hub.apiUrl, t1);
    const other = await register('bystander@city.test');
    const otherLive = await openLive(hub.apiUrl, other);
    const r = await hub.app.inject({
      method: 'POST',
      url: '/api/users/reset@city.test/password',
      headers: { ...auth(admin), 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(200);
    const password = r.json().password as string;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await live.closed).toBe(4001);
    expect(await status(t1)).toBe(401);
    const old = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'reset@city.test', password: 'password123' },
    });
    expect(old.statusCode).toBe(401);
    expect(await status(await login('reset@city.test', password))).toBe(200);
    // another user's socket and token are untouched
    expect(otherLive.ws.readyState).toBe(WebSocket.OPEN);
    expect(await status(other)).toBe(200);
    // an admin-chosen password is not echoed back
    const chosen = await hub.app.inject({
      method: 'POST',
      url: '/api/users/reset@city.test/password',
      headers: auth(admin),
      payload: { password: 'chosen-pass-9' },
    });
    expect(chosen.statusCode).toBe(200);
    expect(chosen.json().password).toBeUndefined();
    expect(await status(await login('reset@city.test', 'chosen-pass-9'))).toBe(200);
    otherLive.ws.close();
  }, 30_000);

  it('removal: tokens and sockets end, login fails; unknown users 404; non-admins 403', async () => {
    const t1 = await register('gone@city.test');
    const live = await openLive(hub.apiUrl, t1);
    const viewerDenied = await hub.app.inject({
      method: 'DELETE',
      url: '/api/users/gone@city.test',
      headers: auth(t1),
    });
    expect(viewerDenied.statusCode).toBe(403);
    const r = await hub.app.inject({
      method: 'DELETE',
      url: '/api/users/gone@city.test',
      headers: auth(admin),
    });
    expect(r.statusCode).toBe(204);
    expect(await live.closed).toBe(4001);
    expect(await status(t1)).toBe(401);
    const again = await hub.app.inject({
      method: 'DELETE',
      url: '/api/users/gone@city.test',
      headers: auth(admin),
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('CF_NOT_FOUND');
    const relogin = await hub.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'gone@city.test', password: 'password123' },
    });
    expect(relogin.statusCode).toBe(401);
  }, 30_000);

  it('the last admin cannot be demoted or removed (409); with a second admin it can', async () => {
    const demote = await hub.app.inject({
      method: 'PUT',
      url: `/api/users/${ADMIN.email}/role`,
      headers: auth(admin),
      payload: { role: 'viewer' },
    });
    expect(demote.statusCode).toBe(409);
    expect(demote.json().error.code).toBe('CF_CONFLICT');
    const remove = await hub.app.inject({
      method: 'DELETE',
      url: `/api/users/${ADMIN.email}`,
      headers: auth(admin),
    });
    expect(remove.statusCode).toBe(409);
    expect(await status(admin)).toBe(200); // refused actions end no token
    await register('second@city.test');
    const promote = await hub.app.inject({
      method: 'PUT',
      url: '/api/users/second@city.test/role',
      headers: auth(admin),
      payload: { role: 'admin' },
    });
    expect(promote.statusCode).toBe(200);
    const second = await login('second@city.test', 'password123');
    const demoteFirst = await hub.app.inject({
      method: 'PUT',
      url: `/api/users/${ADMIN.email}/role`,
      headers: auth(second),
      payload: { role: 'operator' },
    });
    expect(demoteFirst.statusCode).toBe(200);
    expect(await status(admin)).toBe(401);
  }, 30_000);

  it('a WebSocket is closed (4001) when its token expires', async () => {
    // A real token of a real user, signed with the hub's secret, living 2 s.
    const row = (
      await hub.db.query<{ id: number; token_version: number }>(
        "SELECT id, token_version FROM users WHERE email = 'second@city.test'",
      )
    ).rows[0]!;
    const short = await new TokenService(SECRET, 2).sign({
      id: row.id,
      email: 'second@city.test',
      role: 'admin',
      token_version: row.token_version,
    });
    const t0 = Date.now();
    const live = await openLive(hub.apiUrl, short);
    expect(await live.closed).toBe(4001);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);
});
