import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeNetwork } from './helpers.js';

// Spawned binaries run the built dist/ (`npm ci` builds it through `prepare`).
const BIN = fileURLToPath(new URL('../bin/cityflow-hub.js', import.meta.url));

function run(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// One embedded database for the whole file: creating a PGlite cluster is the slow part of each spawn.
const DB_URL = `pglite://${mkdtempSync(join(tmpdir(), 'cityflow-hub-cli-'))}`;
const baseEnv = () => ({
  DATABASE_URL: DB_URL,
  NETWORK_FILE: writeNetwork(),
  LOG_LEVEL: 'info',
  CITYFLOW_PASSWORD: '',
});

describe('cityflow-hub CLI', () => {
  it('agents add prints credentials once (--json), refuses an existing agent unless --rotate', () => {
    const env = baseEnv();
    const r = run(['agents', 'add', 'A1', '--json'], env);
    expect(r.code).toBe(0);
    const creds = JSON.parse(r.stdout);
    expect(creds).toEqual({
      agent_id: 'A1',
      username: 'A1',
      password: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const again = run(['agents', 'add', 'A1', '--json'], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/exists/);
    const rotated = run(['agents', 'add', 'A1', '--json', '--rotate'], env);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout).password).not.toBe(creds.password);
    // three spawns, the first creating the PGlite cluster: 17 s alone, > 30 s under the full suite's load
  }, 120_000);

  it('users add takes the password from --password or CITYFLOW_PASSWORD, and fails without one off a terminal', () => {
    const env = baseEnv();
    expect(
      run(['users', 'add', 'boss@city.test', '--role', 'admin', '--password', 'secret-pass-1'], env).code,
    ).toBe(0);
    expect(
      run(['users', 'add', 'op@city.test', '--role', 'operator'], {
        ...env,
        CITYFLOW_PASSWORD: 'secret-pass-2',
      }).code,
    ).toBe(0);
    const none = run(['users', 'add', 'x@city.test', '--role', 'viewer'], env);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/no password/);
    expect(
      run(['users', 'add', 'x@city.test', '--role', 'king', '--password', 'secret-pass-3'], env).code,
    ).not.toBe(0);
  });

  it('users reset-password prints a generated password once; users role/remove refuse the last admin and unknown users', () => {
    // its own database: the file's shared one has other admins
    const env = {
      ...baseEnv(),
      DATABASE_URL: `pglite://${mkdtempSync(join(tmpdir(), 'cityflow-hub-cli-'))}`,
    };
    expect(
      run(['users', 'add', 'only-admin@city.test', '--role', 'admin', '--password', 'secret-pass-4'], env)
        .code,
    ).toBe(0);
    const reset = run(['users', 'reset-password', 'only-admin@city.test'], env);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/reset to: [A-Za-z0-9_-]{24}\n/);
    expect(run(['users', 'role', 'only-admin@city.test', 'viewer'], env).stderr).toMatch(/last admin/);
    const remove = run(['users', 'remove', 'nobody@city.test'], env);
    expect(remove.code).not.toBe(0);
    expect(remove.stderr).toMatch(/no user nobody@city.test/);
  }, 180_000);

  it('bad configuration stops startup listing every problem, one line each', () => {
    const env = { ...baseEnv(), PORT: 'abc', CITYFLOW_CLOCK: 'sundial', DATABASE_URL: 'mysql://x' };
    const r = run(['serve'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^CF_INVALID_CONFIG: invalid hub configuration \(3 problems\):$/m);
    expect(r.stderr).toMatch(
      /^ {2}DATABASE_URL: expected postgres:\/\/\.\.\..*, got "mysql:\/\/x" \(not of that form\)$/m,
    );
    expect(r.stderr).toMatch(/^ {2}PORT: expected a port 0\.\.65535, got "abc" \(not an integer\)$/m);
    expect(r.stderr).toMatch(
      /^ {2}CITYFLOW_CLOCK: expected wall or data, got "sundial" \(not one of these\)$/m,
    );
    // the same lines without starting anything
    const check = run(['config', 'check', '--json'], env);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout)).toEqual({
      ok: false,
      errors: expect.arrayContaining([expect.stringMatching(/^PORT: /)]),
    });
    expect(JSON.parse(check.stdout).errors).toHaveLength(3);
    expect(run(['config', 'check'], baseEnv())).toMatchObject({ code: 0, stdout: 'ok\n' });
  });

  it('a port in use is named in the error', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = run(['serve'], { ...baseEnv(), PORT: String(port), MQTT_PORT: '0', HOST: '127.0.0.1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`CF_PORT_IN_USE: PORT ${port} is already in use`));
    } finally {
      blocker.close();
    }
  });

  it('serve spawned with an IPC channel stops cleanly (exit 0) when the parent disconnects', async () => {
    const env = {
      ...baseEnv(),
      DATABASE_URL: 'pglite://memory',
      PORT: '0',
      MQTT_PORT: '0',
      HOST: '127.0.0.1',
    };
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const deadline = Date.now() + 60_000;
    while (!out.includes('hub started') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('hub started');
    child.disconnect(); // what the OS does to the channel when the parent is SIGKILLed
    expect(await exited).toBe(0);
    expect(out).toContain('"signal":"disconnect"');
  });

  it('serve holds the embedded database: other verbs refuse clearly; SIGTERM stops it cleanly', async () => {
    const env = { ...baseEnv(), PORT: '0', MQTT_PORT: '0', HOST: '127.0.0.1' };
    const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const deadline = Date.now() + 30_000;
    while (!out.includes('hub started') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('hub started');
    const apiUrl = JSON.parse(out.split('\n').find((l) => l.includes('hub started'))!).api_url;
    expect((await fetch(`${apiUrl}/health`)).status).toBe(200);
    const refused = run(['agents', 'add', 'A5'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/in use by a running hub/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(run(['agents', 'add', 'A5', '--json'], env).code).toBe(0);
  });

  it('agents disable|enable: a disabled agent is left out of the Mosquitto password file; the TLS listener is exported', () => {
    const env = baseEnv();
    const out = mkdtempSync(join(tmpdir(), 'cityflow-hub-cli-mosq-'));
    expect(run(['agents', 'add', 'D1', '--json'], env).code).toBe(0);
    expect(run(['agents', 'disable', 'D1'], env).code).toBe(0);
    expect(run(['agents', 'disable', 'NOPE'], env).code).not.toBe(0);
    const args = [
      'mosquitto-config',
      '--out',
      out,
      '--hub-password',
      'hp-1',
      '--tls-cert',
      'c.pem',
      '--tls-key',
      'k.pem',
    ];
    expect(run(args, env).code).toBe(0);
    const users = () =>
      readFileSync(join(out, 'passwd'), 'utf8')
        .split('\n')
        .map((l) => l.split(':')[0]);
    expect(users()).not.toContain('D1');
    const conf = readFileSync(join(out, 'mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/listener 8883\nuse_username_as_clientid true/);
    expect(conf).toContain(`certfile ${join(process.cwd(), 'c.pem')}`);
    expect(conf).not.toMatch(/listener 1884/); // no plaintext for agents once TLS is given
    expect(run(['agents', 'enable', 'D1'], env).code).toBe(0);
    expect(run(args, env).code).toBe(0);
    expect(users()).toContain('D1');
  }, 180_000);
});
