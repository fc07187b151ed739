import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../../../hub/src/db/db.js';
import { migrate } from '../../../hub/src/db/migrations.js';
import { writeMosquittoConfig } from '../../../hub/src/mqtt/mosquitto-config.js';
import { createAgent } from '../../../hub/src/store/agents.js';
import { until } from '../../../hub/test/helpers.js';
import { freePort } from '../../../hub/test/mosquitto.js';
import { find, render } from './chart.js';

// The chart's mosquitto.conf and its reload wrapper (run.sh), exactly as rendered, run by the real
// `mosquitto` of this machine: only the /mosquitto paths and the two ports are mapped to a temp dir.
const dir = mkdtempSync(join(tmpdir(), 'cityflow-chart-mosq-'));
const HUB_PASSWORD = 'hub-secret-0123456789';

function tlsFiles(certs: string) {
  mkdirSync(certs, { recursive: true });
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: certs, stdio: 'ignore' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  ssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'tls.key',
    '-out',
    'tls.csr',
  );
  writeFileSync(join(certs, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'tls.crt',
  );
}

async function portOpen(port: number) {
  return new Promise<boolean>((r) => {
    const c = connect(port, '127.0.0.1', () => {
      c.destroy();
      r(true);
    });
    c.on('error', () => r(false));
  });
}

/** What the auth-sync sidecar does: write aside, then rename over the live files. */
async function syncAuth(db: Db) {
  await writeMosquittoConfig(db, join(dir, 'auth/next'), HUB_PASSWORD);
  renameSync(join(dir, 'auth/next/acl'), join(dir, 'auth/acl'));
  renameSync(join(dir, 'auth/next/passwd'), join(dir, 'auth/passwd'));
}

describe('the rendered Mosquitto config and wrapper, on a real mosquitto', () => {
  let db: Db;
  let proc: ChildProcess;
  let plain: number;
  let tls: number;
  let a1: { password: string };
  const ca = () => readFileSync(join(dir, 'certs/ca.crt'));

  beforeAll(async () => {
    const cm = find(render(), 'ConfigMap', '-mosquitto');
    [plain, tls] = [await freePort(), await freePort()];
    const map = (s: string) => s.replaceAll('/mosquitto/', `${dir}/`);
    const conf = map(cm.data['mosquitto.conf'])
      .replace(/^listener 1883$/m, `listener ${plain} 127.0.0.1`)
      .replace(/^listener 8883$/m, `listener ${tls} 127.0.0.1`);
    // as root (CI) mosquitto would switch to a user that cannot read the temp dir; in the pod it is uid 10001
    mkdirSync(join(dir, 'config'), { recursive: true });
    writeFileSync(join(dir, 'config/mosquitto.conf'), `user ${userInfo().username}\n${conf}`);
    writeFileSync(join(dir, 'config/run.sh'), map(cm.data['run.sh']));
    tlsFiles(join(dir, 'certs'));
    db = await openDb(`pglite://${join(dir, 'db')}`);
    await migrate(db);
    a1 = (await createAgent(db, 'A1'))!;
    await writeMosquittoConfig(db, join(dir, 'auth'), HUB_PASSWORD); // the auth-init container
    proc = spawn('sh', [join(dir, 'config/run.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
    await until(async () => (await portOpen(tls)) && (await portOpen(plain)), 15_000, 100);
  });
  afterAll(async () => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    await db?.close();
  });

  const agent = async (id: string, password: string) =>
    mqtt.connectAsync(`mqtts://localhost:${tls}`, {
      ca: ca(),
      clientId: `agent:${id}`,
      username: id,
      password,
      reconnectPeriod: 0,
    });

  it('an agent connects over TLS with its credentials; a wrong password and a plain connection are refused', async () => {
    const ok = await agent('A1', a1.password);
    await ok.publishAsync('cityflow/v1/agents/A1/status', '{}', { qos: 1 });
    await ok.endAsync();
    await expect(agent('A1', 'wrong-password')).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${tls}`, {
        username: 'A1',
        password: 'x',
        reconnectPeriod: 0,
        connectTimeout: 3000,
      }),
    ).rejects.toThrow();
    // The hubs' own user on the in-cluster listener:
    const hubClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${plain}`, {
      username: 'cityflow-hub',
      password: HUB_PASSWORD,
      reconnectPeriod: 0,
    });
    await hubClient.endAsync();
  });

  it('an agent created later can connect once auth-sync rewrote the files (the wrapper sends SIGHUP)', async () => {
    const c2 = (await createAgent(db, 'A2'))!;
    await expect(agent('A2', c2.password)).rejects.toThrow(/Bad username or password|Not authorized/i);
    await syncAuth(db);
    const client = await until(() => agent('A2', c2.password).catch(() => null), 20_000, 500);
    await client.endAsync();
  });

  it('SIGTERM to the wrapper stops the broker', async () => {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    await until(async () => !(await portOpen(tls)), 10_000, 100);
  });
});
