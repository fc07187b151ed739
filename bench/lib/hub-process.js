/** A real `cityflow-hub serve` process on free ports with the embedded broker. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const HUB_BIN = fileURLToPath(new URL('../../hub/bin/cityflow-hub.js', import.meta.url));
export const FLOOD_ADMIN = { email: 'flood@city.test', password: 'flood-password-1' };

/**
 * A fresh schema on a real PostgreSQL (the production database: PGlite's WASM heap alone is ~480 MB
 * of RSS, which says nothing about the broker). Returns the DATABASE_URL and a drop function.
 */
export async function freshPgSchema(url) {
  const schema = `flood_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    databaseUrl: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

/** Resolves once the hub logged `hub started`, with its URLs and the child process. */
export function spawnHub(env = {}) {
  const child = spawn(process.execPath, [HUB_BIN, 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: 'pglite://memory',
      PORT: '0',
      MQTT_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      JWT_SECRET: 'flood-secret-0123456789abc',
      CITYFLOW_ADMIN_EMAIL: FLOOD_ADMIN.email,
      CITYFLOW_ADMIN_PASSWORD: FLOOD_ADMIN.password,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"hub started"'));
      if (line) {
        const j = JSON.parse(line);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({ child, apiUrl: j.api_url, mqttUrl: j.mqtt_url });
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`hub exited with ${code} before it started:\n${out.slice(-2000)}`)),
    );
  });
}

/** Creates an agent through the API (admin login first); resolves with its credentials. */
export async function addAgentViaApi(apiUrl, agentId) {
  const login = await fetch(`${apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(FLOOD_ADMIN),
  });
  const { token } = await login.json();
  const r = await fetch(`${apiUrl}/api/agents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ agent_id: agentId }),
  });
  if (r.status !== 201) throw new Error(`POST /api/agents: ${r.status} ${await r.text()}`);
  return r.json();
}

export function stopChild(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', r);
    child.kill('SIGTERM');
  });
}
