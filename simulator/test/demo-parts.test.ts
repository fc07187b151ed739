import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveBrokers } from '../src/brokers.js';
import { port, positiveNumber, qos } from '../src/cli-options.js';
import { checkDemoFile, readDemoFile, writeDemoFile } from '../src/demo-file.js';
import { resolveBin } from '../src/demo/bins.js';
import { agentPorts } from '../src/demo/demo.js';
import { assertPortsFree, isPortFree } from '../src/demo/ports.js';
import { fixtureNetwork } from './helpers/network.js';

const dir = mkdtempSync(join(tmpdir(), 'cf-demo-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const demo = {
  api_url: 'http://127.0.0.1:8081',
  hub_mqtt_url: 'mqtt://127.0.0.1:1884',
  demo_user: { email: 'demo@cityflow.local', password: 'secret' },
  agents: [
    {
      agent_id: 'agent-1',
      mqtt_url: 'mqtt://127.0.0.1:18830',
      http_url: 'http://127.0.0.1:19470',
      data_dir: '/d/a1',
    },
  ],
};

describe('demo.json', () => {
  it('round-trips through an atomic write that leaves no temp file behind', () => {
    const path = join(dir, 'demo.json');
    writeDemoFile(path, demo);
    expect(readDemoFile(path)).toEqual(demo);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports every problem of a bad file as path: message', () => {
    expect(checkDemoFile({ api_url: '', demo_user: { email: 'x' }, agents: [{ agent_id: 'a' }, 3] })).toEqual(
      [
        'api_url: must be a non-empty string',
        'hub_mqtt_url: must be a non-empty string',
        'demo_user.password: must be a non-empty string',
        'agents.0.mqtt_url: must be a non-empty string',
        'agents.0.http_url: must be a non-empty string',
        'agents.0.data_dir: must be a non-empty string',
        'agents.1: must be an object',
      ],
    );
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{"api_url":1}');
    expect(() => readDemoFile(path)).toThrow(expect.objectContaining({ code: 'CF_INVALID_CONFIG' }));
  });
});

describe('broker routing', () => {
  const net = fixtureNetwork();
  it('maps each agent to its mqtt_url, and names every agent without one', () => {
    expect(() => resolveBrokers(net, { demo })).toThrow(/no broker for agent\(s\) agent-2/);
    const two = {
      ...demo,
      agents: [...demo.agents, { ...demo.agents[0]!, agent_id: 'agent-2', mqtt_url: 'mqtt://h:2' }],
    };
    expect(Object.fromEntries(resolveBrokers(net, { demo: two }))).toEqual({
      'agent-1': 'mqtt://127.0.0.1:18830',
      'agent-2': 'mqtt://h:2',
    });
    expect(Object.fromEntries(resolveBrokers(net, { broker: 'mqtt://one:1' }))).toEqual({
      'agent-1': 'mqtt://one:1',
      'agent-2': 'mqtt://one:1',
    });
  });
});

describe('port checks', () => {
  it('names every busy or duplicated port before anything starts', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '0.0.0.0', r));
    const busy = (srv.address() as AddressInfo).port;
    try {
      expect(await isPortFree(busy)).toBe(false);
      const err = await assertPortsFree([
        { port: busy, owner: 'hub API' },
        { port: 1, owner: 'a' },
        { port: 1, owner: 'b' },
      ]).catch((e) => e);
      expect(err.code).toBe('CF_PORT_IN_USE');
      expect(err.details).toContain(`port ${busy} (hub API) is already in use`);
      expect(err.details).toContain('port 1: wanted by both a and b');
    } finally {
      await new Promise((r) => srv.close(r));
    }
    expect(await isPortFree(busy)).toBe(true);
  });

  it('follows the documented agent port plan', () => {
    expect(agentPorts(18830, 0)).toEqual({ mqtt: 18830, http: 19470 });
    expect(agentPorts(18830, 8)).toEqual({ mqtt: 18838, http: 19478 });
  });
});

describe('flag parsers', () => {
  it('reject bad values with the flag name', () => {
    expect(() => positiveNumber('--interval')('0')).toThrow('--interval: must be a positive number, got 0');
    expect(() => port('--port')('70000')).toThrow('--port: must be a TCP port 1..65535, got 70000');
    expect(() => qos('2')).toThrow('--qos: must be 0 or 1');
    expect(qos('1')).toBe(1);
  });
});

describe('binaries', () => {
  it("finds the hub's and the agent's launchers like npx does", () => {
    for (const [pkg, bin] of [
      ['@cityflow/hub', 'cityflow-hub'],
      ['@cityflow/edge-agent', 'cityflow-agent'],
    ] as const) {
      const path = resolveBin(pkg, bin);
      expect(existsSync(path)).toBe(true);
      expect(readFileSync(path, 'utf8')).toContain('dist/cli.js');
    }
    expect(() => resolveBin('@cityflow/nope', 'x')).toThrow(/cannot find the x binary/);
  });
});
