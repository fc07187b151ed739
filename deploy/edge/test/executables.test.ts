import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exited, type Ready } from '../../../edge-agent/test/helpers/child.js';
import { NotifySocket } from '../../../edge-agent/test/helpers/notify-socket.js';
import {
  connect,
  pub,
  reading,
  tempDir,
  useCleanups,
  waitFor,
} from '../../../edge-agent/test/helpers/util.js';
import { command, ensureExecutables, executable, runExe } from './executables.js';

const MAX_BYTES = 120 * 1024 * 1024;

describe.each([
  { target: 'linux-x64', how: 'natively', startMs: 30_000 },
  { target: 'linux-arm64', how: 'under qemu-aarch64-static', startMs: 120_000 },
])('the $target executable, $how', ({ target, startMs }) => {
  const cleanups = useCleanups();
  beforeAll(ensureExecutables, 600_000);

  it(`is at most 120 MB`, () => {
    expect(statSync(executable(target)).size).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('runs the agent: READY on the notify socket, readings over MQTT, counted by `status --json`', async () => {
    const tmp = tempDir('cf-edge-');
    const sock = new NotifySocket(join(tmp.dir, 'notify'));
    await sock.start();
    cleanups.push(tmp.cleanup, () => sock.stop());
    const data = join(tmp.dir, 'data');
    // no node_modules anywhere near: the addon can only come from the executable's own asset
    const env = { CITYFLOW_ADDON_DIR: join(tmp.dir, 'addon'), NOTIFY_SOCKET: sock.path, NODE_PATH: '' };
    const [cmd, argv] = command(target, [
      'run',
      '--agent-id',
      'A-9',
      '--data-dir',
      data,
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
    ]);
    const child = spawn(cmd, argv, {
      cwd: tmp.dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => void child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const line = await waitFor(
      () => out.split('\n').find((l) => l.startsWith('{"event":"ready"')),
      `the ready line (stderr: ${err})`,
      startMs,
      100,
    );
    const ready = JSON.parse(line) as Ready;
    await waitFor(() => sock.messages[0]?.startsWith('READY=1\n'), 'READY=1', startMs);
    expect(readdirSync(env.CITYFLOW_ADDON_DIR)).toEqual([
      expect.stringMatching(/^better_sqlite3-[0-9a-f]{16}\.node$/),
    ]);
    expect(await (await fetch(`${ready.http_url}/health`)).json()).toMatchObject({
      status: 'ok',
      agent_id: 'A-9',
    });

    const c = await connect(ready.mqtt_url);
    const now = Date.now();
    for (let i = 0; i < 25; i++) await pub(c, 'S-1', reading('S-1', 'R-1', now - i * 1000)); // QoS 1: PUBACK after COMMIT
    await c.endAsync();
    // the executable's own status verb, reading the SQLite file (read-only) while the agent runs
    const st = await runExe(target, ['status', '--data-dir', data, '--json'], env);
    expect(st.code, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ agent_id: 'A-9', readings_total: 25, running: true });

    child.kill('SIGTERM');
    expect((await exited(child)).code).toBe(0);
    await waitFor(() => sock.messages.includes('STOPPING=1\nSTATUS=stopping'), 'STOPPING=1');
    // pino writes JSON lines straight to fd 2 (no transport worker, which an SEA cannot start)
    const logs = err
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; agent_id: string });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['agent started', 'agent stopped']));
  }, 240_000);
});
