import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import {
  BrokerGuard,
  type BrokerRefusal,
  MQTT_LIMITS,
  parseTopic,
  safeEqual,
  topics,
} from '@cityflow/protocol';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from '../logger.js';
import { listenOn } from './listen.js';

export type SensorMessageHandler = (
  sensorId: string,
  topic: string,
  payload: Buffer,
  qos: number,
  done: (err: Error | null) => void,
  conn?: { cork(): void; uncork(): void },
) => void;

export type DeniedHandler = (topic: string, payload: Buffer, reason: string) => void;

export interface LocalBrokerOptions {
  port: number;
  host: string;
  /** sensor_id -> password; empty = anonymous sensors may publish to any sensor topic. */
  sensorCredentials: Record<string, string>;
  /** open connections at once (0 = unlimited) */
  maxConnections: number;
  /** publishes per second per connection (0 = unlimited); over it the client is disconnected */
  publishRatePerS: number;
  /** every refusal, for the metrics */
  onRefuse(reason: BrokerRefusal): void;
}

type SensorClient = Client & { sensorId?: string };

export type MqttPacketModule = { writeToStream?: { cacheNumbers?: boolean } };

/**
 * mqtt-packet (aedes' and mqtt.js' encoder) builds, on its first PUBACK, a cache of 65,536 two-byte
 * Buffers for packet ids: ~6 MB of V8 heap kept for the life of the process (a heap snapshot of the
 * agent after an hour-equivalent showed it as the largest retained object). Allocating the two bytes
 * per packet instead costs nothing measurable; this switches the cache off in the copy aedes loads
 * (`mp`: the module itself, where node_modules cannot be searched: the single executable's bundle).
 */
export function disableMqttPacketNumberCache(mp?: MqttPacketModule): void {
  try {
    const m =
      mp ??
      (createRequire(createRequire(import.meta.url).resolve('aedes'))('mqtt-packet') as MqttPacketModule);
    if (m.writeToStream) m.writeToStream.cacheNumbers = false;
  } catch {
    /* another aedes layout: the cache is a memory cost, not a correctness one */
  }
}
disableMqttPacketNumberCache();

/**
 * The intersection's MQTT broker (aedes). Sensors publish `cityflow/traffic/{sensor_id}`; the ingest
 * handler decides when the publish is acknowledged: aedes sends the QoS 1 PUBACK only once
 * `authorizePublish` calls back, and the handler calls back after the group commit.
 *
 * Access rules: with sensor credentials configured, a sensor logs in as its sensor_id and may publish
 * only to its own topic; anonymous clients may then only subscribe (tail, roadside signs). Without
 * credentials, anyone on the cabinet network may publish sensor topics. Nothing else is publishable.
 */
export class LocalBroker {
  private aedes: Aedes | null = null;
  private server: Server | null = null;
  port = 0;

  constructor(
    private readonly opts: LocalBrokerOptions,
    private readonly onSensorMessage: SensorMessageHandler,
    private readonly onDenied: DeniedHandler,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const creds = this.opts.sensorCredentials;
    const secured = Object.keys(creds).length > 0;
    const guard = new BrokerGuard({
      maxPacketBytes: MQTT_LIMITS.sensorPacketMaxBytes,
      maxConnections: this.opts.maxConnections,
      publishRatePerS: this.opts.publishRatePerS,
      onRefuse: (reason) => {
        this.log.debug({ reason }, 'broker refused');
        this.opts.onRefuse(reason);
      },
    });
    const aedes = await Aedes.createBroker({
      // a socket that never sends CONNECT holds a connection slot only this long (aedes: 30 s)
      connectTimeout: 10_000,
      authenticate: (client: SensorClient, username, password, done) => {
        if (username === undefined) return done(null, true);
        if (secured && Object.hasOwn(creds, username) && safeEqual(password ?? '', creds[username]!)) {
          client.sensorId = username;
          return done(null, true);
        }
        if (!secured) return done(null, true);
        const err = new Error('bad sensor credentials') as AuthenticateError;
        err.returnCode = 4;
        this.log.warn({ username, client: client.id }, 'sensor login refused');
        done(err, false);
      },
      authorizePublish: (client: SensorClient | null, packet, callback) => {
        if (client === null) return callback(null); // the agent's own publishes (local advice)
        if (!guard.allowPublish(client.conn)) return callback(new Error('publish rate exceeded'));
        // aedes keeps retained messages in memory for ever: a reading is never worth keeping (a new one
        // follows within seconds), so its retain flag is dropped and it is delivered as a live message.
        if (packet.retain) {
          packet.retain = false;
          this.opts.onRefuse('retained');
        }
        const parsed = parseTopic(packet.topic);
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        let reason: string | null = null;
        if (parsed?.kind !== 'sensor') reason = `topic ${packet.topic} is not a sensor topic`;
        else if (secured && client.sensorId !== parsed.sensorId)
          reason = client.sensorId
            ? `sensor ${client.sensorId} may publish only to ${topics.sensor(client.sensorId)}`
            : 'anonymous clients may not publish when sensor credentials are configured';
        if (reason !== null || parsed?.kind !== 'sensor') {
          this.onDenied(packet.topic, payload, reason ?? 'not allowed');
          return callback(new Error(reason ?? 'not allowed'));
        }
        const conn = client.conn as unknown as { cork?(): void; uncork?(): void };
        this.onSensorMessage(
          parsed.sensorId,
          packet.topic,
          payload,
          packet.qos,
          (err) => callback(err),
          conn.cork ? (conn as { cork(): void; uncork(): void }) : undefined,
        );
      },
      authorizeSubscribe: (_client, sub, callback) => {
        if (sub.topic.startsWith('cityflow/') || sub.topic === '#') return callback(null, sub);
        callback(new Error(`subscription to ${sub.topic} is not allowed`));
      },
    });
    aedes.on('clientError', (client, err) =>
      this.log.debug({ client: client.id, err: err.message }, 'client error'),
    );
    aedes.on('connectionError', (client, err) =>
      this.log.debug({ client: client?.id, err: err.message }, 'connection error'),
    );
    this.aedes = aedes;
    this.server = createServer((socket) => {
      if (guard.admit(socket)) aedes.handle(guard.scan(socket));
    });
    try {
      this.port = await listenOn(this.server, this.opts.port, this.opts.host, '--mqtt-port');
    } catch (e) {
      await new Promise<void>((r) => aedes.close(() => r()));
      this.aedes = null;
      this.server = null;
      throw e;
    }
    this.log.info({ port: this.port }, 'local broker listening');
  }

  /** Publishes from the agent itself (e.g. local advice for roadside signs). */
  publish(topic: string, payload: string, retain: boolean): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.resolve();
    return new Promise((resolve, reject) =>
      aedes.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  /** Stop accepting: close the listener and every client connection. */
  async stop(): Promise<void> {
    const server = this.server;
    const aedes = this.aedes;
    this.server = null;
    this.aedes = null;
    // server.close() only stops accepting; it resolves once aedes has closed every client.
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    if (aedes) await new Promise<void>((r) => aedes.close(() => r()));
    await closed;
  }
}
