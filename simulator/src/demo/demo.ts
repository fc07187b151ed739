import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CityFlowError, loadNetworkFile } from '@cityflow/protocol';
import type { ClockMode } from '../clock.js';
import { ControlServer } from '../control-server.js';
import { type DemoFile, writeDemoFile } from '../demo-file.js';
import type { Logger } from '../logger.js';
import { type ScenarioName, Simulation } from '../simulation.js';
import { resolveBin } from './bins.js';
import { ChildGroup } from './children.js';
import { HubClient, agentHubConnected, waitFor } from './hub-client.js';
import { assertPortsFree, isPortFree, type PortClaim } from './ports.js';

/** Documented port plan: agent i (agents sorted by id) gets MQTT base+i and HTTP base+HTTP_OFFSET+i. */
export const DEMO_PORTS = { api: 8081, hubMqtt: 1884, agentBase: 18830, httpOffset: 640 } as const;
/** The simulator's control endpoint listens on a free port on 127.0.0.1; demo.json says which. */
export const DEMO_EMAIL = 'demo@cityflow.local';

export interface DemoOptions {
  networkFile: string;
  dataDir: string;
  noSim: boolean;
  clock: ClockMode;
  port: number;
  hubMqttPort: number;
  agentPortBase: number;
  scenario: ScenarioName;
  intervalS: number;
  startupTimeoutS: number;
  log: Logger;
  out?: NodeJS.WritableStream;
  /** agent settings over the demo's (config-file names, camelCase): the SUMO loop's faster live snapshots */
  agentSettings?: Record<string, unknown>;
  /** hub environment over the demo's */
  hubEnv?: Record<string, string>;
}

/** Live snapshots every 2 s (agent default 5 s) so the demo's map moves and first data comes sooner. */
export const DEMO_AGENT_LIVE_INTERVAL_S = 2;

/**
 * Children log at `warn` unless LOG_LEVEL says otherwise: ten processes logging every request at
 * `info` would bury the banner with the URL and credentials.
 */
export function childLogLevel(): string {
  return process.env.LOG_LEVEL || 'warn';
}

/**
 * Writes the agent's config file (0600): hub credentials go there rather than on the command line,
 * where every local user could read them in `ps`. Keys are the `run` flags in camelCase (DESIGN.md).
 */
function agentConfig(
  agentDir: string,
  cred: { username: string; password: string },
  extra: Record<string, unknown> = {},
): string {
  mkdirSync(agentDir, { recursive: true });
  const path = join(agentDir, 'demo-agent.json');
  const body = {
    hubUsername: cred.username,
    hubPassword: cred.password,
    liveIntervalS: DEMO_AGENT_LIVE_INTERVAL_S,
    // Agents start while the local hub is still booting: retry its broker quickly instead of
    // backing off towards the field default of a minute.
    backoffBaseMs: 250,
    backoffMaxMs: 2000,
    logLevel: childLogLevel(),
    ...extra,
  };
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/**
 * Agent secrets are made here and handed to the hub at start (CITYFLOW_AGENTS_FILE, 0600), so the
 * agents can start in parallel with the hub instead of waiting for its API to issue credentials:
 * that wait was most of the demo's start-up time on a fresh PGlite directory.
 */
function writeAgentsFile(
  dataDir: string,
  agentIds: string[],
): { path: string; creds: Map<string, { username: string; password: string }> } {
  const creds = new Map(
    agentIds.map((id) => [id, { username: id, password: randomBytes(32).toString('base64url') }]),
  );
  const path = join(dataDir, 'demo-agents.json');
  const body = agentIds.map((id) => ({ agent_id: id, password: creds.get(id)!.password }));
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { path, creds };
}

export function agentPorts(base: number, index: number): { mqtt: number; http: number } {
  return { mqtt: base + index, http: base + DEMO_PORTS.httpOffset + index };
}

/** Linux's default ip_local_port_range starts here: outgoing connections and port-0 listeners take theirs there. */
const EPHEMERAL_PORTS_FROM = 32768;
const SPARE_BASE_FROM = 20000;

/**
 * A random agent port base whose every port (MQTT and HTTP of `agents` agents) is free now, below the
 * ephemeral range so that another process's outgoing connection cannot take one meanwhile: for runs
 * side by side (tests, benches, the SUMO closed loop) that must not collide on the fixed port plan.
 */
export async function spareAgentPortBase(agents: number): Promise<number> {
  const room = Math.max(1, EPHEMERAL_PORTS_FROM - SPARE_BASE_FROM - DEMO_PORTS.httpOffset - agents);
  for (;;) {
    const base = SPARE_BASE_FROM + Math.floor(Math.random() * room);
    const ports = Array.from({ length: agents }, (_, i) => agentPorts(base, i)).flatMap((p) => [
      p.mqtt,
      p.http,
    ]);
    if ((await Promise.all(ports.map((p) => isPortFree(p)))).every(Boolean)) return base;
  }
}

/**
 * The one-command city: hub + one agent process per agent of the network + the simulator.
 * `start()` resolves once everything is up and demo.json is written; `exited` resolves with the
 * process exit code when the demo ends (stop() -> 0, a child dying on its own -> 1).
 */
export class Demo {
  private readonly children: ChildGroup;
  private sim: Simulation | undefined;
  private control: ControlServer | undefined;
  private failure: ((err: Error) => void) | undefined;
  private resolveExit!: (code: number) => void;
  readonly exited = new Promise<number>((r) => {
    this.resolveExit = r;
  });
  private stopping: Promise<void> | undefined;
  demo: DemoFile | undefined;
  private demoPath: string | undefined;

  constructor(private readonly opts: DemoOptions) {
    this.children = new ChildGroup(
      opts.log,
      (name, code, signal) => this.childDied(name, code, signal),
      opts.out,
    );
  }

  private childDied(name: string, code: number | null, signal: NodeJS.Signals | null): void {
    const err = new Error(`${name} exited unexpectedly (code ${code}, signal ${signal})`);
    this.opts.log.error({ child: name, code, signal }, 'child exited unexpectedly; stopping the demo');
    if (this.failure) this.failure(err);
    else void this.stop(1);
  }

  async start(): Promise<DemoFile> {
    const o = this.opts;
    const net = loadNetworkFile(o.networkFile);
    if (net.uncoveredSensors.size)
      this.progress(
        `warning: ${net.uncoveredSensors.size} sensors of the network file have no agent (e.g. ${[...net.uncoveredSensors.keys()].slice(0, 3).join(', ')}); their readings are ignored`,
      );
    const agentIds = [...net.agents.keys()].sort();
    if (agentIds.length > DEMO_PORTS.httpOffset)
      throw new CityFlowError(
        'CF_INVALID_CONFIG',
        `${agentIds.length} agents: the demo's port plan has room for ${DEMO_PORTS.httpOffset}`,
      );
    const claims: PortClaim[] = [
      { port: o.port, owner: 'hub API' },
      { port: o.hubMqttPort, owner: 'hub MQTT' },
    ];
    agentIds.forEach((id, i) => {
      const p = agentPorts(o.agentPortBase, i);
      claims.push({ port: p.mqtt, owner: `${id} MQTT` }, { port: p.http, owner: `${id} HTTP` });
    });
    await assertPortsFree(claims);

    const dataDir = resolve(o.dataDir);
    const demoPath = join(dataDir, 'demo.json');
    this.demoPath = demoPath;
    mkdirSync(join(dataDir, 'agents'), { recursive: true });
    // A stale demo.json would tell waiting tools the city is up before it is.
    rmSync(demoPath, { force: true });
    const password = randomBytes(12).toString('base64url');
    const apiUrl = `http://127.0.0.1:${o.port}`;
    const hubMqttUrl = `mqtt://127.0.0.1:${o.hubMqttPort}`;
    const hubBin = resolveBin('@cityflow/hub', 'cityflow-hub');
    const agentBin = resolveBin('@cityflow/edge-agent', 'cityflow-agent');

    const failed = new Promise<never>((_, reject) => {
      this.failure = reject;
    });
    failed.catch(() => {});
    const step = <T>(p: Promise<T>) => Promise.race([p, failed]);
    const agentsFile = writeAgentsFile(dataDir, agentIds);
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: childLogLevel() };
      for (const k of ['MQTT_URL', 'REDIS_URL']) delete env[k];
      this.progress(`starting the hub (API port ${o.port}, MQTT port ${o.hubMqttPort})…`);
      this.children.start({
        name: 'hub',
        command: process.execPath,
        args: [hubBin, 'serve'],
        env: {
          ...env,
          DATABASE_URL: `pglite://${join(dataDir, 'hub')}`,
          PORT: String(o.port),
          MQTT_PORT: String(o.hubMqttPort),
          NETWORK_FILE: resolve(o.networkFile),
          CITYFLOW_CLOCK: o.clock,
          JWT_SECRET: randomBytes(32).toString('base64url'),
          CITYFLOW_ADMIN_EMAIL: DEMO_EMAIL,
          CITYFLOW_ADMIN_PASSWORD: password,
          CITYFLOW_AGENTS_FILE: agentsFile.path,
          // the demo is a sandbox: visitors may create their own (viewer) accounts
          CITYFLOW_OPEN_REGISTRATION: 'true',
          // A showcase city of 48 roads: cycles every 30 s put advice on the map within two minutes of
          // an incident (a field hub keeps the 60 s default).
          CITYFLOW_CYCLE_INTERVAL_S: '30',
          ...o.hubEnv,
        },
      });
      this.progress(
        `starting ${agentIds.length} agents (MQTT ${o.agentPortBase}+, HTTP ${o.agentPortBase + DEMO_PORTS.httpOffset}+)…`,
      );
      const agents: DemoFile['agents'] = [];
      for (const [i, id] of agentIds.entries()) {
        const cred = agentsFile.creds.get(id)!;
        const p = agentPorts(o.agentPortBase, i);
        const agentDir = join(dataDir, 'agents', id);
        // The agent's flags are DESIGN.md's `cityflow-agent run` contract.
        this.children.start({
          name: id,
          command: process.execPath,
          args: [
            agentBin,
            'run',
            '--agent-id',
            id,
            '--data-dir',
            agentDir,
            '--mqtt-port',
            String(p.mqtt),
            '--http-port',
            String(p.http),
            '--hub-url',
            hubMqttUrl,
            '--config',
            agentConfig(agentDir, cred, o.agentSettings),
            '--clock',
            o.clock,
          ],
          env,
        });
        agents.push({
          agent_id: id,
          mqtt_url: `mqtt://127.0.0.1:${p.mqtt}`,
          http_url: `http://127.0.0.1:${p.http}`,
          data_dir: agentDir,
        });
      }
      const hub = new HubClient(apiUrl);
      const hubReady = waitFor('the hub API', () => hub.healthy(), o.startupTimeoutS * 1000).then(() => {
        this.progress('hub API up');
        return hub.login(DEMO_EMAIL, password);
      });
      // The simulator starts as soon as the agents' brokers accept connections, in parallel with
      // the agents' hub handshake: agents buffer readings, so live data arrives seconds sooner.
      this.progress('waiting for the hub API and for every agent to connect to the hub…');
      if (!o.noSim) {
        this.sim = new Simulation({
          network: net,
          brokers: new Map(agents.map((a) => [a.agent_id, a.mqtt_url])),
          scenario: o.scenario,
          intervalS: o.intervalS,
          clock: o.clock,
          speedup: 1,
          qos: 1,
          utcOffsetH: 0,
          connectTimeoutMs: o.startupTimeoutS * 1000,
          log: o.log.child({ name: 'sim' }),
        });
      }
      await step(
        Promise.all([
          hubReady,
          this.sim?.start(),
          ...agents.map((a) =>
            waitFor(
              `${a.agent_id} to connect to the hub`,
              () => agentHubConnected(a.http_url),
              o.startupTimeoutS * 1000,
            ),
          ),
        ]),
      );
      if (this.sim) {
        const sim = this.sim;
        this.control = new ControlServer(
          sim.incidents,
          () => sim.clock.now(),
          o.log.child({ name: 'control' }),
        );
        await this.control.start();
      }
      this.demo = {
        api_url: apiUrl,
        hub_mqtt_url: hubMqttUrl,
        demo_user: { email: DEMO_EMAIL, password },
        agents,
        ...(this.control ? { control: { url: this.control.url, token: this.control.token } } : {}),
      };
      writeDemoFile(demoPath, this.demo);
    } catch (err) {
      this.failure = undefined;
      await this.stop(1);
      throw err;
    }
    this.failure = undefined;
    this.banner(demoPath);
    return this.demo;
  }

  /** One plain line per startup step on the demo's output: the children are quiet by default. */
  private progress(message: string): void {
    (this.opts.out ?? process.stdout).write(`cityflow demo: ${message}\n`);
  }

  private banner(demoPath: string): void {
    const o = this.opts;
    const d = this.demo!;
    const lines = [
      '',
      `CityFlow demo is up: ${d.agents.length} agents, ${o.noSim ? 'no simulator (feed the sensors yourself)' : `simulator scenario "${o.scenario}"`}`,
      `  console:   http://localhost:${o.port}`,
      `  login:     ${d.demo_user.email} / ${d.demo_user.password}`,
      `  API:       ${d.api_url}   hub MQTT: ${d.hub_mqtt_url}`,
      `  agents:    sensor brokers ${d.agents[0]?.mqtt_url ?? '-'} ... (all in ${demoPath})`,
      ...(d.control
        ? ['  incidents: npx cityflow-sim incident start --road <road_id>   (and: end, list)']
        : []),
      '  Ctrl-C stops everything.',
      '',
    ];
    (o.out ?? process.stdout).write(lines.join('\n') + '\n');
  }

  /** Stops the simulator, then the agents (so their last data reaches the hub), then the hub. */
  stop(code = 0): Promise<void> {
    // Stopped while starting (Ctrl-C during startup): abort the waits instead of timing out.
    this.failure?.(new Error('the demo was stopped while starting'));
    this.stopping ??= (async () => {
      this.progress(`stopping${this.sim ? ' the simulator,' : ''} the agents, then the hub…`);
      // Bounded: whatever the simulator's connections do, the children must still be stopped.
      const simStopped = this.sim
        ?.stop()
        .catch((e: Error) => this.opts.log.warn({ err: e.message }, 'simulator stop failed'));
      await Promise.race([simStopped, new Promise((r) => setTimeout(r, 3000).unref())]);
      await this.control?.stop();
      // The city is going away: a demo.json left behind would send tools to dead ports.
      if (this.demoPath) rmSync(this.demoPath, { force: true });
      const agents = this.children.running.filter((n) => n !== 'hub');
      await this.children.stop([agents, ['hub']]);
      this.progress(code === 0 ? 'stopped.' : 'stopped after a failure (see above).');
      this.resolveExit(code);
    })();
    return this.stopping;
  }
}
