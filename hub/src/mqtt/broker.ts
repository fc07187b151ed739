import { type Server, type Socket, createServer } from 'node:net';
import { type TLSSocket, createServer as createTlsServer } from 'node:tls';
import {
  BrokerGuard,
  type BrokerRefusal,
  CityFlowError,
  MQTT_LIMITS,
  isValidId,
  parseTopic,
  safeEqual,
} from '@cityflow/protocol';
import { Aedes, type AuthenticateError } from 'aedes';
import type { Logger } from 'pino';
import { HUB_USERNAME, agentClientId, agentMayPublish, agentMaySubscribe } from './acl.js';

export type AgentVerdict = 'ok' | 'bad' | 'disabled';

export interface BrokerAuth {
  verifyAgent(username: string, password: string): Promise<AgentVerdict>;
  /** secret of the hub's own clients (random per process for the embedded broker) */
  hubSecret: string;
}

export interface EmbeddedBrokerOptions {
  host: string;
  /** plaintext port (MQTT_PORT) */
  port: number;
  /** false: no plaintext for agents; the hub's own clients use a loopback-only listener */
  plaintext: boolean;
  /** the mqtts listener; `ca` set = agents must present a certificate from it whose CN is their id */
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; port: number };
  maxConnections: number;
  publishRatePerS: number;
  onRefuse(reason: BrokerRefusal): void;
}

const authError = (msg: string, code: number): AuthenticateError =>
  Object.assign(new Error(msg), { returnCode: code }) as AuthenticateError;

/** a connection slot only this long before CONNECT, and a TLS handshake only this long (Node: 120 s) */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The embedded broker (aedes): authenticates agents by their credentials (and, with mutual TLS, their
 * certificate), lets each one publish and subscribe only under its own id (protocol semantics, point 1),
 * and guards every listener (packet size before the parser, connections, per-agent publish rate).
 */
export class EmbeddedBroker {
  private aedes: Aedes | null = null;
  private servers: Server[] = [];
  /** connections of the loopback listener that only the hub's own clients may use */
  private readonly internal = new WeakSet<object>();
  /** plaintext port (the loopback-only one when plaintext is off) */
  port = 0;
  tlsPort = 0;

  constructor(
    private readonly opts: EmbeddedBrokerOptions,
    private readonly auth: BrokerAuth,
    private readonly log: Logger,
  ) {}

  /** where the hub's own client connects: always plaintext on loopback (never leaves the host) */
  get internalUrl(): string {
    const h =
      this.opts.host === '0.0.0.0' || this.opts.host === '::' || !this.opts.plaintext
        ? '127.0.0.1'
        : this.opts.host;
    return `mqtt://${h}:${this.port}`;
  }

  private refuse(reason: BrokerRefusal, detail: Record<string, unknown> = {}): void {
    this.log.debug({ reason, ...detail }, 'broker refused');
    this.opts.onRefuse(reason);
  }

  async start(): Promise<void> {
    const guard = new BrokerGuard({
      maxPacketBytes: MQTT_LIMITS.hubPacketMaxBytes,
      maxConnections: this.opts.maxConnections,
      publishRatePerS: this.opts.publishRatePerS,
      onRefuse: (r) => this.refuse(r),
    });
    const mutual = this.opts.tls?.ca !== undefined;
    const aedes = await Aedes.createBroker({
      connectTimeout: CONNECT_TIMEOUT_MS,
      authenticate: (client, username, password, done) => {
        const pw = password?.toString('utf8') ?? '';
        if (username === HUB_USERNAME) {
          if (client.id.startsWith('hub:') && safeEqual(pw, this.auth.hubSecret)) {
            // the hub's own clients publish configs (network slices) of any size
            guard.setMaxPacketBytes(client.conn, Number.MAX_SAFE_INTEGER);
            return done(null, true);
          }
          this.refuse('auth');
          return done(authError('bad hub credentials', 4), false);
        }
        if (this.internal.has(client.conn)) {
          this.refuse('auth');
          return done(authError('this listener is for the hub itself', 5), false);
        }
        if (!username || !isValidId(username) || client.id !== agentClientId(username)) {
          this.refuse('auth');
          return done(authError('clientId must be agent:<username>', 2), false);
        }
        if (mutual && (client.conn as TLSSocket).getPeerCertificate?.()?.subject?.CN !== username) {
          this.refuse('auth', { agent_id: username });
          return done(authError('client certificate CN must be the agent id', 5), false);
        }
        this.auth
          .verifyAgent(username, pw)
          .then((v) => {
            if (v === 'ok') return done(null, true);
            this.refuse(v === 'disabled' ? 'disabled' : 'auth', { agent_id: username });
            done(
              authError(
                v === 'disabled' ? 'agent disabled' : 'bad username or password',
                v === 'disabled' ? 5 : 4,
              ),
              false,
            );
          })
          .catch((e) => {
            this.log.error({ err: (e as Error).message }, 'agent authentication failed on a database error');
            done(authError('server unavailable', 3), false);
          });
      },
      authorizePublish: (client, packet, cb) => {
        if (!client) return cb(null);
        const agentId = this.agentOf(client.id);
        if (agentId === null) return cb(null);
        if (!guard.allowPublish(client.conn)) return cb(new Error('publish rate exceeded'));
        if (!agentMayPublish(agentId, packet.topic)) {
          this.log.warn(
            { agent_id: agentId, topic: packet.topic, code: 'CF_NOT_AUTHORIZED' },
            'publish refused',
          );
          return cb(new Error('CF_NOT_AUTHORIZED'));
        }
        // aedes keeps retained messages in memory: an agent may retain only its status (one message).
        if (packet.retain && parseTopic(packet.topic)?.kind !== 'status') {
          this.refuse('retained', { agent_id: agentId, topic: packet.topic });
          return cb(new Error('only the status topic may be retained'));
        }
        cb(null);
      },
      authorizeSubscribe: (client, sub, cb) => {
        const agentId = this.agentOf(client.id);
        if (agentId === null || agentMaySubscribe(agentId, sub.topic)) return cb(null, sub);
        this.log.warn(
          { agent_id: agentId, filter: sub.topic, code: 'CF_NOT_AUTHORIZED' },
          'subscribe refused',
        );
        // A negative SUBACK (0x80) for this filter; the connection stays up (MQTT 3.1.1 §3.9.3).
        cb(null, null);
      },
    });
    aedes.on('clientError', (client, err) =>
      this.log.debug({ client: client.id, err: err.message }, 'mqtt client error'),
    );
    this.aedes = aedes;
    const handle = (conn: Socket, internal: boolean) => {
      if (internal) this.internal.add(conn);
      aedes.handle(guard.scan(conn));
    };
    try {
      const plainHost = this.opts.plaintext ? this.opts.host : '127.0.0.1';
      const plainPort = this.opts.plaintext ? this.opts.port : 0;
      const plain = createServer((s) => {
        if (guard.admit(s)) handle(s, !this.opts.plaintext);
      });
      this.port = await this.listen(plain, plainPort, plainHost, 'MQTT_PORT');
      const tls = this.opts.tls;
      if (tls) {
        const secure = createTlsServer({
          cert: tls.cert,
          key: tls.key,
          ca: tls.ca,
          requestCert: tls.ca !== undefined,
          rejectUnauthorized: true,
          handshakeTimeout: CONNECT_TIMEOUT_MS,
        });
        // the connection limit counts raw sockets, so unfinished handshakes take slots too
        secure.on('connection', (raw: Socket) => void guard.admit(raw));
        secure.on('secureConnection', (s) => handle(s, false));
        secure.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'mqtts handshake failed'));
        this.tlsPort = await this.listen(secure, tls.port, this.opts.host, 'MQTT_TLS_PORT');
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async listen(server: Server, port: number, host: string, name: string): Promise<number> {
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE'
            ? new CityFlowError('CF_PORT_IN_USE', `${name} ${port} is already in use (embedded MQTT broker)`)
            : e,
        ),
      );
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  /** agent id of a client, or null for the hub's own clients */
  private agentOf(clientId: string): string | null {
    return clientId.startsWith('hub:') ? null : clientId.slice('agent:'.length);
  }

  /**
   * Ends the agent's live session now (credentials rotated, agent disabled): its next CONNECT is
   * authenticated again. The broker publishes its last will, so the hub marks it offline.
   */
  disconnectAgent(agentId: string): boolean {
    // `clients` (id -> connected client) is public in aedes but missing from its type definitions.
    const clients = (this.aedes as unknown as { clients?: Record<string, { close(): void }> } | null)
      ?.clients;
    const client = clients?.[agentClientId(agentId)];
    if (!client) return false;
    client.close();
    return true;
  }

  async stop(): Promise<void> {
    const aedes = this.aedes;
    const servers = this.servers;
    this.aedes = null;
    this.servers = [];
    // close() stops accepting; aedes.close ends every client connection so the servers can finish.
    for (const s of servers) s.close();
    if (aedes) await new Promise<void>((r) => aedes.close(() => r()));
  }
}
