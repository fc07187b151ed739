#!/usr/bin/env node
/**
 * The single executables (deploy/edge, `npm run package:edge`): size, and seconds from spawn until
 * `/health` answers, median of 3 starts each on a fresh data dir (the first start also writes the
 * embedded SQLite addon to its cache dir, so run 1 is included). x64 natively; arm64 under
 * qemu-aarch64-static (no binfmt here). Peer: the npm launcher (`node edge-agent/bin/cityflow-agent.js`)
 * at the same time on the same machine. Targets from the deploy issue: x64 ≤ 3 s, arm64 under qemu
 * ≤ 30 s, each ≤ 120 MB (ratio = measured / target; below 1 meets it). Bounded: 60 s per start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { command, ensureExecutables, executable } from '../deploy/edge/scripts/run-here.js';

const RUNS = 3;
const TARGET_S = { 'linux-x64': 3, 'linux-arm64': 30 };
const launcher = fileURLToPath(new URL('../edge-agent/bin/cityflow-agent.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cf-bench-edge-'));

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Seconds from spawn to the first 200 on /health; then SIGTERM and wait for the exit. */
async function startSeconds(argvOf, run) {
  const http = await freePort();
  const [cmd, argv] = argvOf([
    'run',
    '--agent-id',
    'A-1',
    '--data-dir',
    join(dir, `${run}-data`),
    '--mqtt-port',
    '0',
    '--http-port',
    String(http),
  ]);
  const t0 = performance.now();
  const child = spawn(cmd, argv, {
    env: { ...process.env, CITYFLOW_ADDON_DIR: join(dir, `${run}-addon`) },
    stdio: 'ignore',
  });
  const gone = new Promise((r) => child.once('exit', r));
  try {
    for (;;) {
      if (performance.now() - t0 > 60_000) throw new Error(`${cmd}: no /health within 60 s`);
      if (child.exitCode !== null) throw new Error(`${cmd} exited ${child.exitCode} before /health`);
      const ok = await fetch(`http://127.0.0.1:${http}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    await gone;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 100) / 100;

await ensureExecutables();
const metrics = {};
const ratio = {};
for (const target of ['linux-x64', 'linux-arm64']) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await startSeconds((a) => command(target, a), `${target}-${i}`));
  const mb = statSync(executable(target)).size / 2 ** 20;
  metrics[target] = {
    health_s_median: round(median(runs)),
    health_s_runs: runs.map(round),
    size_mib: round(mb),
  };
  ratio[`${target}_health`] = round(median(runs) / TARGET_S[target]);
  ratio[`${target}_size`] = round(mb / 120);
}
const peerRuns = [];
for (let i = 0; i < RUNS; i++)
  peerRuns.push(await startSeconds((a) => [process.execPath, [launcher, ...a]], `npm-${i}`));
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    name: 'edge-start',
    metrics,
    peer: { npm_launcher_health_s_median: round(median(peerRuns)) },
    ratio,
  }),
);
