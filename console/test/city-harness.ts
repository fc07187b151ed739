/**
 * A small real city for the console's browser tests: a hub (PGlite, data clock), three agents (two in
 * this process, one as its own `cityflow-agent` process so a test can kill it), the simulator on the
 * data clock (hours of history in a minute of wall time) with its incident control endpoint, and a
 * demo.json so `cityflow-sim incident start|end` finds it exactly as in `cityflow-sim demo`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RunningAgent, startAgent } from '@cityflow/edge-agent';
import { type RunningHub, startHub } from '@cityflow/hub';
import { loadNetworkFile } from '@cityflow/protocol';
import { ControlServer, Simulation, writeDemoFile } from '@cityflow/simulator';
import pino from 'pino';

export const ADMIN = { email: 'ops@console.test', password: 'console-password-1' };
export const VIEWER = { email: 'viewer@console.test', password: 'viewer-password-1' };
export const OPERATOR = { email: 'operator@console.test', password: 'operator-password-1' };
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SIM_BIN = join(ROOT, 'simulator/bin/cityflow-sim.js');
const AGENT_BIN = join(ROOT, 'edge-agent/bin/cityflow-agent.js');
/** Simulated seconds per wall second: two hours of history build up in six minutes. */
export const SPEEDUP = 20;
export const SIM_START_BEHIND_MS = 2 * 3600_000;

/**
 * A 3×3 grid of signalised intersections around the Paris city hall, every street two-way (one
 * directed road each way, one sensor each); agent-w, agent-c and agent-e cover the west, centre and
 * east columns.
 */
export function gridNetwork() {
  const features: unknown[] = [];
  const lon = (c: number) => 2.345 + c * 0.006;
  const lat = (r: number) => 48.853 + r * 0.004;
  const agentOf = (c: number) => ['agent-w', 'agent-c', 'agent-e'][c]!;
  const node = (r: number, c: number) => `N${r}${c}`;
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++)
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon(c), lat(r)] },
        properties: { kind: 'intersection', node_id: node(r, c), agent_id: agentOf(c) },
      });
  const road = (r1: number, c1: number, r2: number, c2: number, name: string) => {
    const id = `${node(r1, c1)}-${node(r2, c2)}`;
    const a = [lon(c1), lat(r1)];
    const b = [lon(c2), lat(r2)];
    features.push(
      {
        type: 'Feature',
        geometry: { type: 'LineString', coordinates: [a, b] },
        properties: {
          kind: 'road',
          road_id: id,
          from_node: node(r1, c1),
          to_node: node(r2, c2),
          length_m: 450,
          lanes: 2,
          speed_limit_kmh: 50,
          capacity_vph: 1800,
          name,
        },
      },
      {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [(a[0]! + b[0]!) / 2, (a[1]! + b[1]!) / 2] },
        properties: { kind: 'sensor', sensor_id: `S-${id}`, road_id: id, agent_id: agentOf(c2) },
      },
    );
  };
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 2; c++) {
      road(r, c, r, c + 1, `Rue ${r}${c} est`);
      road(r, c + 1, r, c, `Rue ${r}${c} ouest`);
    }
  for (let c = 0; c < 3; c++)
    for (let r = 0; r < 2; r++) {
      road(r, c, r + 1, c, `Avenue ${c}${r} nord`);
      road(r + 1, c, r, c, `Avenue ${c}${r} sud`);
    }
  return { type: 'FeatureCollection', features };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Starts or ends an incident on a road of the running city through the simulator's CLI verb, exactly as
 * a person giving a demo does (`cityflow-sim incident start|end --road R --demo demo.json`); its stdout.
 */
export async function simIncident(city: City, action: 'start' | 'end', roadId: string): Promise<string> {
  const args = [SIM_BIN, 'incident', action, '--road', roadId, '--demo', city.demoFile];
  return (await promisify(execFile)(process.execPath, args)).stdout;
}

export interface City {
  hub: RunningHub;
  sim: Simulation;
  demoFile: string;
  agentE: ChildProcess;
  /** stops the sensors (the data stops; agents and hub keep running) */
  stopSensors(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCity(dir: string): Promise<City> {
  const networkFile = join(dir, 'network.geojson');
  writeFileSync(networkFile, JSON.stringify(gridNetwork()));
  const hub = await startHub({
    databaseUrl: 'pglite://memory',
    port: 0,
    mqttPort: 0,
    jwtSecret: 'console-secret-console-secret-0123456',
    networkFile,
    clock: 'data',
    cycleIntervalS: 60,
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
    openRegistration: true,
    logLevel: 'warn',
  });
  const agents: RunningAgent[] = [];
  const brokers = new Map<string, string>();
  const httpUrls = new Map<string, string>();
  for (const id of ['agent-w', 'agent-c']) {
    const cred = await hub.addAgent(id);
    const a = await startAgent({
      agentId: id,
      dataDir: join(dir, id),
      hubUrl: hub.mqttUrl,
      hubUsername: cred.username,
      hubPassword: cred.password,
      clock: 'data',
      liveIntervalS: 1,
    });
    agents.push(a);
    brokers.set(id, a.mqttUrl);
    httpUrls.set(id, a.httpUrl);
  }
  // agent-e runs as its own process: killing it (SIGKILL) is a real crash, and the hub learns it from
  // the MQTT last will.
  const credE = await hub.addAgent('agent-e');
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const configE = join(dir, 'agent-e.json');
  writeFileSync(
    configE,
    JSON.stringify({
      hubUsername: credE.username,
      hubPassword: credE.password,
      liveIntervalS: 1,
      backoffBaseMs: 250,
      backoffMaxMs: 2000,
      logLevel: 'warn',
    }),
    { mode: 0o600 },
  );
  const agentE = spawn(
    process.execPath,
    [
      AGENT_BIN,
      'run',
      '--agent-id',
      'agent-e',
      '--data-dir',
      join(dir, 'agent-e'),
      '--mqtt-port',
      String(mqttPort),
      '--http-port',
      String(httpPort),
      '--hub-url',
      hub.mqttUrl,
      '--config',
      configE,
      '--clock',
      'data',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  brokers.set('agent-e', `mqtt://127.0.0.1:${mqttPort}`);
  httpUrls.set('agent-e', `http://127.0.0.1:${httpPort}`);
  const sim = new Simulation({
    network: loadNetworkFile(networkFile),
    brokers,
    scenario: 'normal',
    intervalS: 10,
    clock: 'data',
    speedup: SPEEDUP,
    startMs: Date.now() - SIM_START_BEHIND_MS,
    qos: 1,
    utcOffsetH: 0,
    connectTimeoutMs: 30_000,
    log: pino({ level: 'warn' }),
  });
  await sim.start();
  const control = new ControlServer(sim.incidents, () => sim.clock.now(), pino({ level: 'warn' }));
  await control.start();
  const demoFile = join(dir, 'demo.json');
  writeDemoFile(demoFile, {
    api_url: hub.apiUrl,
    hub_mqtt_url: hub.mqttUrl,
    demo_user: ADMIN,
    agents: [...brokers].map(([agent_id, mqtt_url]) => ({
      agent_id,
      mqtt_url,
      http_url: httpUrls.get(agent_id)!,
      data_dir: join(dir, agent_id),
    })),
    control: { url: control.url, token: control.token },
  });
  let simStopped: Promise<void> | null = null;
  const stopSensors = () => {
    simStopped ??= sim.stop();
    return simStopped;
  };
  return {
    hub,
    sim,
    demoFile,
    agentE,
    stopSensors,
    async stop() {
      await control.stop();
      await stopSensors();
      if (agentE.exitCode === null && agentE.signalCode === null) {
        const exited = new Promise((r) => agentE.once('exit', r));
        agentE.kill('SIGTERM');
        await exited;
      }
      for (const a of agents) await a.stop();
      await hub.stop();
    },
  };
}
