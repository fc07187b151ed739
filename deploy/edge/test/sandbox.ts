import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../../edge-agent/test/helpers/util.js';
import { executable } from './executables.js';

export const EDGE = fileURLToPath(new URL('..', import.meta.url));
export const INSTALL = join(EDGE, 'install.sh');
const SHIMS = join(EDGE, 'test', 'shims');
export const GOOD = executable('linux-x64');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * A throwaway root for install.sh (--root), with systemctl/useradd/getent/chown replaced by the
 * shims in test/shims (PATH first): they log their calls, and the systemctl shim really runs the
 * unit's ExecStart from the root, so health checks hit a real agent.
 */
export async function sandbox(cleanups: Array<() => void | Promise<void>>) {
  const tmp = tempDir('cf-install-');
  const root = join(tmp.dir, 'root');
  const state = join(tmp.dir, 'shim');
  const log = join(state, 'calls.log');
  mkdirSync(state, { recursive: true });
  writeFileSync(log, '');
  const http = await freePort();
  const config = join(tmp.dir, 'agent.yaml');
  writeFileSync(config, `agentId: A-42\nmqttPort: ${await freePort()}\nhttpPort: ${http}\n`);
  const env = {
    PATH: `${SHIMS}:${process.env.PATH}`,
    CF_ROOT: root,
    SHIM_STATE: state,
    SHIM_LOG: log,
    // the executable's CLI runs (--version, config check) unpack their addon here, not in ~/.cache
    CITYFLOW_ADDON_DIR: join(tmp.dir, 'addon-cli'),
  };
  /** Runs install.sh (or `script`, which passes its options on to it) against the root. */
  const run = (args: string[], script = INSTALL) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        'bash',
        [script, ...args, '--root', root, '--health-url', `http://127.0.0.1:${http}/health`],
        { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      child.once('exit', (code) => resolve({ code, out }));
    });
  const pidFile = join(state, 'agent.pid');
  cleanups.push(tmp.cleanup, () => {
    if (existsSync(pidFile))
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        /* already gone */
      }
  });
  const calls = () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  const health = () =>
    fetch(`http://127.0.0.1:${http}/health`).then(
      (r) => r.json() as Promise<{ agent_id: string }>,
      () => null,
    );
  return { dir: tmp.dir, root, config, run, calls, health, pidFile, http };
}

export const lib = (root: string, f = 'cityflow-agent') => join(root, 'usr/local/lib/cityflow', f);
export const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));
