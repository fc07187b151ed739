/**
 * The demo binary as outside tools use it (issue 2, "Done when"): start `cityflow-sim demo --no-sim`,
 * wait for demo.json, publish readings with the real `mosquitto_pub` CLI to an agent's mqtt_url,
 * find them in /api/traffic/history with the right samples count, then Ctrl-C stops every child.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isPortFree } from '../src/demo/ports.js';
import { spareAgentPortBase } from '../src/demo/demo.js';
import {
  closedMinute,
  freePort,
  getJson,
  iso,
  login,
  waitUntil,
  writeFixtureNetwork,
} from './helpers/http.js';

const BIN = fileURLToPath(new URL('../bin/cityflow-sim.js', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('e2e: cityflow-sim demo --no-sim, fed by mosquitto_pub', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-e2e-demo-'));
  let child: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';
  afterAll(() => {
    // Last resort after a failed assertion: the whole process group, so no hub or agent outlives the test.
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves an outside source end to end and stops every child on SIGINT', async () => {
    const dataDir = join(dir, 'data');
    const port = await freePort();
    const hubMqttPort = await freePort();
    const base = await spareAgentPortBase(2);
    child = spawn(
      process.execPath,
      [
        BIN,
        'demo',
        '--no-sim',
        '--network',
        writeFixtureNetwork(dir),
        '--data-dir',
        dataDir,
        '--port',
        String(port),
        '--hub-mqtt-port',
        String(hubMqttPort),
        '--agent-port-base',
        String(base),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' }, detached: true },
    );
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));

    const demoPath = join(dataDir, 'demo.json');
    await waitUntil('demo.json', async () => existsSync(demoPath) || child!.exitCode !== null, 90_000, 250);
    expect(child.exitCode, `demo exited early:\n${stderr}`).toBeNull();
    const demo = JSON.parse(readFileSync(demoPath, 'utf8'));
    expect(demo.api_url).toBe(`http://127.0.0.1:${port}`);
    expect(demo.hub_mqtt_url).toBe(`mqtt://127.0.0.1:${hubMqttPort}`);
    expect(demo.agents.map((a: { agent_id: string }) => a.agent_id)).toEqual(['agent-1', 'agent-2']);
    expect(demo.agents[1]).toMatchObject({
      mqtt_url: `mqtt://127.0.0.1:${base + 1}`,
      http_url: `http://127.0.0.1:${base + 641}`,
    });
    expect(stdout).toContain(`console:   http://localhost:${port}`);
    expect(stdout).toContain(demo.demo_user.password);
    // Children's lines are prefixed with their name.
    expect(stdout).toMatch(/^\[hub\] /m);
    expect(stdout).toMatch(/^\[agent-1\] /m);

    // Sensor s-BC-0 is on road BC, covered by agent-2 (the road's to_node C).
    const agent = demo.agents.find((a: { agent_id: string }) => a.agent_id === 'agent-2');
    const { hostname, port: mqttPort } = new URL(agent.mqtt_url);
    const minute = closedMinute(2);
    const lines = [0, 10, 20, 30, 40, 50].map((s, i) =>
      JSON.stringify({
        ts: iso(minute + s * 1000),
        sensor_id: 's-BC-0',
        road_id: 'BC',
        speed_kmh: i === 5 ? null : 20 + i,
        flow_rate: 600,
        occupancy: 0.2,
      }),
    );
    await new Promise<void>((resolve, reject) => {
      const pub = execFile(
        'mosquitto_pub',
        ['-h', hostname, '-p', mqttPort, '-q', '1', '-t', 'cityflow/traffic/s-BC-0', '-l'],
        (err) => (err ? reject(err) : resolve()),
      );
      pub.stdin!.end(`${lines.join('\n')}\n`);
    });

    const token = await login(demo.api_url, demo.demo_user.email, demo.demo_user.password);
    const url = `${demo.api_url}/api/traffic/history?road_id=BC&bucket=1m&from=${iso(minute)}&to=${iso(minute + 60_000)}`;
    const page = await waitUntil(
      'the published minute in /api/traffic/history',
      async () => {
        const r = await getJson(url, token);
        return r.body?.data?.[0]?.samples === 6 ? r.body : undefined;
      },
      60_000,
    );
    expect(page.data).toEqual([expect.objectContaining({ road_id: 'BC', samples: 6 })]);
    expect(page.data[0].speed_kmh).toBeCloseTo(22, 5); // mean of 20..24, the null speed excluded

    const pids = stderr.split('\n').flatMap((l) => {
      try {
        const j = JSON.parse(l);
        return j.msg === 'child started' ? [j.child_pid as number] : [];
      } catch {
        return [];
      }
    });
    expect(pids).toHaveLength(3); // hub + 2 agents
    // Agent hub credentials travel in a 0600 config file, not on command lines every user can read.
    for (const pid of pids)
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain('--hub-password');
    expect(statSync(join(dataDir, 'agents', 'agent-1', 'demo-agent.json')).mode & 0o777).toBe(0o600);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const pid of pids) expect(alive(pid), `child ${pid} still running`).toBe(false);
    expect(existsSync(demoPath)).toBe(false);
    for (const p of [port, hubMqttPort, base, base + 1, base + 640, base + 641])
      expect(await isPortFree(p)).toBe(true);
  }, 180_000);
});
