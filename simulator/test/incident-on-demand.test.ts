import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEFAULT_NETWORK_FILE, loadNetworkFile } from '@cityflow/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlServer, controlRequest } from '../src/control-server.js';
import { writeDemoFile } from '../src/demo-file.js';
import { NormalScenario } from '../src/scenarios/normal.js';
import { ON_DEMAND_RAMP_IN_MIN, OnDemandIncidents } from '../src/scenarios/on-demand.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/cityflow-sim.js', import.meta.url));
const net = loadNetworkFile(DEFAULT_NETWORK_FILE);
const ctx = { network: net, utcOffsetH: 0 };
const road = [...net.roads.values()].find((r) => net.intersections.has(r.from_node))!;
const T0 = Date.parse('2026-03-02T10:00:00Z');

describe('incidents started and ended on demand', () => {
  it('hits the road once started, ramps in, and clears after it ends', () => {
    const inc = new OnDemandIncidents(new NormalScenario(ctx), ctx);
    const base = inc.condition(road, T0).speedFactor;
    inc.start(road.road_id, T0);
    const full = T0 + ON_DEMAND_RAMP_IN_MIN * 60_000;
    expect(inc.condition(road, full).speedFactor).toBeLessThan(base * 0.2);
    expect(inc.condition(road, full).occupancyFloor).toBeGreaterThan(0.6);
    // Still on an hour later: an on-demand incident lasts until it is ended.
    expect(inc.condition(road, T0 + 3600_000).speedFactor).toBeLessThan(base * 0.2);
    inc.end(road.road_id, T0 + 3600_000);
    expect(inc.list()[0]?.ended_at).toBe(new Date(T0 + 3600_000).toISOString());
    expect(inc.condition(road, T0 + 3600_000 + 30 * 60_000).speedFactor).toBeCloseTo(base, 6);
    expect(inc.list()).toEqual([]);
  });

  it('refuses unknown roads and ending what is not running', () => {
    const inc = new OnDemandIncidents(new NormalScenario(ctx), ctx);
    expect(() => inc.start('NO-SUCH-ROAD', T0)).toThrow(/not a road/);
    expect(() => inc.end(road.road_id, T0)).toThrow(/no incident running/);
  });
});

describe('control endpoint and `cityflow-sim incident` (real HTTP on 127.0.0.1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-sim-control-'));
  const incidents = new OnDemandIncidents(new NormalScenario(ctx), ctx);
  const server = new ControlServer(incidents, () => T0, pino({ level: 'silent' }));
  const demoFile = join(dir, 'demo.json');

  beforeAll(async () => {
    await server.start();
    writeDemoFile(demoFile, {
      api_url: 'http://127.0.0.1:1',
      hub_mqtt_url: 'mqtt://127.0.0.1:1',
      demo_user: { email: 'demo@cityflow.local', password: 'x' },
      agents: [],
      control: { url: server.url, token: server.token },
    });
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, lists and ends an incident through the CLI verb', async () => {
    const start = await run(process.execPath, [
      BIN,
      'incident',
      'start',
      '--road',
      road.road_id,
      '--demo',
      demoFile,
    ]);
    expect(start.stdout).toBe(
      `incident on ${road.road_id} since ${new Date(T0).toISOString()} (simulated time)\n`,
    );
    expect(incidents.list().map((i) => i.road_id)).toEqual([road.road_id]);
    const list = await run(process.execPath, [BIN, 'incident', 'list', '--json', '--demo', demoFile]);
    expect(JSON.parse(list.stdout).incidents[0]).toMatchObject({ road_id: road.road_id, ended_at: null });
    await run(process.execPath, [BIN, 'incident', 'end', '--road', road.road_id, '--demo', demoFile]);
    expect(incidents.list()[0]?.ended_at).not.toBeNull();
  });

  it('fails with a clear message for an unknown road, a missing --road and a missing demo.json', async () => {
    await expect(
      run(process.execPath, [BIN, 'incident', 'start', '--road', 'NOPE', '--demo', demoFile]),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/road NOPE is not a road of the network/),
    });
    await expect(run(process.execPath, [BIN, 'incident', 'start', '--demo', demoFile])).rejects.toMatchObject(
      {
        stderr: expect.stringMatching(/--road: required/),
      },
    );
    await expect(
      run(process.execPath, [BIN, 'incident', 'list', '--demo', join(dir, 'none.json')]),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/not found/),
    });
  });

  it('refuses requests without the token and hostile bodies', async () => {
    const bad = await fetch(`${server.url}/incidents`);
    expect(bad.status).toBe(401);
    const control = { url: server.url, token: server.token };
    await expect(controlRequest(control, 'POST', { action: 'explode', road_id: '../../x' })).rejects.toThrow(
      /action: must be "start" or "end"; road_id: must be a road id/,
    );
    const huge = await fetch(`${server.url}/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}` },
      body: 'x'.repeat(10_000),
    });
    expect(huge.status).toBe(413);
  });
});
