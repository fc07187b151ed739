/**
 * One chaos scenario's world, against real sockets: a hub (`startHub`, PGlite on disk so it can be
 * restarted), a built `cityflow-agent run` child process reaching the hub through a TCP proxy that
 * can be cut, and QoS 1 sensors on the agent's broker. Ports are fixed per world so a restarted agent
 * or hub comes back where its peers expect it. `close()` releases everything in reverse.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '@cityflow/hub';
import { lineNetwork, spawnAgent } from '../../bench/lib/agent-fixture.js';
import { linkProxy } from '../../bench/lib/link-proxy.js';

export const AGENT = 'CHAOS-A';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** `dataDir`: where the agent's SQLite lives (default: inside the world's temp dir). */
export async function startWorld({ sensors = 16, roads = 8, dataDir, agentConfig = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cf-chaos-'));
  const cleanups = [() => rmSync(dir, { recursive: true, force: true })];
  const netFile = join(dir, 'network.geojson');
  writeFileSync(netFile, JSON.stringify(lineNetwork({ prefix: 'C', roads, sensors, agentId: AGENT })));
  const hubOpts = {
    databaseUrl: `pglite://${join(dir, 'hub-db')}`,
    mqttPort: await freePort(),
    port: await freePort(),
    host: '127.0.0.1',
    networkFile: netFile,
    logLevel: 'silent',
    clock: 'data',
    cycleIntervalS: 3600,
    // the scenarios read history through the API as any client: an account each (registration is
    // closed by default), tokens that survive a hub restart (one secret for both processes)
    openRegistration: true,
    jwtSecret: `chaos-${process.pid}-0123456789abcdef`,
  };
  let hub = await startHub(hubOpts);
  const cred = await hub.addAgent(AGENT);
  const proxy = await linkProxy(hub.mqttUrl);
  const agentDir = dataDir ?? join(dir, 'agent');
  mkdirSync(agentDir, { recursive: true });
  const cfgFile = join(dir, 'agent.json');
  writeFileSync(
    cfgFile,
    JSON.stringify({
      logLevel: process.env.CHAOS_VERBOSE ? 'info' : 'fatal',
      liveIntervalS: 3600,
      forecastIntervalS: 3600,
      healthIntervalS: 2,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      ackTimeoutS: 2,
      ...agentConfig,
    }),
  );
  const ports = { mqtt: await freePort(), http: await freePort() };
  const args = [
    ...['--config', cfgFile, '--agent-id', AGENT, '--data-dir', agentDir],
    ...['--mqtt-port', String(ports.mqtt), '--http-port', String(ports.http), '--clock', 'data'],
    ...['--hub-url', proxy.url, '--hub-username', cred.username, '--hub-password', cred.password],
  ];
  const stderr = process.env.CHAOS_VERBOSE ? 'inherit' : 'ignore';
  let agent = await spawnAgent(args, { stderr });
  const httpUrl = `http://127.0.0.1:${ports.http}`;

  const world = {
    dir,
    agentDir,
    proxy,
    sensors,
    roads,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    httpUrl,
    get hub() {
      return hub;
    },
    get agent() {
      return agent;
    },
    async status() {
      return (await fetch(`${httpUrl}/status`)).json();
    },
    /** Stops the agent: 'SIGKILL' (power cut, kill -9) or 'SIGTERM' (graceful). */
    async stopAgent(signal) {
      const child = agent.child;
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill(signal);
        await gone;
      }
    },
    async startAgent() {
      agent = await spawnAgent(args, { stderr });
    },
    async restartHub(downMs) {
      await hub.stop();
      await sleep(downMs);
      hub = await startHub(hubOpts);
    },
    async close() {
      await world.stopAgent('SIGTERM').catch(() => {});
      await proxy.close();
      await hub.stop().catch(() => {});
      for (const c of cleanups.reverse()) c();
    },
  };
  return world;
}
