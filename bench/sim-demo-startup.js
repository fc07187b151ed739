#!/usr/bin/env node
/**
 * `cityflow-sim demo` on the default network (hub + 9 agent processes + simulator), on free ports in
 * a temp dir: seconds until demo.json (city up), until every road has live data in /api/traffic/live,
 * and until Ctrl-C (SIGINT) has stopped every process. Compared with the target: live data
 * within 15 s of `npm start` (ratio = measured / 15 s; below 1 meets it). Bounded by a 120 s timeout.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_NETWORK_FILE, loadNetworkFile } from '@cityflow/protocol';
import { spareAgentPortBase } from '@cityflow/simulator';

const TARGET_S = 15;
const bin = fileURLToPath(new URL('../simulator/bin/cityflow-sim.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cf-bench-demo-'));
const agents = loadNetworkFile(DEFAULT_NETWORK_FILE).agents.size;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '0.0.0.0', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}
const port = await freePort();
const args = [
  bin,
  'demo',
  '--data-dir',
  join(dir, 'data'),
  '--port',
  String(port),
  '--hub-mqtt-port',
  String(await freePort()),
  '--agent-port-base',
  String(await spareAgentPortBase(agents)),
  '--interval',
  '2',
];
const t0 = performance.now();
// Own process group, so a last-resort kill reaches the demo's children too.
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
let hubApiAt;
child.stdout.on('data', (d) => {
  // The demo prints this progress line once the hub API answers.
  if (hubApiAt === undefined && String(d).includes('hub API up')) hubApiAt = performance.now();
});
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));
const exited = new Promise((r) => child.once('exit', (code) => r(code)));
const deadline = Date.now() + 120_000;
const result = {
  name: 'sim-demo-startup',
  metrics: {},
  peer: { name: `issue 2 target: live data within ${TARGET_S} s`, seconds_to_live: TARGET_S },
};
try {
  const demoPath = join(dir, 'data', 'demo.json');
  while (!existsSync(demoPath)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`demo did not come up: ${stderr.slice(-500)}`);
    await sleep(100);
  }
  result.metrics.seconds_to_demo_json = +((performance.now() - t0) / 1000).toFixed(2);
  const demo = JSON.parse(readFileSync(demoPath, 'utf8'));
  const login = await fetch(`${demo.api_url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(demo.demo_user),
  }).then((r) => r.json());
  const roads = loadNetworkFile(DEFAULT_NETWORK_FILE).roads.size;
  let lastLive;
  for (;;) {
    if (Date.now() > deadline)
      throw new Error(`no live data for every road: ${JSON.stringify(lastLive).slice(0, 300)}`);
    const live = await fetch(`${demo.api_url}/api/traffic/live?limit=200`, {
      headers: { authorization: `Bearer ${login.token}` },
    }).then((r) => r.json());
    lastLive = live;
    if (live.data?.length > 0 && result.metrics.seconds_to_first_live === undefined)
      result.metrics.seconds_to_first_live = +((performance.now() - t0) / 1000).toFixed(2);
    if (live.data?.length >= roads) break;
    await sleep(200);
  }
  result.metrics.seconds_to_all_roads_live = +((performance.now() - t0) / 1000).toFixed(2);
  result.metrics.processes = agents + 1;
  if (hubApiAt !== undefined) result.metrics.seconds_to_hub_api = +((hubApiAt - t0) / 1000).toFixed(2);
  const t1 = performance.now();
  child.kill('SIGINT');
  result.metrics.exit_code = await exited;
  result.metrics.seconds_to_stop = +((performance.now() - t1) / 1000).toFixed(2);
  result.ratio = +(result.metrics.seconds_to_all_roads_live / TARGET_S).toFixed(3);
} catch (e) {
  result.error = e.message;
  // Ask the demo to stop its children first; kill the whole group only if it does not.
  child.kill('SIGINT');
  const stopped = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!stopped) process.kill(-child.pid, 'SIGKILL');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
