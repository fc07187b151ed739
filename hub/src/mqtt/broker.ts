import { type Server, createServer } from 'node:net';
import { CityFlowError, isValidId, safeEqual } from '@cityflow/protocol';
import { Aedes, type AuthenticateError } from 'aedes';
import type { Logger } from 'pino';
import { HUB_USERNAME, agentClientId, agentMayPublish, agentMaySubscribe } from './acl.js';

export interface BrokerAuth {
  /** agent id for valid credentials, else null */
  verifyAgent(username: string, password: string): Promise<string | null>;
  /** secret of the hub's own clients (random per process for the embedded broker) */
  hubSecret: string;
}

const authError = (msg: string, code: number): AuthenticateError =>
  Object.assign(new Error(msg), { returnCode: code }) as AuthenticateError;

/**
 * The embedded broker (aedes on MQTT_PORT): authenticates agents by their credentials, and lets each one
 * publish and subscribe only under its own id (protocol semantics, point 1).
 */
export class EmbeddedBroker {
  private aedes: Aedes | null = null;
  private server: Server | null = null;
  port = 0;

  constructor(
    private readonly requestedPort: number,
    private readonly host: string,
    private readonly auth: BrokerAuth,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const pw = password?.toString('utf8') ?? '';
        if (username === HUB_USERNAME) {
          if (client.id.startsWith('hub:') && safeEqual(pw, this.auth.hubSecret)) return done(null, true);
          return done(authError('bad hub credentials', 4), false);
        }
        if (!username || !isValidId(username) || client.id !== agentClientId(username))
          return done(authError('clientId must be agent:<username>', 2), false);
        this.auth
          .verifyAgent(username, pw)
          .then((id) => (id ? done(null, true) : done(authError('bad username or password', 4), false)))
          .catch((e) => {
            this.log.error({ err: (e as Error).message }, 'agent authentication failed on a database error');
            done(authError('server unavailable', 3), false);
          });
      },
      authorizePublish: (client, packet, cb) => {
        if (!client) return cb(null);
        const agentId = this.agentOf(client.id);
        if (agentId === null) return cb(null);
        if (agentMayPublish(agentId, packet.topic)) return cb(null);
        this.log.warn(
          { agent_id: agentId, topic: packet.topic, code: 'CF_NOT_AUTHORIZED' },
          'publish refused',
        );
        cb(new Error('CF_NOT_AUTHORIZED'));
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
    const server = createServer(aedes.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE'
            ? new CityFlowError(
                'CF_PORT_IN_USE',
                `MQTT_PORT ${this.requestedPort} is already in use (embedded MQTT broker)`,
              )
            : e,
        ),
      );
      server.listen(this.requestedPort, this.host, () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.requestedPort;
  }

  /** agent id of a client, or null for the hub's own clients */
  private agentOf(clientId: string): string | null {
    return clientId.startsWith('hub:') ? null : clientId.slice('agent:'.length);
  }

  async stop(): Promise<void> {
    const aedes = this.aedes;
    const server = this.server;
    this.aedes = null;
    this.server = null;
    if (server) {
      server.close();
      // aedes.close ends every client connection so server.close can complete.
    }
    if (aedes) await new Promise<void>((r) => aedes.close(() => r()));
  }
}
