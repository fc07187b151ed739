import { type AgentStatus, topics } from '@cityflow/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../logger.js';
import { redactUrl } from '../redact.js';
import { fullJitterDelay } from './backoff.js';

export interface HubLinkOptions {
  url: string;
  agentId: string;
  username?: string;
  password?: string;
  /** mqtts://: PEM contents. `ca` replaces the system CAs (pinning); `cert` + `key` = mutual TLS. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  version: string;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** the backoff resets only after a connection stayed up this long (default 30 s) */
  stableMs?: number;
  /** clock for the stability rule (tests) */
  now?: () => number;
}

export interface HubLinkHandlers {
  connected(): void;
  /** SUBACK received: retained acks/config follow right behind it (MQTT-3.3.1-6). */
  subscribed(): void;
  disconnected(): void;
  /** `retained`: replayed by the broker from the past (e.g. the last ack), not sent just now */
  message(topic: string, payload: Buffer, retained: boolean): void;
  /** a reconnect attempt starts (after the backoff delay) */
  reconnecting?(): void;
}

/**
 * The MQTT connection to the hub. mqtt.js's own reconnect uses a fixed period, so it is off
 * (`reconnectPeriod: 0`) and this class reconnects with exponential backoff and full jitter; the
 * attempt count resets only after a connection stayed up `stableMs`, so a flapping link backs off.
 * Clean sessions: anything in flight when the link drops is resent from the outbox, not by mqtt.js.
 */
/** Connection errors before a first connection within this long after start are logged at debug. */
const STARTUP_QUIET_MS = 20_000;

export class HubLink {
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private connectedAtMs = 0;
  private stopping = false;
  connected = false;
  reconnects = 0;
  lastError: string | null = null;
  private lastWarned: string | null = null;
  private everConnected = false;
  private startedAtMs = 0;

  constructor(
    private readonly opts: HubLinkOptions,
    private readonly handlers: HubLinkHandlers,
    private readonly log: Logger,
  ) {}

  private status(state: 'online' | 'offline', reason?: string): string {
    const s: AgentStatus = {
      v: 1,
      agent_id: this.opts.agentId,
      state,
      ts: new Date().toISOString(),
      version: this.opts.version,
    };
    if (reason) s.reason = reason;
    return JSON.stringify(s);
  }

  /** consecutive reconnects without a stable connection (drives the backoff delay) */
  get backoffAttempt(): number {
    return this.attempt;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  start(): void {
    this.startedAtMs = this.now();
    const { agentId } = this.opts;
    const client = mqtt.connect(this.opts.url, {
      clientId: `agent:${agentId}`,
      username: this.opts.username,
      password: this.opts.password,
      ...this.opts.tls,
      // Never downgraded: a hub certificate that does not chain to the CA, has expired or names another
      // host ends the attempt (reported in lastError and status), and the backoff retries.
      rejectUnauthorized: true,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      queueQoSZero: false,
      will: {
        topic: topics.status(agentId),
        payload: Buffer.from(this.status('offline', 'connection lost')),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    client.on('connect', () => {
      // No backoff reset here: a link that connects and drops at once must keep backing off.
      this.connectedAtMs = this.now();
      this.connected = true;
      this.everConnected = true;
      this.lastError = null;
      this.lastWarned = null;
      this.log.info({ url: redactUrl(this.opts.url) }, 'hub connected');
      client.subscribe(
        [
          topics.ackWildcard(agentId),
          topics.config(agentId),
          topics.advice(agentId),
          topics.diagRequest(agentId),
        ],
        { qos: 1 },
        (err) => {
          if (err) this.log.warn({ err: err.message }, 'hub subscribe failed');
          else this.safe(() => this.handlers.subscribed());
        },
      );
      client.publish(topics.status(agentId), this.status('online'), { qos: 1, retain: true });
      this.safe(() => this.handlers.connected());
    });
    client.on('message', (topic, payload, packet) =>
      this.safe(() => this.handlers.message(topic, payload, packet.retain === true)),
    );
    client.on('error', (err) => {
      this.lastError = err.message;
      // Not news: the same error on every retry of a long outage (warned once), or a hub refusing
      // in the agent's first seconds (both often start together, as in the demo). Still in status.
      const starting = !this.everConnected && this.now() - this.startedAtMs < STARTUP_QUIET_MS;
      const repeated = err.message === this.lastWarned;
      if (starting || repeated) this.log.debug({ err: err.message }, 'hub link error');
      else {
        this.lastWarned = err.message;
        this.log.warn({ err: err.message }, 'hub link error');
      }
    });
    client.on('close', () => {
      if (this.connected) {
        if (this.now() - this.connectedAtMs >= (this.opts.stableMs ?? 30_000)) this.attempt = 0;
        this.connected = false;
        this.log.warn('hub disconnected');
        this.safe(() => this.handlers.disconnected());
      }
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.timer) return;
    const delay = fullJitterDelay(this.attempt++, this.opts.backoffBaseMs, this.opts.backoffMaxMs);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopping || !this.client) return;
      this.reconnects++;
      this.safe(() => this.handlers.reconnecting?.());
      this.client.reconnect();
    }, delay);
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e }, 'hub link handler failed');
    }
  }

  /** QoS 1 publish; resolves on PUBACK. Rejects when the link is down (the outbox will resend). */
  publish(topic: string, payload: string | Buffer, qos: 0 | 1, retain = false): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return Promise.reject(new Error('hub link is down'));
    return new Promise((resolve, reject) =>
      client.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Graceful: publish `offline` (the will only fires on an unclean loss), then disconnect. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (this.connected) {
      await Promise.race([
        new Promise<void>((r) =>
          client.publish(
            topics.status(this.opts.agentId),
            this.status('offline', 'stopped'),
            { qos: 1, retain: true },
            () => r(),
          ),
        ),
        new Promise<void>((r) => setTimeout(r, 2000)),
      ]);
    }
    this.connected = false;
    // end(false) waits for in-flight QoS 1 PUBACKs, which never come on a dead link: bound it, then force.
    // Nothing is lost by forcing: unacked outbox rows are resent on the next start.
    const ended = await Promise.race([
      new Promise<boolean>((r) => client.end(false, {}, () => r(true))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
    ]);
    if (!ended) await new Promise<void>((r) => client.end(true, {}, () => r()));
  }
}
