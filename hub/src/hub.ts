import { randomBytes } from 'node:crypto';
import {
  type AgentConfig,
  type AgentCredentials,
  CityFlowError,
  type Network,
  loadNetworkFile,
  networkToGeoJSON,
  topics,
} from '@cityflow/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.js';
import type { AppContext } from './api/context.js';
import { Revocations } from './auth/revocations.js';
import { TokenService } from './auth/tokens.js';
import { verifyAgentSecret } from './auth/passwords.js';
import { HubClock } from './clock.js';
import { type HubConfig, type HubInput, resolveConfig } from './config.js';
import { Cycles } from './cycles/cycles.js';
import { type Db, openDb } from './db/db.js';
import { migrate } from './db/migrations.js';
import { applyStoragePolicy, describeStorage } from './db/storage-policy.js';
import { TimescaleJobRunner } from './db/timescale-jobs.js';
import { LiveBus } from './live/bus.js';
import { ResponseCache } from './live/cache.js';
import { createLogger, redactUrl } from './logger.js';
import { registerFleetMetrics } from './fleet-metrics.js';
import { createMetrics } from './metrics.js';
import { EmbeddedBroker } from './mqtt/broker.js';
import { HubMqttClient, embeddedCredentials } from './mqtt/hub-client.js';
import { Ingest } from './ingest/pipeline.js';
import {
  createAgent,
  credentialHash,
  ensureAgent,
  rotateAgentCredentials,
  setAgentDisabled,
} from './store/agents.js';
import { upsertUser } from './store/users.js';

export interface RunningHub {
  apiUrl: string;
  /** where agents connect (mqtts:// when MQTT_PLAINTEXT=false) */
  mqttUrl: string;
  /** the embedded broker's mqtts listener, when MQTT_TLS_CERT is set */
  mqttsUrl: string | undefined;
  /** creates the agent, or rotates the secret of an existing one; the password is returned once */
  addAgent(id: string): Promise<AgentCredentials>;
  stop(): Promise<void>;
  /** internals for tests and benchmarks */
  readonly config: HubConfig;
  readonly db: Db;
  readonly app: FastifyInstance;
  readonly ingest: Ingest;
  readonly cycles: Cycles;
  readonly clock: HubClock;
  readonly bus: LiveBus;
  readonly log: Logger;
}

function publicHost(host: string) {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

function credentialsOfUrl(url: string): { url: string; username?: string; password?: string } {
  const u = new URL(url);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  return { url: u.toString(), username, password };
}

/**
 * Starts a hub: config, database + migrations, pub/sub + cache, MQTT (embedded broker or external),
 * ingest, HTTP API, cycles. Everything started is stopped in reverse order by `stop()`; a failure
 * during start releases what was already acquired.
 */
export async function startHub(opts: HubInput = {}): Promise<RunningHub> {
  const config = resolveConfig(opts);
  const log = createLogger(config.logLevel, opts.logStream);
  if (config.jwtSecretGenerated)
    log.warn(
      'JWT_SECRET is not set: using a random secret for this process (tokens die with it; replicas cannot share them)',
    );
  const net: Network = loadNetworkFile(config.networkFile);
  if (net.uncoveredSensors.size)
    log.warn(
      { sensors: net.uncoveredSensors.size, example: [...net.uncoveredSensors.keys()].slice(0, 3) },
      'network file: sensors that no agent covers (agent_id null or missing); their readings are ignored (CF_SENSOR_UNCOVERED)',
    );
  const cleanup: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const f of cleanup.reverse()) {
      try {
        await f();
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'stop step failed');
      }
    }
    cleanup.length = 0;
  };
  try {
    const db = await openDb(config.databaseUrl, {
      max: config.pgPool,
      queryTimeoutMs: config.pgQueryTimeoutMs,
      name: 'cityflow-hub-api',
    });
    cleanup.push(() => db.close());
    // Ingest and agent logins get their own pool: a flood of API requests cannot starve them of
    // connections (PGlite is one in-process engine: shared).
    const ingestDb =
      db.kind === 'pg'
        ? await openDb(config.databaseUrl, {
            max: 5,
            queryTimeoutMs: config.pgQueryTimeoutMs,
            name: 'cityflow-hub-ingest',
          })
        : db;
    if (ingestDb !== db) cleanup.push(() => ingestDb.close());
    const applied = await migrate(db);
    const policy = await applyStoragePolicy(db, log, config.clock);
    const storage = await describeStorage(db);
    log.info({ applied, storage: policy, backend: storage.backend }, 'database ready');
    // (a changed admin password ends that admin's old tokens: every replica reloads versions)
    if (config.adminEmail && config.adminPassword)
      await upsertUser(db, config.adminEmail, config.adminPassword, 'admin');
    for (const a of config.seedAgents) await ensureAgent(db, a.agent_id, a.password);
    if (config.seedAgents.length)
      log.info({ agents: config.seedAgents.length }, 'agents from CITYFLOW_AGENTS_FILE');

    const metrics = createMetrics();
    registerFleetMetrics(metrics.registry, db, config.metricsMaxAgents, metrics.dbErrors);
    const clock = new HubClock(config.clock);
    const bus = new LiveBus(config.redisUrl, log.child({ module: 'bus' }), config.redisPrefix);
    await bus.start();
    cleanup.push(() => bus.stop());
    const cache = new ResponseCache(
      config.cache,
      config.redisUrl,
      config.redisPrefix,
      bus,
      metrics,
      log.child({ module: 'cache' }),
    );
    await cache.start();
    cleanup.push(() => cache.stop());
    const revocations = new Revocations(db, bus, log.child({ module: 'auth' }), config.revocationPollMs);
    await revocations.start();
    cleanup.push(() => revocations.stop());

    let mqttUrl: string;
    /** what agents use: the external broker, else the embedded plaintext or (plaintext off) mqtts listener */
    let agentMqttUrl: string;
    let mqttsUrl: string | undefined;
    let broker: EmbeddedBroker | null = null;
    let mqttCreds: { username?: string; password?: string };
    if (config.mqttUrl) {
      const c = credentialsOfUrl(config.mqttUrl);
      mqttUrl = c.url;
      agentMqttUrl = c.url;
      mqttCreds = c;
    } else {
      const hubSecret = randomBytes(24).toString('base64url');
      const b = new EmbeddedBroker(
        {
          host: config.host,
          port: config.mqttPort,
          plaintext: config.mqttPlaintext,
          tls: config.mqttTls,
          maxConnections: config.mqttMaxConnections,
          publishRatePerS: config.mqttPublishRatePerS,
          onRefuse: (reason) => metrics.brokerRefused.inc({ reason }),
        },
        {
          hubSecret,
          verifyAgent: async (username, password) => {
            const c = await credentialHash(ingestDb, username);
            if (!c || !verifyAgentSecret(password, c.sha256)) return 'bad';
            return c.disabled ? 'disabled' : 'ok';
          },
        },
        log.child({ module: 'broker' }),
      );
      await b.start();
      cleanup.push(() => b.stop());
      broker = b;
      mqttUrl = b.internalUrl;
      const h = publicHost(config.host);
      agentMqttUrl = config.mqttPlaintext ? `mqtt://${h}:${b.port}` : `mqtts://${h}:${b.tlsPort}`;
      if (config.mqttTls) mqttsUrl = `mqtts://${h}:${b.tlsPort}`;
      mqttCreds = embeddedCredentials(hubSecret);
    }

    // The client is created before ingest needs it; messages arrive only after start().
    let client: HubMqttClient | null = null;
    const publish = async (topic: string, payload: unknown, o: { qos: 0 | 1; retain: boolean }) => {
      if (!client) throw new Error('mqtt not connected');
      await client.publish(topic, payload, o);
    };
    const publishConfig = async (agentId: string) => {
      const cfg: AgentConfig = {
        v: 1,
        agent_id: agentId,
        issued_at: new Date().toISOString(),
        network: networkToGeoJSON(net, agentId) as never,
      };
      await publish(topics.config(agentId), cfg, { qos: 1, retain: true });
    };
    const cycles = new Cycles({
      db,
      net,
      clock,
      metrics,
      bus,
      cache,
      config,
      publish,
      log: log.child({ module: 'cycles' }),
      // PGlite has no background workers: the cycle runs TimescaleDB's policy jobs there.
      timescaleJobs:
        storage.timescaledb.jobs_run_by === 'hub'
          ? new TimescaleJobRunner(db, log.child({ module: 'timescale-jobs' }))
          : undefined,
    });
    const ingest: Ingest = new Ingest({
      db: ingestDb,
      net,
      queue: { perAgentBytes: config.ingestQueueAgentBytes, totalBytes: config.ingestQueueTotalBytes },
      quarantineMaxBytes: config.quarantineMaxBytes,
      clock,
      metrics,
      bus,
      cache,
      publish,
      log: log.child({ module: 'ingest' }),
      onAgentOnline: async (agentId) => {
        await publishConfig(agentId);
        await ingest.republishAcks(agentId);
        await cycles.republishAdvice(agentId);
      },
    });
    client = new HubMqttClient(
      mqttUrl,
      mqttCreds,
      Boolean(config.mqttUrl),
      (t, p) => ingest.handle(t, p),
      log.child({ module: 'mqtt' }),
    );
    await client.start();
    cleanup.push(async () => {
      await ingest.idle();
      await client?.stop();
    });
    const known = new Set<string>(net.agents.keys());
    for (const r of (await db.query<{ agent_id: string }>('SELECT agent_id FROM agents')).rows)
      known.add(r.agent_id);
    for (const id of known)
      await publishConfig(id).catch((e) =>
        log.warn({ agent_id: id, err: (e as Error).message }, 'config publish failed'),
      );

    // Embedded broker: the live session ends at once. An external broker keeps it until its operator
    // regenerates the password file and reloads it (Mosquitto 2.0 then drops clients that no longer match).
    const endSession = (id: string, why: string) => {
      const closed = broker?.disconnectAgent(id) ?? false;
      log.info({ agent_id: id, session_closed: closed, external_broker: broker === null }, why);
    };
    const addAgent = async (id: string) => {
      let creds = await createAgent(db, id);
      if (!creds) {
        creds = await rotateAgentCredentials(db, id);
        endSession(id, 'credentials rotated');
      }
      await publishConfig(id).catch(() => undefined);
      return creds;
    };
    const ctx: AppContext = {
      config,
      db,
      net,
      clock,
      metrics,
      cache,
      bus,
      tokens: new TokenService(config.jwtSecret),
      revocations,
      addAgent: async (id) => {
        const creds = await createAgent(db, id);
        if (creds) await publishConfig(id).catch(() => undefined);
        return creds;
      },
      rotateAgent: async (id) => {
        const exists = (await db.query('SELECT 1 FROM agents WHERE agent_id = $1', [id])).rows.length > 0;
        if (!exists) return null;
        const creds = await rotateAgentCredentials(db, id);
        endSession(id, 'credentials rotated');
        return creds;
      },
      setAgentDisabled: async (id, disabled) => {
        const found = await setAgentDisabled(db, id, disabled);
        if (found && disabled) endSession(id, 'agent disabled');
        return found;
      },
      cycleLeader: () => cycles.leader,
      lastCycleAt: () => cycles.lastRunAtMs,
      storage,
      publish,
      ready: async () => {
        const checks: Record<string, string> = {};
        // /health is public: the database's error text (host, user, database names) goes to the log only.
        checks.database = await db.query('SELECT 1').then(
          () => 'ok',
          (e) => {
            log.warn({ err: (e as Error).message }, 'health check: database unavailable');
            return 'unavailable';
          },
        );
        checks.mqtt = client?.connected ? 'ok' : 'disconnected';
        return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
      },
    };
    const app = await buildApp(ctx, log);
    cleanup.push(() => app.close());
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new CityFlowError('CF_PORT_IN_USE', `PORT ${config.port} is already in use (hub HTTP API)`);
      throw e;
    }
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    await cycles.start();
    cleanup.push(() => cycles.stop());
    const apiUrl = `${config.https ? 'https' : 'http'}://${publicHost(config.host)}:${port}`;
    log.info(
      {
        api_url: apiUrl,
        mqtt_url: redactUrl(agentMqttUrl),
        mqtts_url: mqttsUrl,
        clock: config.clock,
        network: config.networkFile,
      },
      'hub started',
    );
    return {
      apiUrl,
      mqttUrl: agentMqttUrl,
      mqttsUrl,
      addAgent,
      stop: stopAll,
      config,
      db,
      app,
      ingest,
      cycles,
      clock,
      bus,
      log,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
