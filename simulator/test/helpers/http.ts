import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { fixtureGeoJSON } from './network.js';

/** Polls `fn` until it returns a truthy value (returned) or the time is up (throws with the last value). */
export async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
  );
}

export async function getJson(url: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export async function login(apiUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 200 || !body.token)
    throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

export function writeFixtureNetwork(dir: string): string {
  const path = join(dir, 'network.geojson');
  writeFileSync(path, JSON.stringify(fixtureGeoJSON()));
  return path;
}

/** A port the OS says is free right now (bound on port 0, then released). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '0.0.0.0', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Start of the minute `minutesAgo` minutes before now: a closed minute the agent summarises at once. */
export function closedMinute(minutesAgo = 2): number {
  return Math.floor(Date.now() / 60_000) * 60_000 - minutesAgo * 60_000;
}

export const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
