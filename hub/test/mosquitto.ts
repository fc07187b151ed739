import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts a real `mosquitto` on a free port with the password file and ACL found in `dir`. */
export async function startMosquitto(
  dir: string,
): Promise<{ url: string; port: number; stop(): Promise<void>; proc: ChildProcess }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
      `acl_file ${join(dir, 'acl')}`,
      // run as whoever runs the test: as root, mosquitto would drop to a user that cannot read our temp dir
      `user ${userInfo().username}`,
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const proc = await spawnMosquitto(conf, port);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    proc,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await done;
    },
  };
}

/** Runs `mosquitto -c conf` and resolves once it accepts TCP connections on `port`. */
export async function spawnMosquitto(conf: string, port: number): Promise<ChildProcess> {
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d) => {
    err += d;
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) break;
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`mosquitto did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

/** The lines a test adds to a generated mosquitto.conf: run as the test user, no persistence, errors to stderr. */
export const TEST_MOSQUITTO_LINES = [
  `user ${userInfo().username}`,
  'persistence false',
  'log_dest stderr',
  'log_type error',
  'log_type warning',
];

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const done = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await done;
}
