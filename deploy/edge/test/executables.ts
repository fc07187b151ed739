import { spawn } from 'node:child_process';
import { command } from '../scripts/run-here.js';

export { command, ensureExecutables, executable } from '../scripts/run-here.js';

/** Runs a verb of `target`'s executable to completion. */
export function runExe(
  target: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = command(target, args);
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((r) => child.once('exit', (code) => r({ code, stdout, stderr })));
}
